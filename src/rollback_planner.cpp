// RollbackPlanner: the public facade. Plans and commits run as the store's
// transactions (store_impl.cpp), which call build_plan (plan_build.cpp).
#include "store_impl.hpp"

namespace spinner_rollback {

RollbackPlanner::RollbackPlanner(VersionStore &store) : store_(&store), pricing_(store.pricing()) {}
RollbackPlanner::RollbackPlanner(VersionStore &store, Pricing pricing)
    : store_(&store), pricing_(std::move(pricing)) {}

Plan RollbackPlanner::plan(std::string_view spinner, std::int64_t target, const PlanRequest &request) const {
    return store_->impl_->plan(spinner, target, request, pricing_);
}

Plan RollbackPlanner::plan_auto(std::string_view spinner) const {
    return store_->impl_->plan(spinner, store_->impl_->auto_target(spinner), {}, pricing_);
}

Version RollbackPlanner::commit(const Plan &plan, const ChangeMeta &meta) {
    return store_->impl_->commit(plan, meta, pricing_);
}

Version RollbackPlanner::commit_json(std::string_view plan_json, const ChangeMeta &meta) {
    return store_->impl_->commit(detail::plan_from_json(plan_json, true), meta, pricing_);
}

} // namespace spinner_rollback
