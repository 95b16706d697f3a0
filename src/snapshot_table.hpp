// Internal: the volume snapshots the host registers.
#pragma once

#include "db.hpp"

#include <spinner_rollback/version_store.hpp>

#include <optional>
#include <vector>

namespace spinner_rollback::detail {

/// Not thread-safe: used under the store's mutex, inside the caller's transaction.
class SnapshotTable {
public:
    explicit SnapshotTable(Db &db) : db_(db) {}
    std::optional<Snapshot> find(std::string_view id);
    /// Insert, or replace the one with the same id.
    void put(const Snapshot &s);
    /// Of one volumeId (all when empty), newest first.
    std::vector<Snapshot> list(std::string_view volume);
    /// False when there was none.
    bool erase(std::string_view id);

private:
    Db &db_;
};

} // namespace spinner_rollback::detail
