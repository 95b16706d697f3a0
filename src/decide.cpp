// The version-creation rule (see decide.hpp).
#include "decide.hpp"

namespace spinner_rollback::detail {

bool rollback_enabled(const json::object &state) {
    return state.at("settings").as_object().at("rollback").as_object().at("enabled").as_bool();
}

Decided decide(const json::object *previous, bool previous_enabled, const json::object &next,
               const SnapshotPolicy &policy, const MapLoader &load, bool track_all) {
    Decided d;
    if (!rollback_enabled(next)) {
        d.outcome = Outcome::disabled;
        return d;
    }
    if (!previous) {
        d.outcome = Outcome::created;
        d.reasons.push_back({"first", "$"});
        return d;
    }
    d.changes = diff_objects(*previous, next, load);
    if (track_all) {
        for (const auto &c : d.changes) d.reasons.push_back({std::string(name(c.category)), c.path});
    } else {
        d.reasons = tracked_reasons(d.changes, policy);
    }
    if (d.reasons.empty()) return d;
    d.outcome = Outcome::created;
    d.reason = previous_enabled ? VersionReason::deploy : VersionReason::reenabled;
    return d;
}

} // namespace spinner_rollback::detail
