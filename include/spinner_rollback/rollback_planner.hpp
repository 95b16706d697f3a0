/// @file rollback_planner.hpp
/// @brief RollbackPlanner: read-only plans, then an explicit, checked commit.
#pragma once

#include <spinner_rollback/export.hpp>
#include <spinner_rollback/state.hpp>
#include <spinner_rollback/version_store.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace spinner_rollback {

/// What a rollback should restore and where each volume's data comes from. @since 0.1
struct SPR_API PlanRequest {
    /// Volume name (of the target version) → snapshot id, or "" for an
    /// explicit "current" (the volume in use now). A volume not named here
    /// keeps the volume in use now. Every name must be a volume of the target.
    std::map<std::string, std::string> snapshots;
    /// What to take from the target: "tracked" (default), "all" (untracked
    /// fields too; settings always stay current) or a list of categories
    /// (a partial rollback: everything else stays as it is now; `data`
    /// then applies only when "mounts" is listed). Was `bool scope_all`
    /// before 0.2. @since 0.2
    RollbackScope scope;
    /// Parse `{"data": {"<volume>": "current" | {"snapshot": "<id>"}},
    /// "scope": "tracked"|"all"|["image", ...]}`.
    /// Empty input = defaults. @throws Error invalid naming the field
    static PlanRequest from_json(std::string_view json);
    /// Canonical `{"data": {...}, "scope": ...}`, accepted back by from_json.
    std::string to_json() const;
};

/// A volume a plan provisions from a snapshot (at extra cost). @since 0.2
struct SPR_API NewVolume {
    std::string name;                   ///< e.g. "shop-data-v4": the spinner, the volume and the new version
    std::int64_t size_bytes = 0;        ///< at least the snapshot's size and the volume's declared size
    std::string storage_class;          ///< the target's storageClass, else the snapshot's; may be empty
    std::int64_t copies = 1;            ///< instances for a "dedicated" volume, else 1
    double estimated_monthly_cost = 0;  ///< size x price x copies, rounded to cents
    std::string currency;               ///< the pricing's currency
};

/// Where one volume's data comes from after the rollback. @since 0.2
struct SPR_API PlanVolume {
    /// The data source.
    enum class Source {
        current,  ///< the volume in use now keeps serving
        snapshot, ///< a new volume made from a snapshot
    };
    std::string volume;              ///< the volume's name in the state
    std::vector<std::string> mounts; ///< mount paths of the volume, in container order
    Source source = Source::current; ///< where the data comes from
    std::string snapshot_id;         ///< the snapshot, when source is snapshot
    /// When that snapshot was taken (RFC 3339): data written to the volume
    /// after it is not in the new volume. @since 0.2
    std::string snapshot_created_at;
    /// The volumeId in use after the rollback; empty when the state names none.
    std::optional<std::string> volume_id;
    std::optional<NewVolume> new_volume; ///< when source is snapshot
};

/// One step the host carries out, in order. @since 0.2
struct SPR_API PlanStep {
    /// "provisionVolume", "applyState" or "reportStatus".
    std::string action;
    std::string description;     ///< one line for a human
    std::int64_t version = 0;    ///< applyState, reportStatus: the new version's number
    std::string volume;          ///< provisionVolume: the volume's name
    std::string new_volume;      ///< provisionVolume: the new volume's name
    std::string from_snapshot;   ///< provisionVolume: the snapshot id
    std::int64_t size_bytes = 0; ///< provisionVolume
    std::string storage_class;   ///< provisionVolume
};

/// A rollback plan: a value with fields; to_json() is its serialisation
/// (the C API's plan JSON). Made by RollbackPlanner::plan(); commit() checks
/// its keyed digest, so a plan altered after planning is refused. @since 0.1
struct SPR_API Plan {
    std::string plan_id;             ///< "planId": "plan-" and 16 hex digits of the plan's hash
    std::string spinner;             ///< the spinner's name
    std::int64_t base_version = 0;   ///< the current version when the plan was made
    std::int64_t target_version = 0; ///< the version rolled back to
    PlanRequest request;             ///< what was asked for @since 0.2
    /// The resulting state (canonical JSON), secret values "<redacted>". @since 0.2
    std::string state_json;
    /// Current → resulting state. A config value longer than 4 KiB is shown
    /// by `{"bytes": N, "sha256": "<hex>"}` instead of its text (it is in
    /// state_json once). @since 0.2
    Diff diff;
    std::string summary;             ///< the new version's summary @since 0.2
    std::vector<PlanVolume> volumes; ///< one per volume of the resulting state @since 0.2
    std::vector<PlanStep> steps;     ///< what the host does, in order @since 0.2
    /// Human-readable warnings (extra storage cost, image without digest,
    /// target once reported failed, ...).
    std::vector<std::string> warnings;
    /// True when the plan provisions new volumes at extra cost: commit() then
    /// needs ChangeMeta::confirmed.
    bool requires_confirmation = false;
    std::string result_digest;       ///< "sha256:…", the digest the new version will have @since 0.2
    std::string digest;              ///< "hmac-sha256:…", keyed over every other field @since 0.2

    /// The whole plan as JSON (fields in docs/rollback.md). @since 0.2
    std::string to_json() const;
    /// Parse a plan produced by to_json() (e.g. sent through a UI and back).
    /// Checks its form, not its digest: commit() does that.
    /// @throws Error invalid naming the field
    static Plan from_json(std::string_view json);
};

/// Plans rollbacks over a VersionStore and commits them as new versions.
///
/// Stateless apart from the store reference: share freely across threads.
/// The store must outlive the planner.
/// @since 0.1
class SPR_API RollbackPlanner {
public:
    /// Plan with the store's pricing.
    explicit RollbackPlanner(VersionStore &store);
    /// Plan with other pricing (commit must use the same pricing).
    RollbackPlanner(VersionStore &store, Pricing pricing);

    /// Plan a rollback of `spinner` to version `target`. Read-only.
    /// @param spinner the spinner's name
    /// @param target the version number to roll back to
    /// @param request volume sources and scope
    /// @return the plan; commit it with commit() on a planner over the same store
    /// @throws Error not_found (spinner, target, snapshot), pruned,
    ///   rollback_disabled, current_version, identical, unknown_volume,
    ///   snapshot_not_ready, snapshot_mismatch, invalid (spinner name,
    ///   request, or a resulting state that would be invalid); and as
    ///   VersionStore: busy, io, corrupt, internal
    Plan plan(std::string_view spinner, std::int64_t target, const PlanRequest &request = {}) const;

    /// Plan back to the newest version whose status is "active" (other than
    /// the current one) or, when there is none, "superseded" (it was active
    /// once), with the default request.
    /// @throws Error not_found when there is none, and as plan()
    Plan plan_auto(std::string_view spinner) const;

    /// Append the plan as a new version (reason "rollback", rollbackOf =
    /// target, status "pending"). The host then applies the new version's
    /// state (get(..., reveal_secrets=true)) and reports its status.
    /// With ChangeMeta::request_id, a retry returns the first result.
    /// @param plan a plan from plan() or plan_auto() over the same store
    /// @param meta who and why; `confirmed` when the plan requires confirmation
    /// @return the new version
    /// @throws Error conflict (current version moved since planning, pricing
    ///   or snapshots changed, or request_id used for a different request),
    ///   invalid (plan altered, malformed, or from another store),
    ///   needs_confirmation, pruned (target), and the refusals of plan() if the world changed
    ///   (e.g. snapshot deleted); and as VersionStore: busy, io, corrupt, internal
    Version commit(const Plan &plan, const ChangeMeta &meta = {});

    /// commit() of a plan in its JSON form (Plan::to_json(), e.g. sent
    /// through a UI and back), without re-serialising its state: the digest
    /// check hashes the state as written, and canonicalises it only when the
    /// plan was re-serialised on its way. What the C API's commit calls.
    /// @throws Error invalid naming the field of a malformed plan, and as commit()
    /// @since 0.2
    Version commit_json(std::string_view plan_json, const ChangeMeta &meta = {});

private:
    VersionStore *store_;
    Pricing pricing_;
};

} // namespace spinner_rollback
