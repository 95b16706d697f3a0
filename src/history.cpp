// The history tables: spinners, versions, requests and volume bindings.
#include "history.hpp"

#include "clock.hpp"
#include "digest.hpp"
#include "names.hpp"
#include "reasons.hpp"
#include "json.hpp"
#include "scope.hpp"

#include <limits>

namespace spinner_rollback::detail {

namespace {

// Requests that created nothing are remembered for the newest 1000 per spinner.
constexpr std::int64_t kRequestWindow = 1000;


constexpr const char *kVersionColumns =
    "SELECT number, created_at, author, message, reason, reasons, summary, core, rollback_of, status, tags, notes, "
    "scope, replaced_at FROM versions";

// A version row from a statement selecting the columns of kVersionColumns,
// starting at column `at`.
VersionRow version_row(const Stmt &st, int at = 0) {
    VersionRow r;
    r.number = st.i64(at);
    r.created_at = st.text(at + 1);
    r.author = st.text(at + 2);
    r.message = st.text(at + 3);
    const std::int64_t reason = st.i64(at + 4), status = st.i64(at + 9);
    if (reason < 0 || reason > 2 || status < 0 || status > 3)
        throw Error(ErrorCode::corrupt, "version row has an invalid reason or status");
    r.reason = static_cast<VersionReason>(reason);
    r.reasons_text = st.text(at + 5);
    r.summary = st.text(at + 6);
    r.core = to_hex(st.blob(at + 7));
    if (!st.is_null(at + 8)) r.rollback_of = st.i64(at + 8);
    r.status = static_cast<RolloutStatus>(status);
    r.tags_text = st.text(at + 10);
    r.notes_text = st.text(at + 11);
    r.scope_text = st.text(at + 12);
    r.replaced_at = st.text(at + 13);
    return r;
}

// A spinner row from a statement selecting kSpinnerColumns first.
constexpr const char *kSpinnerColumns =
    "s.id, s.name, s.enabled, s.history_limit, s.last_number, s.current_number, s.latest_core, s.updated_at";
// The spinner's row joined with some of its versions (columns of
// kSpinnerColumns, then of kVersionColumns from column 8); callers add the
// join condition's tail and the WHERE clause.
const std::string kSpinnerAndVersionColumns =
    std::string("SELECT ") + kSpinnerColumns +
    ", v.number, v.created_at, v.author, v.message, v.reason, v.reasons, v.summary, v.core, v.rollback_of, "
    "v.status, v.tags, v.notes, v.scope, v.replaced_at ";
const std::string kSpinnerJoinVersions =
    kSpinnerAndVersionColumns + "FROM spinners s LEFT JOIN versions v ON v.spinner_id = s.id ";

// The spinner's row with a page of its versions below a number, newest
// first. Parameters: the number, the page size, the spinner's name.
std::string page_sql(const Dialect &d) {
    if (d.lateral)
        return kSpinnerAndVersionColumns +
               "FROM spinners s LEFT JOIN LATERAL (SELECT * FROM versions v WHERE v.spinner_id = s.id "
               "AND v.number < ? ORDER BY v.number DESC LIMIT ?) v ON TRUE WHERE s.name = ? ORDER BY v.number DESC";
    // The same parameters in SQLite's order of appearance: ?1, ?3, ?2.
    return kSpinnerJoinVersions + "AND v.number < ?1 WHERE s.name = ?3 ORDER BY v.number DESC LIMIT ?2";
}

SpinnerRow spinner_row(const Stmt &st) {
    SpinnerRow r;
    r.id = st.i64(0);
    r.name = st.text(1);
    r.enabled = st.i64(2) != 0;
    r.history_limit = st.i64(3);
    r.last_number = st.i64(4);
    r.current = st.i64(5);
    r.latest_core = st.is_null(6) ? std::string() : to_hex(st.blob(6));
    r.updated_at = st.text(7);
    return r;
}

[[noreturn]] void no_such_spinner(std::string_view name) {
    throw Error(ErrorCode::not_found, "no spinner named \"" + std::string(name) + "\"", "spinner");
}

std::int64_t code(VersionReason r) { return static_cast<std::int64_t>(r); }
std::int64_t code(RolloutStatus s) { return static_cast<std::int64_t>(s); }

// A remembered request joined with the version it names (columns of
// kVersionColumns from column 4); callers add FROM/WHERE.
const std::string kRequestColumns =
    "SELECT r.payload, r.outcome, r.number, r.reasons, v.number, v.created_at, v.author, v.message, v.reason, "
    "v.reasons, v.summary, v.core, v.rollback_of, v.status, v.tags, v.notes, v.scope, v.replaced_at ";

StoredRequest stored_request(const Stmt &st) {
    StoredRequest r;
    r.payload = st.text(0);
    r.outcome = st.text(1);
    r.number = st.i64(2);
    r.reasons_text = st.text(3);
    if (!st.is_null(4)) r.version = version_row(st, 4);
    return r;
}

Outcome outcome_named(std::string_view s) {
    for (Outcome o : {Outcome::created, Outcome::unchanged, Outcome::disabled})
        if (s == to_string(o)) return o;
    throw Error(ErrorCode::corrupt, "a stored request has an unknown outcome");
}

} // namespace

void check_spinner_name(std::string_view name) {
    if (!is_dns_label(name))
        throw Error(ErrorCode::invalid,
                    "spinner name must be a DNS-1123 label (1-63 lowercase letters, digits, '-')", "spinner");
}

History::History(Db &db, BlobStore &blobs, EventLog &events)
    : db_(db), blobs_(blobs), events_(events),
      current_and_also_sql_(kSpinnerJoinVersions + "AND " + in_list(db.dialect(), "v.number", "s.current_number, ?") +
                            " WHERE s.name = ?"),
      two_and_current_sql_(kSpinnerJoinVersions + "AND " + in_list(db.dialect(), "v.number", "?, ?, s.current_number") +
                           " WHERE s.name = ?"),
      page_sql_(page_sql(db.dialect())) {}

History::WriteFetch History::fetch_for_write(std::string_view name, const std::string &request_id,
                                             std::optional<std::int64_t> history_limit, std::int64_t also) {
    WriteFetch f;
    f.spinner_ =
        std::make_unique<Stmt>(db_, current_and_also_sql_);
    f.spinner_->bind(1, also).bind(2, name).send();
    if (!request_id.empty()) {
        f.request_ = std::make_unique<Stmt>(
            db_, kRequestColumns + "FROM requests r JOIN spinners s ON r.spinner_id = s.id LEFT JOIN versions v "
                                   "ON v.spinner_id = s.id AND v.number = r.number "
                                   "WHERE s.name = ? AND r.request_id = ?");
        f.request_->bind(1, name).bind(2, request_id).send();
    }
    // Superset of what prune() removes after this write (the number of a
    // new version is last_number + 1), newest first, with the count of
    // untagged versions above them (an index range of the partial index
    // versions_untagged, at most historyLimit entries). Counted, never
    // assumed: a window may hold fewer versions than numbers (a lower
    // historyLimit pruned some, then it was raised).
    f.old_ = std::make_unique<Stmt>(
        db_, "SELECT v.number, v.core, v.tags IS NOT NULL, v.status, "
             "(SELECT count(*) FROM versions w WHERE w.spinner_id = s.id AND w.tags IS NULL "
             "AND w.number >= s.last_number + 1 - COALESCE(?, s.history_limit)) "
             "FROM versions v JOIN spinners s ON v.spinner_id = s.id "
             "WHERE s.name = ? AND v.number < s.last_number + 1 - COALESCE(?, s.history_limit) "
             "AND v.number <> s.current_number ORDER BY v.number DESC");
    for (int i : {1, 3})
        if (history_limit) f.old_->bind(i, *history_limit); else f.old_->bind_null(i);
    f.old_->bind(2, name);
    f.old_->send();
    return f;
}

WriteView History::WriteFetch::take() {
    WriteView w;
    if (spinner_->step()) {
        w.spinner = spinner_row(*spinner_);
        do {
            if (spinner_->is_null(8)) break;
            VersionRow r = version_row(*spinner_, 8);
            (r.number == w.spinner->current ? w.current : w.also) = std::move(r);
        } while (spinner_->step());
    }
    if (request_ && request_->step()) w.request = stored_request(*request_);
    while (old_->step()) {
        w.old_versions.push_back(OldVersion{old_->i64(0), to_hex(old_->blob(1)), old_->i64(2) != 0,
                                            old_->i64(3) == code(RolloutStatus::active)});
        if (!old_->is_null(4)) w.untagged_in_window = old_->i64(4);
    }
    return w;
}

std::optional<SpinnerRow> History::find_spinner(std::string_view name) {
    Stmt st(db_, std::string("SELECT ") + kSpinnerColumns + " FROM spinners s WHERE s.name=?");
    st.bind(1, name);
    if (!st.step()) return std::nullopt;
    return spinner_row(st);
}

std::vector<Version> History::list(std::string_view name, std::int64_t before, std::int64_t limit) {
    check_spinner_name(name);
    // One statement (its own consistent snapshot; one round trip): the
    // spinner's row, joined with the page of its versions.
    Stmt st(db_, page_sql_);
    st.bind(1, before == 0 ? std::numeric_limits<std::int64_t>::max() : before).bind(2, limit).bind(3, name);
    if (!st.step()) no_such_spinner(name);
    const SpinnerRow s = spinner_row(st);
    std::vector<Version> out;
    if (st.is_null(8)) return out; // no versions (in this page)
    do out.push_back(make_version(s, version_row(st, 8)));
    while (st.step());
    return out;
}

std::optional<std::pair<std::string, std::int64_t>> History::latest_core(std::string_view name) {
    Stmt st(db_, "SELECT latest_core, current_number FROM spinners WHERE name=?");
    st.bind(1, name);
    if (!st.step()) return std::nullopt;
    return std::pair{st.is_null(0) ? std::string() : to_hex(st.blob(0)), st.i64(1)};
}

SpinnerRow History::require_spinner(std::string_view name) {
    check_spinner_name(name);
    return require(find_spinner(name), name);
}

SpinnerRow History::require(std::optional<SpinnerRow> row, std::string_view name) {
    if (!row) no_such_spinner(name);
    return std::move(*row);
}

void History::create_if_missing(std::string_view name, bool enabled, std::int64_t history_limit) {
    Stmt st(db_, "INSERT INTO spinners(name, enabled, history_limit, updated_at) VALUES(?,?,?,?) "
                 "ON CONFLICT(name) DO NOTHING");
    st.bind(1, name).bind(2, enabled ? 1 : 0).bind(3, history_limit).bind(4, now_rfc3339()).run();
}

SpinnerRow History::create_spinner(std::string_view name, bool enabled, std::int64_t history_limit) {
    SpinnerRow s;
    s.name = std::string(name);
    s.enabled = enabled;
    s.history_limit = history_limit;
    s.updated_at = now_rfc3339();
    Stmt st(db_, "INSERT INTO spinners(name, enabled, history_limit, updated_at) VALUES(?,?,?,?) RETURNING id");
    st.bind(1, name).bind(2, enabled ? 1 : 0).bind(3, history_limit).bind(4, s.updated_at);
    st.step();
    s.id = st.i64(0);
    st.run();
    return s;
}

std::vector<std::string> History::spinner_names() {
    std::vector<std::string> out;
    Stmt st(db_, "SELECT name FROM spinners ORDER BY name");
    while (st.step()) out.push_back(st.text(0));
    return out;
}

std::optional<VersionRow> History::find_version(std::int64_t spinner_id, std::int64_t number) {
    Stmt st(db_, std::string(kVersionColumns) + " WHERE spinner_id=? AND number=?");
    st.bind(1, spinner_id).bind(2, number);
    if (!st.step()) return std::nullopt;
    return version_row(st);
}

VersionRow History::require_version(const SpinnerRow &s, std::int64_t n, const std::string &what) {
    return expect_version(s, n >= 1 && n <= s.last_number ? find_version(s.id, n) : std::nullopt, n, what);
}

VersionRow History::expect_among(const SpinnerRow &s, const std::vector<VersionRow> &rows, std::int64_t number,
                                 const std::string &what) {
    for (const auto &r : rows)
        if (r.number == number) return r;
    return expect_version(s, std::nullopt, number, what);
}

VersionRow History::expect_version(const SpinnerRow &s, std::optional<VersionRow> row, std::int64_t n,
                                   const std::string &what) {
    if (n >= 1 && n <= s.last_number) {
        if (row) return std::move(*row);
        throw Error(ErrorCode::pruned,
                    "version " + std::to_string(n) + " of \"" + s.name +
                        "\" was removed by retention (historyLimit " + std::to_string(s.history_limit) + ")",
                    what);
    }
    throw Error(ErrorCode::not_found,
                "spinner \"" + s.name + "\" has no version " + std::to_string(n) + " (versions 1-" +
                    std::to_string(s.last_number) + " exist or existed)",
                what);
}

std::pair<SpinnerRow, std::vector<VersionRow>> History::spinner_and_versions(std::string_view name,
                                                                             std::int64_t a, std::int64_t b) {
    check_spinner_name(name);
    Stmt st(db_, two_and_current_sql_);
    st.bind(1, a).bind(2, b).bind(3, name);
    if (!st.step()) no_such_spinner(name);
    std::pair<SpinnerRow, std::vector<VersionRow>> out{spinner_row(st), {}};
    if (st.is_null(8)) return out;
    do out.second.push_back(version_row(st, 8));
    while (st.step());
    return out;
}

VersionRow History::current_version(const SpinnerRow &s) {
    auto cur = find_version(s.id, s.current);
    if (!cur) throw Error(ErrorCode::corrupt, "current version row is missing");
    return *cur;
}

std::optional<std::int64_t> History::newest_active(const SpinnerRow &s) {
    for (RolloutStatus status : {RolloutStatus::active, RolloutStatus::superseded}) {
        Stmt st(db_, "SELECT max(number) FROM versions WHERE spinner_id=? AND status=? AND number<>?");
        st.bind(1, s.id).bind(2, code(status)).bind(3, s.current);
        if (st.step() && !st.is_null(0)) return st.i64(0);
    }
    return std::nullopt;
}

std::int64_t History::min_retained(const SpinnerRow &s) {
    Stmt st(db_, "SELECT min(number) FROM versions WHERE spinner_id=?");
    st.bind(1, s.id);
    return st.step() && !st.is_null(0) ? st.i64(0) : 0;
}

std::vector<VersionRow> History::all_versions(const SpinnerRow &s) {
    Stmt st(db_, std::string(kVersionColumns) + " WHERE spinner_id=? ORDER BY number");
    st.bind(1, s.id);
    std::vector<VersionRow> out;
    while (st.step()) out.push_back(version_row(st));
    return out;
}

void History::insert_version(const SpinnerRow &s, const VersionRow &r) {
    Stmt st(db_, "INSERT INTO versions(spinner_id, number, created_at, author, message, reason, reasons, summary, "
                 "core, rollback_of, status, tags, notes, scope, replaced_at) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    st.bind(1, s.id).bind(2, r.number).bind(3, r.created_at).bind(4, r.author).bind(5, r.message);
    st.bind(6, code(r.reason)).bind(7, r.reasons_text).bind(8, r.summary).bind_blob(9, from_hex(r.core));
    if (r.rollback_of) st.bind(10, *r.rollback_of); else st.bind_null(10);
    st.bind(11, code(r.status));
    auto text_or_null = [&](int i, const std::string &t) {
        if (t.empty()) st.bind_null(i); else st.bind(i, t);
    };
    text_or_null(12, r.tags_text);
    text_or_null(13, r.notes_text);
    text_or_null(14, r.scope_text);
    text_or_null(15, r.replaced_at);
    st.run();
}

Version History::make_version(const SpinnerRow &s, const VersionRow &r) const {
    Version v;
    v.spinner = s.name;
    v.number = r.number;
    v.current = r.number == s.current;
    v.created_at = r.created_at;
    v.author = r.author;
    v.message = r.message;
    v.reason = r.reason;
    v.reasons = reasons_from_text(r.reasons_text);
    v.summary = r.summary;
    v.digest = "sha256:" + r.core;
    v.rollback_of = r.rollback_of;
    v.status = r.status;
    if (!r.scope_text.empty()) v.scope = scope_from_value(json::parse(r.scope_text), "scope");
    if (!r.tags_text.empty()) {
        const json::value tags = json::parse(r.tags_text);
        for (const auto &t : tags.as_array()) {
            const auto &o = t.as_object();
            v.tags.push_back(Tag{std::string(o.at("name").as_string()), std::string(o.at("note").as_string()),
                                 std::string(o.at("author").as_string()),
                                 std::string(o.at("createdAt").as_string())});
        }
    }
    return v;
}

Version History::append(SpinnerRow &s, const Sealed &sealed, VersionReason reason,
                        const std::vector<Reason> &reasons, const std::string &summary,
                        const std::optional<RollbackOf> &rollback, const ChangeMeta &meta, const WriteView &w) {
    blobs_.incref(sealed.core_id);
    VersionRow r;
    r.number = s.last_number + 1;
    r.created_at = now_rfc3339();
    r.author = meta.author;
    r.message = meta.message;
    r.reason = reason;
    r.reasons_text = reasons_text(reasons);
    r.summary = summary;
    r.core = sealed.core_id;
    if (rollback) {
        r.rollback_of = rollback->target;
        r.scope_text = dump(scope_value(rollback->scope));
    }
    {
        Stmt st(db_, "INSERT INTO versions(spinner_id, number, created_at, author, message, reason, "
                     "reasons, summary, core, rollback_of, status, scope) VALUES(?,?,?,?,?,?,?,?,?,?,?,?)");
        st.bind(1, s.id).bind(2, r.number).bind(3, r.created_at).bind(4, r.author).bind(5, r.message);
        st.bind(6, code(r.reason)).bind(7, r.reasons_text).bind(8, r.summary).bind_blob(9, from_hex(r.core));
        if (r.rollback_of) st.bind(10, *r.rollback_of); else st.bind_null(10);
        st.bind(11, code(r.status));
        if (rollback) st.bind(12, r.scope_text); else st.bind_null(12);
        st.run();
    }
    if (s.current) {
        // When the version before stopped being current (restore points).
        Stmt st(db_, "UPDATE versions SET replaced_at=? WHERE spinner_id=? AND number=?");
        st.bind(1, r.created_at).bind(2, s.id).bind(3, s.current).run();
    }
    s.last_number = r.number;
    s.current = r.number;
    {
        Stmt st(db_, "UPDATE spinners SET last_number=?, current_number=? WHERE id=?");
        st.bind(1, s.last_number).bind(2, s.current).bind(3, s.id).run();
    }
    if (auto *vols = sealed.core.if_contains("volumes"); vols && vols->is_array()) {
        Stmt st(db_, "INSERT INTO volume_bindings(spinner_id, name, volume_id, last_number) VALUES(?,?,?,?) "
                     "ON CONFLICT(spinner_id, name, volume_id) DO UPDATE SET last_number=excluded.last_number");
        for (const auto &v : vols->get_array()) {
            const auto &o = v.as_object();
            auto *vid = o.if_contains("volumeId");
            if (!vid) continue;
            st.reset();
            st.bind(1, s.id).bind(2, std::string_view(o.at("name").as_string()))
                .bind(3, std::string_view(vid->as_string())).bind(4, r.number).run();
        }
    }
    json::object data{{"reason", to_string(reason)}, {"digest", "sha256:" + r.core}, {"summary", summary}};
    if (rollback) {
        data["rollbackOf"] = rollback->target;
        data["scope"] = scope_value(rollback->scope);
    }
    events_.append("version.created", s.name, r.number, std::move(data));
    prune(s, w, true);
    return make_version(s, r);
}

void History::set_latest(SpinnerRow &s, const std::string &core_id) {
    if (s.latest_core != core_id) {
        blobs_.incref(core_id);
        if (!s.latest_core.empty()) blobs_.decref(s.latest_core);
        s.latest_core = core_id;
    }
    s.updated_at = now_rfc3339();
    Stmt st(db_, "UPDATE spinners SET enabled=?, history_limit=?, latest_core=?, updated_at=? WHERE id=?");
    st.bind(1, s.enabled ? 1 : 0).bind(2, s.history_limit).bind_blob(3, from_hex(core_id));
    st.bind(4, s.updated_at).bind(5, s.id).run();
}

void History::set_status(const SpinnerRow &s, std::int64_t number, RolloutStatus status) {
    if (status == RolloutStatus::active) {
        Stmt st(db_, "UPDATE versions SET status=? WHERE spinner_id=? AND status=? AND number<>?");
        st.bind(1, code(RolloutStatus::superseded)).bind(2, s.id).bind(3, code(RolloutStatus::active));
        st.bind(4, number).run();
    }
    Stmt st(db_, "UPDATE versions SET status=? WHERE spinner_id=? AND number=?");
    st.bind(1, code(status)).bind(2, s.id).bind(3, number).run();
    events_.append("status.changed", s.name, number, json::object{{"status", to_string(status)}});
}

std::optional<Replayed> History::replay(const SpinnerRow &s, const std::string &rid, const std::string &payload) {
    Stmt st(db_, kRequestColumns + "FROM requests r LEFT JOIN versions v ON v.spinner_id = r.spinner_id "
                                   "AND v.number = r.number WHERE r.spinner_id = ? AND r.request_id = ?");
    st.bind(1, s.id).bind(2, rid);
    if (!st.step()) return std::nullopt;
    return replay(s, stored_request(st), rid, payload);
}

Replayed History::replay(const SpinnerRow &s, const StoredRequest &stored, const std::string &rid,
                         const std::string &payload) const {
    if (stored.payload != payload)
        throw Error(ErrorCode::conflict,
                    "requestId \"" + rid.substr(0, 64) + "\" was already used for a different request",
                    "meta.requestId");
    Replayed r;
    r.outcome = outcome_named(stored.outcome);
    r.reasons = reasons_from_text(stored.reasons_text);
    if (stored.number > 0) {
        // Retention forgets a request with its version, in one transaction.
        if (!stored.version) throw Error(ErrorCode::corrupt, "a remembered request names a version that is missing");
        r.version = make_version(s, *stored.version);
    }
    return r;
}

void History::remember(const SpinnerRow &s, const std::string &rid, const std::string &payload, Outcome outcome,
                       std::int64_t number, const std::vector<Reason> &reasons) {
    Stmt st(db_, "INSERT INTO requests(spinner_id, request_id, payload, outcome, number, reasons, seq) "
                 "VALUES(?,?,?,?,?,?, (SELECT coalesce(max(seq), 0) + 1 FROM requests WHERE spinner_id=?))");
    st.bind(1, s.id).bind(2, rid).bind(3, payload).bind(4, std::string_view(to_string(outcome))).bind(5, number);
    st.bind(6, reasons_text(reasons)).bind(7, s.id).run();
    if (number > 0) return; // kept as long as its version is retained
    Stmt trim(db_, "DELETE FROM requests WHERE spinner_id=? AND number=0 AND seq <= "
                   "(SELECT max(seq) FROM requests WHERE spinner_id=?) - ?");
    trim.bind(1, s.id).bind(2, s.id).bind(3, kRequestWindow).run();
}

bool History::volume_bound(const SpinnerRow &s, std::string_view name, std::string_view volume_id) {
    Stmt st(db_, "SELECT last_number FROM volume_bindings WHERE spinner_id=? AND name=? AND volume_id=?");
    st.bind(1, s.id).bind(2, name).bind(3, volume_id);
    if (!st.step()) return false;
    return st.i64(0) >= min_retained(s);
}

} // namespace spinner_rollback::detail
