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

/// A plan whose keyed digest was checked: this store made it.
struct CheckedPlan {
    const Plan &plan;
    std::string state_sha256; ///< hex sha256 of plan.state_json
};

/// Plan a rollback of `s` to version `target` (refusals first, docs/rollback.md).
///
/// `made` (commit): the plan being committed. When the rebuilt result is
/// the same sealed core as the one `made` names, the resulting state was
/// validated when `made` was planned, and its state text and diff are
/// functions of that core and the same current version: the diff and the
/// state's hash are taken from `made` instead of being materialised,
/// validated and summarised again, and the returned plan's state_json is
/// left empty (commit only compares digests). Everything else (volumes,
/// snapshots, prices) is read afresh.
BuiltPlan build_plan(PlanSource &src, const SpinnerRow &s, std::int64_t target, const PlanRequest &request,
                     const SnapshotPolicy &policy, const Pricing &pricing, std::string_view plan_key,
                     const CheckedPlan *made = nullptr);

/// Every field of a plan but planId and digest, in the plan JSON's order,
/// with `state` as given (the plan's state is JSON text: see plan_signed()).
json::object plan_body(const Plan &plan, json::value state);

/// What a plan's planId and keyed digest cover: the canonical form of its
/// body with the state by its sha256, `state_sha256` (hex), so that the
/// state is hashed once, never parsed or re-serialised to be signed.
std::string plan_signed(const Plan &plan, std::string_view state_sha256);

/// Plan::from_json(); with `state_as_sent`, state_json is the state's text
/// as it appears in `text` (not re-serialised: the plan JSON carries it in
/// canonical form, and check_plan() canonicalises it only when it is not).
Plan plan_from_json(std::string_view text, bool state_as_sent);

/// Refuse a plan whose keyed digest does not match its fields
/// (invalid at plan.digest: altered after planning, or from another store).
CheckedPlan check_plan(const Plan &plan, std::string_view plan_key);

} // namespace spinner_rollback::detail
