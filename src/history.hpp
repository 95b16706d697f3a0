// Internal: the history tables — spinners, versions, requests (idempotent
// retries) and volume bindings: append, prune, replay, the latest state.
#pragma once

#include "blob_store.hpp"
#include "event_log.hpp"
#include "sealed_state.hpp"

#include <spinner_rollback/version_store.hpp>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace spinner_rollback::detail {

struct SpinnerRow {
    std::int64_t id = 0;
    std::string name;
    bool enabled = true;
    std::int64_t history_limit = 20;
    std::int64_t last_number = 0;
    std::int64_t current = 0;
    std::string latest_core; ///< hex id or empty
    std::string updated_at;
};

struct VersionRow {
    std::int64_t number = 0;
    std::string created_at, author, message;
    VersionReason reason = VersionReason::deploy;
    std::string reasons_text, summary, core; ///< core: hex id
    std::optional<std::int64_t> rollback_of;
    RolloutStatus status = RolloutStatus::pending;
    std::string tags_text;   ///< JSON array of the version's tags; empty: none
    std::string notes_text;  ///< JSON array of its notes; empty: none
    std::string scope_text;  ///< a rollback's scope as JSON; empty: not a rollback
    std::string replaced_at; ///< when the next version was made; empty while current
};

/// What a request id did the first time.
struct Replayed {
    Outcome outcome = Outcome::unchanged;
    std::vector<Reason> reasons;
    std::optional<Version> version; ///< the version it created, if any
};

/// A remembered request as stored, with the version it created (if retained).
struct StoredRequest {
    std::string payload, outcome, reasons_text;
    std::int64_t number = 0;
    std::optional<VersionRow> version;
};

/// A version retention may remove.
struct OldVersion {
    std::int64_t number = 0;
    std::string core;    ///< hex id
    bool tagged = false; ///< never removed
    bool active = false; ///< the newest active version: never removed
};

/// What a write to one spinner reads first (History::fetch_for_write).
struct WriteView {
    std::optional<SpinnerRow> spinner;
    std::optional<VersionRow> current;    ///< the current version's row
    std::optional<VersionRow> also;       ///< the row of version `also`, if asked and retained
    std::optional<StoredRequest> request; ///< the request id's first result
    std::vector<OldVersion> old_versions; ///< retention's candidates, newest first
    /// Untagged versions numbered from the lowest number retention keeps
    /// whatever the tags (last_number + 1 - historyLimit) up to the current
    /// one; read with the candidates (unset when there are none).
    std::optional<std::int64_t> untagged_in_window;
};

/// The refusal of a spinner name that is not a DNS-1123 label.
void check_spinner_name(std::string_view name);

/// Not thread-safe: used under the store's mutex, inside the caller's
/// transaction (a write transaction for every method that writes).
class History {
public:
    /// The statements of fetch_for_write(), sent; take() reads them.
    class WriteFetch {
    public:
        WriteView take();
        WriteFetch(WriteFetch &&) = default;

    private:
        friend class History;
        WriteFetch() = default;
        std::unique_ptr<Stmt> spinner_, request_, old_;
    };
    /// Everything a write to spinner `name` reads first — its row, its
    /// current version, version `also` (0: none), the first result of
    /// `request_id` (unless empty), and the versions that retention at
    /// `history_limit` (none: the spinner's) may remove — sent now and read
    /// by take(): one round trip on PostgreSQL with whatever else is sent
    /// before the first take().
    WriteFetch fetch_for_write(std::string_view name, const std::string &request_id,
                               std::optional<std::int64_t> history_limit, std::int64_t also = 0);
    /// Add to the batch, before fetch_for_write(): create spinner `name`
    /// with these settings unless it exists (a new spinner's first record
    /// then costs no round trip of its own).
    void create_if_missing(std::string_view name, bool enabled, std::int64_t history_limit);

    History(Db &db, BlobStore &blobs, EventLog &events);

    std::optional<SpinnerRow> find_spinner(std::string_view name);
    /// The spinner's latest state (hex core id, empty when none) and its
    /// current version number, if the spinner exists: one read.
    std::optional<std::pair<std::string, std::int64_t>> latest_core(std::string_view name);
    /// invalid (name) or not_found.
    SpinnerRow require_spinner(std::string_view name);
    /// The spinner's row when found, else not_found naming it.
    static SpinnerRow require(std::optional<SpinnerRow> row, std::string_view name);
    SpinnerRow create_spinner(std::string_view name, bool enabled, std::int64_t history_limit);
    std::vector<std::string> spinner_names();

    std::optional<VersionRow> find_version(std::int64_t spinner_id, std::int64_t number);
    /// not_found or pruned, naming `what`.
    VersionRow require_version(const SpinnerRow &s, std::int64_t number, const std::string &what);
    /// Version `number` among `rows`, expected there (expect_version).
    VersionRow expect_among(const SpinnerRow &s, const std::vector<VersionRow> &rows, std::int64_t number,
                            const std::string &what);
    /// `row` if present, else not_found or pruned for version `number`, naming `what`.
    VersionRow expect_version(const SpinnerRow &s, std::optional<VersionRow> row, std::int64_t number,
                              const std::string &what);
    /// In one statement: the spinner's row and its versions `a`, `b` and
    /// the current one (those that exist). invalid (name), not_found (spinner).
    std::pair<SpinnerRow, std::vector<VersionRow>> spinner_and_versions(std::string_view spinner, std::int64_t a,
                                                                        std::int64_t b);
    /// The current version's row (corrupt when missing).
    VersionRow current_version(const SpinnerRow &s);
    /// The spinner's versions numbered below `before` (0: all), newest
    /// first, at most `limit`, in one statement (invalid name, not_found).
    std::vector<Version> list(std::string_view spinner, std::int64_t before, std::int64_t limit);
    /// Newest version other than the current one whose status is active,
    /// else superseded (it was active once).
    std::optional<std::int64_t> newest_active(const SpinnerRow &s);
    Version make_version(const SpinnerRow &s, const VersionRow &r) const;
    /// Every retained version row of the spinner, oldest first (bundles).
    std::vector<VersionRow> all_versions(const SpinnerRow &s);
    /// Insert a version row exactly as given (bundle_import.cpp); the
    /// caller holds the reference on its core.
    void insert_version(const SpinnerRow &s, const VersionRow &r);

    /// A rollback's origin: the version restored and what was taken from it.
    struct RollbackOf {
        std::int64_t target = 0;
        RollbackScope scope;
    };
    /// Append a version whose content is stored (SealedState::put), then
    /// apply retention (`w`: what fetch_for_write read). The new version is
    /// current; the one before it gets its replaced_at.
    Version append(SpinnerRow &s, const Sealed &sealed, VersionReason reason, const std::vector<Reason> &reasons,
                   const std::string &summary, const std::optional<RollbackOf> &rollback, const ChangeMeta &meta,
                   const WriteView &w);
    /// The spinner's latest state (what the host runs) and its settings.
    void set_latest(SpinnerRow &s, const std::string &core_id);
    /// Retention (docs/retention.md), the one rule: keep the current
    /// version, every tagged version, the newest active one, and the
    /// newest historyLimit other versions; remove the rest. `w`: what
    /// fetch_for_write read; `created`: whether a version was just appended.
    void prune(const SpinnerRow &s, const WriteView &w, bool created);

    /// Put tag `t` on version `number` (checks in VersionStore::tag()).
    void put_tag(const SpinnerRow &s, std::int64_t number, const TagRequest &t, std::int64_t max_tagged);
    /// Remove tag `name` (not_found when the spinner has none of that name).
    void remove_tag(const SpinnerRow &s, std::string_view name);
    /// The version holding tag `name`, if any.
    std::optional<std::int64_t> tag_number(const SpinnerRow &s, std::string_view name);
    /// Append a note to version `r` (unless equal to its last one); its notes.
    std::vector<Note> add_note(const SpinnerRow &s, const VersionRow &r, const Note &note);
    /// A version's notes, oldest first.
    static std::vector<Note> notes_of(const VersionRow &r);
    void set_status(const SpinnerRow &s, std::int64_t number, RolloutStatus status);

    /// The first result of `request_id` for this spinner, if it is
    /// remembered; conflict when it was used for another payload. Retention
    /// forgets a request together with the version it created.
    std::optional<Replayed> replay(const SpinnerRow &s, const std::string &request_id, const std::string &payload);
    /// The same, from a request fetched by fetch_for_write().
    Replayed replay(const SpinnerRow &s, const StoredRequest &r, const std::string &request_id,
                    const std::string &payload) const;
    /// Remember what `request_id` did.
    void remember(const SpinnerRow &s, const std::string &request_id, const std::string &payload,
                  Outcome outcome, std::int64_t number, const std::vector<Reason> &reasons);

    /// Whether a retained version bound volume name `name` to `volume_id`.
    bool volume_bound(const SpinnerRow &s, std::string_view name, std::string_view volume_id);

    /// Rewrite the tags column of version `number` and the spinner's count
    /// of tagged versions from the tags table (the one source of both).
    void sync_tags(const SpinnerRow &s, std::int64_t number);

private:
    std::int64_t min_retained(const SpinnerRow &s);

    Db &db_;
    BlobStore &blobs_;
    EventLog &events_;
    // Statements whose text depends on the engine's dialect, built once.
    const std::string current_and_also_sql_; // the spinner with its current version and one more
    const std::string two_and_current_sql_;  // the spinner with two versions and its current one
    const std::string page_sql_;             // the spinner with a page of its versions
};

} // namespace spinner_rollback::detail
