// Internal: the one rule that decides whether a state becomes a version.
// SnapshotPolicy::evaluate, VersionStore::record and the planner all call it.
#pragma once

#include "diff_internal.hpp"

#include <spinner_rollback/snapshot_policy.hpp>

#include <vector>

namespace spinner_rollback::detail {

/// What decide() found.
struct Decided {
    Outcome outcome = Outcome::unchanged;
    /// Why the version exists when created: deploy, or reenabled when the
    /// previous state had rollback disabled.
    VersionReason reason = VersionReason::deploy;
    /// Tracked changes ({"first","$"} for a first state); empty otherwise.
    std::vector<Reason> reasons;
    /// Every change previous → next (empty for a first or disabled state).
    std::vector<RawChange> changes;
};

/// Decide whether `next` becomes a version after `previous`.
///
/// - next has settings.rollback.enabled == false → disabled (nothing else is looked at);
/// - no previous version (`previous` null) → created, reasons {"first","$"};
/// - otherwise the changes previous → next that `policy` tracks (every change
///   when `track_all`) are the reasons: none → unchanged; some → created,
///   with reason reenabled when `previous_enabled` is false, else deploy.
///
/// Both documents are normalised (or sealed) state objects. `load` resolves
/// stored config-map placeholders (see diff_objects).
Decided decide(const json::object *previous, bool previous_enabled, const json::object &next,
               const SnapshotPolicy &policy, const MapLoader &load = {}, bool track_all = false);

/// settings.rollback.enabled of a normalised state.
bool rollback_enabled(const json::object &state);

} // namespace spinner_rollback::detail
