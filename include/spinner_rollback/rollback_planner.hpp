/// @file rollback_planner.hpp
/// @brief RollbackPlanner: read-only plans, then an explicit, checked commit.
#pragma once

#include <spinner_rollback/export.hpp>
#include <spinner_rollback/version_store.hpp>

#include <cstdint>
#include <map>
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
    /// false: restore tracked fields only (default); true: scope "all",
    /// restore untracked fields too (settings always stay current).
    bool scope_all = false;
    /// Parse `{"data": {"<volume>": "current" | {"snapshot": "<id>"}}, "scope": "tracked"|"all"}`.
    /// Empty input = defaults. @throws Error invalid naming the field
    static PlanRequest from_json(std::string_view json);
    /// Canonical `{"data": {...}, "scope": "tracked"|"all"}`, accepted back by from_json.
    std::string to_json() const;
};

/// A rollback plan. Immutable; the JSON is authoritative. @since 0.1
struct SPR_API Plan {
    std::string json;            ///< the whole plan, see product contract §5
    std::string plan_id;         ///< "planId": "plan-" and 16 hex digits of the plan's hash
    std::string spinner;         ///< the spinner's name
    std::int64_t base_version = 0;   ///< the current version when the plan was made
    std::int64_t target_version = 0; ///< the version rolled back to
    /// True when the plan provisions new volumes at extra cost: commit() then
    /// needs ChangeMeta::confirmed.
    bool requires_confirmation = false;
    /// Human-readable warnings (extra storage cost, image without digest,
    /// target once reported failed, ...).
    std::vector<std::string> warnings;
    /// Parse a plan produced by plan() (e.g. sent through a UI and back).
    /// Does not check its digest; commit() does.
    /// @throws Error invalid
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
    ///   needs_confirmation, pruned (target, or the version a retried
    ///   request_id created), and the refusals of plan() if the world changed
    ///   (e.g. snapshot deleted); and as VersionStore: busy, io, corrupt, internal
    Version commit(const Plan &plan, const ChangeMeta &meta = {});

private:
    VersionStore *store_;
    Pricing pricing_;
};

} // namespace spinner_rollback
