// The engine-independent part of the storage interface: choosing the engine
// from the location, and the per-connection statement cache.
#include "db.hpp"

#include <algorithm>
#include <thread>

namespace spinner_rollback::detail {

bool is_postgres_location(std::string_view location) noexcept {
    return location.starts_with("postgres://") || location.starts_with("postgresql://");
}

void Db::wait_for_change(std::chrono::milliseconds max) {
    std::this_thread::sleep_for(std::min(max, std::chrono::milliseconds(25)));
}

Cursor *Db::acquire(const std::string &sql) {
    auto it = cache_.find(sql);
    if (it != cache_.end() && !it->second.empty()) {
        Cursor *c = it->second.back().release();
        it->second.pop_back();
        return c;
    }
    return prepare(sql).release();
}

void Db::release(const std::string &sql, Cursor *c) noexcept {
    std::unique_ptr<Cursor> owned(c);
    owned->reset();
    try {
        auto &pool = cache_[sql];
        if (pool.size() < 16) pool.push_back(std::move(owned));
    } catch (...) {
    }
}

std::unique_ptr<Db> Db::open(const std::string &location, int busy_timeout_ms) {
    if (is_postgres_location(location)) return open_postgres(location, busy_timeout_ms);
    return open_sqlite(location, busy_timeout_ms);
}

} // namespace spinner_rollback::detail
