// The snapshots table.
#include "snapshot_table.hpp"

namespace spinner_rollback::detail {

namespace {
constexpr const char *kColumns =
    "SELECT id, volume, size_bytes, created_at, ready, storage_class, metadata FROM snapshots";

Snapshot snapshot_row(const Stmt &st) {
    Snapshot s;
    s.id = st.text(0);
    s.volume = st.text(1);
    s.size_bytes = st.i64(2);
    s.created_at = st.text(3);
    s.ready = st.i64(4) != 0;
    s.storage_class = st.text(5);
    s.metadata_json = st.text(6);
    return s;
}
} // namespace

std::optional<Snapshot> SnapshotTable::find(std::string_view id) {
    Stmt st(db_, std::string(kColumns) + " WHERE id=?");
    st.bind(1, id);
    if (!st.step()) return std::nullopt;
    return snapshot_row(st);
}

void SnapshotTable::put(const Snapshot &s) {
    Stmt st(db_, "INSERT INTO snapshots(id, volume, size_bytes, created_at, ready, storage_class, metadata) "
                 "VALUES(?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET volume=excluded.volume, "
                 "size_bytes=excluded.size_bytes, created_at=excluded.created_at, ready=excluded.ready, "
                 "storage_class=excluded.storage_class, metadata=excluded.metadata");
    st.bind(1, s.id).bind(2, s.volume).bind(3, s.size_bytes).bind(4, s.created_at).bind(5, s.ready ? 1 : 0);
    st.bind(6, s.storage_class).bind(7, s.metadata_json).run();
}

std::vector<Snapshot> SnapshotTable::list(std::string_view volume) {
    std::vector<Snapshot> out;
    Stmt st(db_, volume.empty() ? std::string(kColumns) + " ORDER BY created_at DESC, id"
                                : std::string(kColumns) + " WHERE volume=? ORDER BY created_at DESC, id");
    if (!volume.empty()) st.bind(1, volume);
    while (st.step()) out.push_back(snapshot_row(st));
    return out;
}

bool SnapshotTable::erase(std::string_view id) {
    Stmt st(db_, "DELETE FROM snapshots WHERE id=?");
    st.bind(1, id).run();
    return db_.changes() > 0;
}

} // namespace spinner_rollback::detail
