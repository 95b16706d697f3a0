// Internal: how a rollback plan is built — pure functions over what the
// store lets the planner read (PlanSource). The store runs them inside its
// transactions (store_impl.hpp); nothing here writes.
#pragma once

#include "history.hpp"
#include "sealed_state.hpp"

#include <spinner_rollback/rollback_planner.hpp>

#include <memory>
#include <optional>

namespace spinner_rollback::detail {

/// What the planner reads from the store, inside the caller's transaction.
class PlanSource {
public:
    virtual ~PlanSource() = default;
    /// not_found or pruned naming `what`.
    virtual VersionRow version(const SpinnerRow &s, std::int64_t number, const std::string &what) = 0;
    virtual VersionRow current_version(const SpinnerRow &s) = 0;
    virtual std::shared_ptr<const CoreEntry> core(const std::string &id) = 0;
    virtual MapLoader loader() = 0;
    virtual json::object materialize(const json::object &core, Secrets mode) = 0;
    virtual std::optional<Snapshot> snapshot(std::string_view id) = 0;
    virtual bool volume_bound(const SpinnerRow &s, std::string_view name, std::string_view volume_id) = 0;
};

/// A plan and what committing it appends.
struct BuiltPlan {
    Plan plan;
    Sealed sealed;               ///< the resulting core (its blobs are stored)
    std::vector<Reason> reasons; ///< the new version's reasons
    std::string summary;         ///< the new version's summary
};

/// Plan a rollback of `s` to version `target` (refusals first, docs/rollback.md).
BuiltPlan build_plan(PlanSource &src, const SpinnerRow &s, std::int64_t target, const PlanRequest &request,
                     const SnapshotPolicy &policy, const Pricing &pricing, std::string_view plan_key);

/// Every field of a plan but planId and digest: what the digest covers.
json::object plan_body(const Plan &plan);

/// Refuse a plan whose keyed digest does not match its fields
/// (invalid at plan.digest: altered after planning, or from another store).
void check_plan(const Plan &plan, std::string_view plan_key);

} // namespace spinner_rollback::detail
