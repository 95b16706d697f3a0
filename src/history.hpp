// Internal: the history tables — spinners, versions, requests (idempotent
// retries) and volume bindings: append, prune, replay, the latest state.
#pragma once

#include "blob_store.hpp"
#include "sealed_state.hpp"

#include <spinner_rollback/version_store.hpp>

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
};

/// What a request id did the first time.
struct Replayed {
    Outcome outcome = Outcome::unchanged;
    std::vector<Reason> reasons;
    std::optional<Version> version; ///< the version it created, if any
};

/// The refusal of a spinner name that is not a DNS-1123 label.
void check_spinner_name(std::string_view name);

/// Not thread-safe: used under the store's mutex, inside the caller's
/// transaction (a write transaction for every method that writes).
class History {
public:
    History(Db &db, BlobStore &blobs) : db_(db), blobs_(blobs) {}

    std::optional<SpinnerRow> find_spinner(std::string_view name);
    /// The spinner's latest state (hex core id), if it has one: one read.
    std::optional<std::string> latest_core(std::string_view name);
    /// invalid (name) or not_found.
    SpinnerRow require_spinner(std::string_view name);
    SpinnerRow create_spinner(std::string_view name, bool enabled, std::int64_t history_limit);
    std::vector<std::string> spinner_names();

    std::optional<VersionRow> find_version(std::int64_t spinner_id, std::int64_t number);
    /// not_found or pruned, naming `what`.
    VersionRow require_version(const SpinnerRow &s, std::int64_t number, const std::string &what);
    /// `row` if present, else not_found or pruned for version `number`, naming `what`.
    VersionRow expect_version(const SpinnerRow &s, std::optional<VersionRow> row, std::int64_t number,
                              const std::string &what);
    /// In one statement: the spinner's row and its versions `a` and `b`
    /// (those that exist). invalid (name), not_found (spinner).
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

    /// Append a version whose content is stored (SealedState::put), then
    /// apply retention. The new version is current.
    Version append(SpinnerRow &s, const Sealed &sealed, VersionReason reason, const std::vector<Reason> &reasons,
                   const std::string &summary, std::optional<std::int64_t> rollback_of, const ChangeMeta &meta);
    /// The spinner's latest state (what the host runs) and its settings.
    void set_latest(SpinnerRow &s, const std::string &core_id);
    /// Remove versions beyond historyLimit (never the current one).
    void prune(const SpinnerRow &s);
    void set_status(const SpinnerRow &s, std::int64_t number, RolloutStatus status);

    /// The first result of `request_id` for this spinner, if it is
    /// remembered; conflict when it was used for another payload. Retention
    /// forgets a request together with the version it created.
    std::optional<Replayed> replay(const SpinnerRow &s, const std::string &request_id, const std::string &payload);
    /// Remember what `request_id` did.
    void remember(const SpinnerRow &s, const std::string &request_id, const std::string &payload,
                  Outcome outcome, std::int64_t number, const std::vector<Reason> &reasons);

    /// Whether a retained version bound volume name `name` to `volume_id`.
    bool volume_bound(const SpinnerRow &s, std::string_view name, std::string_view volume_id);

private:
    std::int64_t min_retained(const SpinnerRow &s);

    Db &db_;
    BlobStore &blobs_;
};

} // namespace spinner_rollback::detail
