// The bundle file format (docs/bundles.md): writing lines and reading them
// back, every field checked.
#include "bundle_format.hpp"

#include "digest.hpp"
#include "json.hpp"
#include "names.hpp"

#include <spinner_rollback/version.hpp>

#include <istream>
#include <ostream>

namespace spinner_rollback::detail {

namespace {

constexpr std::size_t kMaxLine = 64u << 20; // one core, map or secret is at most a few MiB
constexpr const char *kStatus[] = {"pending", "active", "failed", "superseded"};
constexpr const char *kReason[] = {"deploy", "rollback", "reenabled"};
constexpr const char *kKind[] = {"", "core", "map", "secret"};

[[noreturn]] void refuse(std::int64_t line, const std::string &why) {
    throw Error(ErrorCode::invalid, "bundle line " + std::to_string(line) + ": " + why,
                "bundle:" + std::to_string(line));
}

bool is_hex64(std::string_view s) {
    return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

// One line's object, with accessors that refuse naming the line and field.
class Line {
public:
    Line(std::int64_t n, const json::object &o) : n_(n), o_(o) {}
    std::int64_t number() const { return n_; }
    const json::value *find(std::string_view k) const { return o_.if_contains(k); }
    const json::value &at(std::string_view k) const {
        auto *v = o_.if_contains(k);
        if (!v) refuse(n_, "\"" + std::string(k) + "\" is missing");
        return *v;
    }
    std::string str(std::string_view k, std::size_t max = 1u << 20) const {
        const auto &v = at(k);
        if (!v.is_string() || v.get_string().size() > max)
            refuse(n_, "\"" + std::string(k) + "\" must be a string of at most " + std::to_string(max) + " bytes");
        return std::string(v.get_string());
    }
    std::optional<std::string> opt_str(std::string_view k, std::size_t max = 1u << 20) const {
        auto *v = find(k);
        if (!v || v->is_null()) return std::nullopt;
        return str(k, max);
    }
    std::int64_t integer(std::string_view k, std::int64_t lo, std::int64_t hi) const {
        const auto &v = at(k);
        if (!v.is_int64() || v.get_int64() < lo || v.get_int64() > hi)
            refuse(n_, "\"" + std::string(k) + "\" must be an integer " + std::to_string(lo) + "-" + std::to_string(hi));
        return v.get_int64();
    }
    bool boolean(std::string_view k) const {
        const auto &v = at(k);
        if (!v.is_bool()) refuse(n_, "\"" + std::string(k) + "\" must be true or false");
        return v.get_bool();
    }
    std::string hex(std::string_view k) const {
        std::string s = str(k, 64);
        if (!is_hex64(s)) refuse(n_, "\"" + std::string(k) + "\" must be 64 lowercase hex digits");
        return s;
    }
    std::string base64(std::string_view k) const {
        std::string s = str(k, kMaxLine);
        std::string out(s.size(), '\0');
        std::size_t len = 0;
        if (sodium_base642bin(reinterpret_cast<unsigned char *>(out.data()), out.size(), s.data(), s.size(), nullptr,
                              &len, nullptr, sodium_base64_VARIANT_ORIGINAL) != 0)
            refuse(n_, "\"" + std::string(k) + "\" must be base64");
        out.resize(len);
        return out;
    }
    std::size_t index_of(std::string_view k, const char *const *names, std::size_t n) const {
        const std::string s = str(k, 32);
        for (std::size_t i = 0; i < n; ++i)
            if (s == names[i]) return i;
        refuse(n_, "\"" + std::string(k) + "\" has an unknown value \"" + s + "\"");
    }
    // A member holding a JSON array, stored as its text; empty when null or absent.
    std::string array_text(std::string_view k) const {
        auto *v = find(k);
        if (!v || v->is_null()) return {};
        if (!v->is_array()) refuse(n_, "\"" + std::string(k) + "\" must be an array or null");
        return dump(*v);
    }
    void only(std::initializer_list<std::string_view> allowed) const {
        for (const auto &kv : o_) {
            bool ok = false;
            for (auto a : allowed) ok = ok || kv.key() == a;
            if (!ok) refuse(n_, "unknown field \"" + std::string(kv.key()) + "\"");
        }
    }

private:
    std::int64_t n_;
    const json::object &o_;
};

json::value text_or_null(const std::string &s) { return s.empty() ? json::value(nullptr) : json::value(s); }

json::value stored_json(const std::string &text) {
    if (text.empty()) return nullptr;
    boost::system::error_code ec;
    json::value v = json::parse(text, ec);
    if (ec) throw Error(ErrorCode::corrupt, "a version holds malformed JSON");
    return v;
}

} // namespace

std::string to_base64(std::string_view bytes) {
    std::string out(sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
    sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char *>(bytes.data()), bytes.size(),
                      sodium_base64_VARIANT_ORIGINAL);
    out.resize(out.size() - 1); // the terminating NUL
    return out;
}

// ---- writing -------------------------------------------------------------------

BundleWriter::BundleWriter(std::ostream &out) : out_(out) { crypto_hash_sha256_init(&hash_); }

void BundleWriter::line(const json::object &o) {
    std::string text = dump(o);
    text += '\n';
    crypto_hash_sha256_update(&hash_, reinterpret_cast<const unsigned char *>(text.data()), text.size());
    out_.write(text.data(), static_cast<std::streamsize>(text.size()));
    ++lines_;
    if (!out_) throw Error(ErrorCode::io, "cannot write the bundle", "path");
}

void BundleWriter::header(const BundleHeader &h) {
    line({{"bundle", "spinner_rollback"},
          {"format", h.format},
          {"storeId", h.store_id},
          {"libraryVersion", h.library_version},
          {"createdAt", h.created_at}});
}

void BundleWriter::keys(const BundleKeys &k) {
    line({{"keys", json::object{{"dataKey", to_base64(k.data_key)}, {"macKey", to_base64(k.mac_key)}}}});
}

void BundleWriter::blob(const BundleBlob &b) {
    json::object o{{"blob", b.id}, {"kind", kKind[static_cast<int>(b.kind)]}};
    if (b.kind == BlobKind::secret) o["sealed"] = to_base64(b.data);
    else o["text"] = b.data;
    line(o);
}

void BundleWriter::spinner(const BundleSpinner &s) {
    const SpinnerRow &r = s.row;
    line({{"spinner", r.name},
          {"enabled", r.enabled},
          {"historyLimit", r.history_limit},
          {"lastNumber", r.last_number},
          {"currentNumber", r.current},
          {"latestCore", text_or_null(r.latest_core)},
          {"updatedAt", r.updated_at},
          {"tagged", s.tagged}});
    for (const VersionRow &v : s.versions) {
        json::object o{{"version", v.number},
                       {"createdAt", v.created_at},
                       {"author", v.author},
                       {"message", v.message},
                       {"reason", kReason[static_cast<int>(v.reason)]},
                       {"reasons", stored_json(v.reasons_text)},
                       {"summary", v.summary},
                       {"digest", "sha256:" + v.core},
                       {"rollbackOf", v.rollback_of ? json::value(*v.rollback_of) : json::value(nullptr)},
                       {"status", kStatus[static_cast<int>(v.status)]},
                       {"tags", stored_json(v.tags_text)},
                       {"notes", stored_json(v.notes_text)},
                       {"scope", stored_json(v.scope_text)},
                       {"replacedAt", text_or_null(v.replaced_at)}};
        line(o);
    }
    for (const BundleTag &t : s.tags)
        line({{"tag", t.name}, {"version", t.number}, {"note", t.note}, {"author", t.author}, {"createdAt", t.created_at}});
    for (const BundleBinding &b : s.bindings)
        line({{"binding", b.name}, {"volumeId", b.volume_id}, {"lastNumber", b.last_number}});
}

void BundleWriter::snapshot(const Snapshot &s) {
    line({{"snapshot", json::parse(s.to_json())}});
}

void BundleWriter::finish() {
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final(&hash_, h);
    const std::int64_t lines = lines_ + 1;
    line({{"end", json::object{{"lines", lines},
                               {"sha256", to_hex(std::string_view(reinterpret_cast<const char *>(h), sizeof h))}}}});
    out_.flush();
    if (!out_) throw Error(ErrorCode::io, "cannot write the bundle", "path");
}

// ---- reading -------------------------------------------------------------------

namespace {

BundleHeader read_header(const Line &l) {
    if (!l.find("bundle")) refuse(l.number(), "not a spinner_rollback bundle (no header line)");
    if (l.str("bundle", 64) != "spinner_rollback") refuse(l.number(), "not a spinner_rollback bundle");
    BundleHeader h;
    h.format = l.integer("format", 1, std::numeric_limits<std::int64_t>::max());
    if (h.format > kBundleFormat)
        refuse(l.number(), "bundle format " + std::to_string(h.format) + " is newer than this library reads (" +
                               std::to_string(kBundleFormat) + "); upgrade spinner_rollback");
    l.only({"bundle", "format", "storeId", "libraryVersion", "createdAt"});
    h.store_id = l.str("storeId", 64);
    h.library_version = l.str("libraryVersion", 64);
    h.created_at = l.str("createdAt", 64);
    return h;
}

BundleSpinner read_spinner(const Line &l) {
    l.only({"spinner", "enabled", "historyLimit", "lastNumber", "currentNumber", "latestCore", "updatedAt", "tagged"});
    BundleSpinner s;
    s.line = l.number();
    s.row.name = l.str("spinner", 63);
    try {
        check_spinner_name(s.row.name);
    } catch (const Error &e) {
        refuse(l.number(), e.what());
    }
    s.row.enabled = l.boolean("enabled");
    s.row.history_limit = l.integer("historyLimit", 1, 1000000);
    s.row.last_number = l.integer("lastNumber", 0, std::numeric_limits<std::int64_t>::max() / 2);
    s.row.current = l.integer("currentNumber", 0, s.row.last_number);
    if (l.find("latestCore") && !l.at("latestCore").is_null()) s.row.latest_core = l.hex("latestCore");
    s.row.updated_at = l.str("updatedAt", 64);
    s.tagged = l.integer("tagged", 0, 1000000);
    return s;
}

VersionRow read_version(const Line &l, const BundleSpinner &s) {
    l.only({"version", "createdAt", "author", "message", "reason", "reasons", "summary", "digest", "rollbackOf",
            "status", "tags", "notes", "scope", "replacedAt"});
    VersionRow v;
    v.number = l.integer("version", 1, s.row.last_number);
    if (!s.versions.empty() && v.number <= s.versions.back().number)
        refuse(l.number(), "versions must be listed in increasing order");
    v.created_at = l.str("createdAt", 64);
    v.author = l.str("author", 4096);
    v.message = l.str("message", 1u << 16);
    v.reason = static_cast<VersionReason>(l.index_of("reason", kReason, 3));
    v.reasons_text = l.array_text("reasons");
    if (v.reasons_text.empty()) refuse(l.number(), "\"reasons\" must be an array");
    v.summary = l.str("summary", 1u << 16);
    const std::string digest = l.str("digest", 71);
    if (!digest.starts_with("sha256:") || !is_hex64(std::string_view(digest).substr(7)))
        refuse(l.number(), "\"digest\" must be sha256: and 64 lowercase hex digits");
    v.core = digest.substr(7);
    if (auto *r = l.find("rollbackOf"); r && !r->is_null()) v.rollback_of = l.integer("rollbackOf", 1, v.number - 1);
    v.status = static_cast<RolloutStatus>(l.index_of("status", kStatus, 4));
    v.tags_text = l.array_text("tags");
    v.notes_text = l.array_text("notes");
    if (auto *sc = l.find("scope"); sc && !sc->is_null()) v.scope_text = dump(*sc); // checked by the importer
    v.replaced_at = l.opt_str("replacedAt", 64).value_or("");
    return v;
}

} // namespace

Bundle read_bundle(std::istream &in) {
    Bundle b;
    crypto_hash_sha256_state hash;
    crypto_hash_sha256_init(&hash);
    std::int64_t n = 0;
    bool ended = false, snapshots_started = false;
    std::string text;
    enum class Section { header, keys, blobs, spinners, snapshots } at = Section::header;
    while (std::getline(in, text)) {
        ++n;
        if (ended) refuse(n, "a line after the end line");
        if (text.size() > kMaxLine) refuse(n, "line longer than 64 MiB");
        json::value v;
        try {
            v = parse_strict(text, "line", {kMaxLine, 64, kMaxLine});
        } catch (const Error &e) {
            refuse(n, std::string("not JSON: ") + e.what());
        }
        if (!v.is_object()) refuse(n, "must be a JSON object");
        const Line l(n, v.get_object());
        if (at == Section::header) {
            b.header = read_header(l);
            at = Section::keys;
        } else if (l.find("end")) {
            const auto &e = l.at("end");
            if (!e.is_object()) refuse(n, "\"end\" must be an object");
            l.only({"end"});
            const Line end(n, e.get_object());
            end.only({"lines", "sha256"});
            if (end.integer("lines", 1, std::numeric_limits<std::int64_t>::max()) != n)
                refuse(n, "the end line counts another number of lines: the bundle was cut or spliced");
            unsigned char h[crypto_hash_sha256_BYTES];
            crypto_hash_sha256_final(&hash, h);
            if (end.hex("sha256") != to_hex(std::string_view(reinterpret_cast<const char *>(h), sizeof h)))
                refuse(n, "the bundle's sha256 does not match its end line: it was altered");
            ended = true;
            continue;
        } else if (l.find("keys")) {
            if (at != Section::keys) refuse(n, "the keys line must follow the header");
            const auto &k = l.at("keys");
            if (!k.is_object()) refuse(n, "\"keys\" must be an object");
            l.only({"keys"});
            const Line kl(n, k.get_object());
            kl.only({"dataKey", "macKey"});
            b.keys = BundleKeys{kl.base64("dataKey"), kl.base64("macKey")};
            at = Section::blobs;
        } else if (l.find("blob")) {
            if (at != Section::keys && at != Section::blobs && at != Section::spinners)
                refuse(n, "a blob line after the snapshots");
            l.only({"blob", "kind", "text", "sealed"});
            BundleBlob blob;
            blob.line = n;
            blob.id = l.hex("blob");
            blob.kind = static_cast<BlobKind>(l.index_of("kind", kKind + 1, 3) + 1);
            if (blob.kind == BlobKind::secret) {
                if (!b.keys) refuse(n, "a secret in a bundle without keys");
                blob.data = l.base64("sealed");
            } else {
                blob.data = l.str("text", kMaxLine);
            }
            b.blobs.push_back(std::move(blob));
            if (at == Section::keys) at = Section::blobs;
        } else if (l.find("spinner")) {
            if (snapshots_started) refuse(n, "a spinner line after the snapshots");
            BundleSpinner s = read_spinner(l);
            for (const auto &o : b.spinners)
                if (o.row.name == s.row.name) refuse(n, "spinner \"" + s.row.name + "\" appears twice");
            b.spinners.push_back(std::move(s));
            at = Section::spinners;
        } else if (l.find("version") || l.find("tag") || l.find("binding")) {
            if (at != Section::spinners || b.spinners.empty()) refuse(n, "a version, tag or binding before any spinner");
            BundleSpinner &s = b.spinners.back();
            if (l.find("tag")) {
                l.only({"tag", "version", "note", "author", "createdAt"});
                BundleTag t;
                t.name = l.str("tag", 63);
                t.number = l.integer("version", 1, s.row.last_number);
                t.note = l.str("note", 4096);
                t.author = l.str("author", 4096);
                t.created_at = l.str("createdAt", 64);
                s.tags.push_back(std::move(t));
            } else if (l.find("binding")) {
                l.only({"binding", "volumeId", "lastNumber"});
                BundleBinding bd;
                bd.name = l.str("binding", 253);
                bd.volume_id = l.str("volumeId", 253);
                bd.last_number = l.integer("lastNumber", 1, s.row.last_number);
                s.bindings.push_back(std::move(bd));
            } else {
                if (!s.tags.empty() || !s.bindings.empty()) refuse(n, "versions must come before tags and bindings");
                s.versions.push_back(read_version(l, s));
            }
        } else if (l.find("snapshot")) {
            l.only({"snapshot"});
            try {
                b.snapshots.push_back(Snapshot::from_json(dump(l.at("snapshot"))));
            } catch (const Error &e) {
                refuse(n, "snapshot: " + std::string(e.what()) + (e.path().empty() ? "" : " at " + e.path()));
            }
            snapshots_started = true;
            at = Section::snapshots;
        } else {
            refuse(n, "unknown kind of line");
        }
        text += '\n';
        crypto_hash_sha256_update(&hash, reinterpret_cast<const unsigned char *>(text.data()), text.size());
    }
    if (n == 0) refuse(1, "the bundle is empty");
    if (!ended) refuse(n, "the bundle ends without its end line: it was cut short");
    return b;
}

} // namespace spinner_rollback::detail
