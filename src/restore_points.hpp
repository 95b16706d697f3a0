// Internal: which snapshots belong to a version (restore points), ranked.
#pragma once

#include "json.hpp"

#include <spinner_rollback/version_store.hpp>

#include <string_view>
#include <vector>

namespace spinner_rollback::detail {

/// Rank the snapshots of one volume against the time a version was current,
/// [from, until) (until empty: still current). Times are normalised RFC 3339
/// UTC, so they compare as text. During first (newest first), then before
/// (newest first), then after (oldest first).
std::vector<RestorePoint> rank_restore_points(std::vector<Snapshot> snapshots, std::string_view from,
                                              std::string_view until);

/// The volumes of a state (a core's "volumes"): name and volumeIds, in order.
std::vector<VolumeRestorePoints> volumes_of(const json::object &core);

} // namespace spinner_rollback::detail
