// Tags and notes that operators put on versions (docs/retention.md): the
// tags table is the truth, each version row carries its tags and notes as
// JSON for listings, and the spinner row counts its tagged versions.
#include "history.hpp"

#include "clock.hpp"
#include "json.hpp"
#include "names.hpp"

namespace spinner_rollback::detail {

namespace {

// Bounds on what operators attach to one version.
constexpr std::int64_t kMaxTagsPerVersion = 16;
constexpr std::size_t kMaxNotesPerVersion = 100;

} // namespace

std::optional<std::int64_t> History::tag_number(const SpinnerRow &s, std::string_view name) {
    if (!is_utf8(name)) throw Error(ErrorCode::invalid, "a tag name must be UTF-8 text", "name");
    Stmt st(db_, "SELECT number FROM tags WHERE spinner_id=? AND name=?");
    st.bind(1, s.id).bind(2, name);
    if (!st.step()) return std::nullopt;
    return st.i64(0);
}

void History::sync_tags(const SpinnerRow &s, std::int64_t number) {
    json::array tags;
    {
        Stmt st(db_, "SELECT name, note, author, created_at FROM tags WHERE spinner_id=? AND number=? ORDER BY name");
        st.bind(1, s.id).bind(2, number);
        while (st.step())
            tags.push_back(json::object{
                {"name", st.text(0)}, {"note", st.text(1)}, {"author", st.text(2)}, {"createdAt", st.text(3)}});
    }
    {
        Stmt st(db_, "UPDATE versions SET tags=? WHERE spinner_id=? AND number=?");
        if (tags.empty()) st.bind_null(1); else st.bind(1, dump(tags));
        st.bind(2, s.id).bind(3, number).run();
    }
    Stmt st(db_, "UPDATE spinners SET tagged=(SELECT count(DISTINCT number) FROM tags WHERE spinner_id=?) WHERE id=?");
    st.bind(1, s.id).bind(2, s.id).run();
}

void History::put_tag(const SpinnerRow &s, std::int64_t number, const TagRequest &t, std::int64_t max_tagged) {
    if (!is_dns_label(t.name))
        throw Error(ErrorCode::invalid, "a tag name must be a DNS-1123 label (1-63 lowercase letters, digits, '-')",
                    "tag.name");
    if (t.note.size() > 4096) throw Error(ErrorCode::invalid, "at most 4096 bytes", "tag.note");
    if (t.author.size() > 256) throw Error(ErrorCode::invalid, "at most 256 bytes", "tag.author");
    const auto holder = tag_number(s, t.name);
    if (holder && *holder != number && !t.move)
        throw Error(ErrorCode::conflict,
                    "tag \"" + t.name + "\" is on version " + std::to_string(*holder) + " of \"" + s.name +
                        "\"; set \"move\": true to move it",
                    "tag.name");
    std::int64_t on_version = 0, tagged = 0, holder_tags = 0;
    {
        Stmt st(db_, "SELECT (SELECT count(*) FROM tags WHERE spinner_id=? AND number=?), "
                     "(SELECT count(DISTINCT number) FROM tags WHERE spinner_id=?), "
                     "(SELECT count(*) FROM tags WHERE spinner_id=? AND number=?)");
        st.bind(1, s.id).bind(2, number).bind(3, s.id).bind(4, s.id).bind(5, holder.value_or(0));
        st.step();
        on_version = st.i64(0);
        tagged = st.i64(1);
        holder_tags = st.i64(2);
    }
    if (holder && *holder == number) {
        Stmt st(db_, "UPDATE tags SET note=?, author=? WHERE spinner_id=? AND name=?");
        st.bind(1, t.note).bind(2, t.author).bind(3, s.id).bind(4, t.name).run();
        sync_tags(s, number);
        events_.append("tag.set", s.name, number, json::object{{"name", t.name}, {"author", t.author}});
        return;
    }
    // A version that gains its first tag counts toward the cap; moving the
    // only tag off another version frees that version's place.
    const std::int64_t after = tagged + (on_version == 0 ? 1 : 0) - (holder && holder_tags == 1 ? 1 : 0);
    if (after > max_tagged)
        throw Error(ErrorCode::conflict,
                    "spinner \"" + s.name + "\" already has " + std::to_string(tagged) +
                        " tagged versions, the most allowed (maxTaggedVersions " + std::to_string(max_tagged) +
                        "); untag one first",
                    "tag");
    if (on_version >= kMaxTagsPerVersion)
        throw Error(ErrorCode::conflict,
                    "version " + std::to_string(number) + " already has " + std::to_string(kMaxTagsPerVersion) +
                        " tags, the most allowed",
                    "tag");
    if (holder) {
        Stmt st(db_, "DELETE FROM tags WHERE spinner_id=? AND name=?");
        st.bind(1, s.id).bind(2, t.name).run();
        sync_tags(s, *holder);
    }
    Stmt st(db_, "INSERT INTO tags(spinner_id, name, number, note, author, created_at) VALUES(?,?,?,?,?,?)");
    st.bind(1, s.id).bind(2, t.name).bind(3, number).bind(4, t.note).bind(5, t.author).bind(6, now_rfc3339()).run();
    sync_tags(s, number);
    json::object data{{"name", t.name}, {"author", t.author}};
    if (holder) data["movedFrom"] = *holder;
    events_.append("tag.set", s.name, number, std::move(data));
}

void History::remove_tag(const SpinnerRow &s, std::string_view name) {
    const auto holder = tag_number(s, name);
    if (!holder)
        throw Error(ErrorCode::not_found,
                    "spinner \"" + s.name + "\" has no tag " + quote(name), "name");
    Stmt st(db_, "DELETE FROM tags WHERE spinner_id=? AND name=?");
    st.bind(1, s.id).bind(2, name).run();
    sync_tags(s, *holder);
    events_.append("tag.removed", s.name, *holder, json::object{{"name", name}});
}

std::vector<Note> History::notes_of(const VersionRow &r) {
    std::vector<Note> out;
    if (r.notes_text.empty()) return out;
    const json::value parsed = json::parse(r.notes_text);
    for (const auto &n : parsed.as_array()) {
        const auto &o = n.as_object();
        out.push_back(Note{std::string(o.at("author").as_string()), std::string(o.at("text").as_string()),
                           std::string(o.at("createdAt").as_string())});
    }
    return out;
}

std::vector<Note> History::add_note(const SpinnerRow &s, const VersionRow &r, const Note &note) {
    if (note.text.empty() || note.text.size() > 4096)
        throw Error(ErrorCode::invalid, "a note's text must be 1-4096 bytes", "note.text");
    if (note.author.size() > 256) throw Error(ErrorCode::invalid, "at most 256 bytes", "note.author");
    std::vector<Note> notes = notes_of(r);
    if (!notes.empty() && notes.back().author == note.author && notes.back().text == note.text) return notes;
    if (notes.size() >= kMaxNotesPerVersion)
        throw Error(ErrorCode::invalid,
                    "version " + std::to_string(r.number) + " already has " + std::to_string(kMaxNotesPerVersion) +
                        " notes, the most allowed",
                    "note");
    notes.push_back(Note{note.author, note.text, now_rfc3339()});
    json::array arr;
    for (const auto &n : notes)
        arr.push_back(json::object{{"author", n.author}, {"text", n.text}, {"createdAt", n.created_at}});
    Stmt st(db_, "UPDATE versions SET notes=? WHERE spinner_id=? AND number=?");
    st.bind(1, dump(arr)).bind(2, s.id).bind(3, r.number).run();
    events_.append("note.added", s.name, r.number, json::object{{"author", note.author}, {"text", note.text}});
    return notes;
}

} // namespace spinner_rollback::detail
