// Internal: the event outbox — one row per change, written in the change's
// own transaction (docs/events.md).
#pragma once

#include "db.hpp"
#include "json.hpp"

#include <spinner_rollback/version_store.hpp>

#include <optional>
#include <string_view>

namespace spinner_rollback::detail {

/// Not thread-safe: used under the store's mutex, inside the caller's
/// transaction (a write transaction for append()).
class EventLog {
public:
    EventLog(Db &db, std::int64_t limit) : db_(db), limit_(limit) {}
    /// Append an event to the write transaction under way, numbered one past
    /// the newest (writers are serialised store-wide, so numbers are
    /// gap-free in commit order), and drop those beyond the limit.
    void append(std::string_view type, std::string_view spinner, std::optional<std::int64_t> version,
                json::object data);
    /// Events numbered above `after`, oldest first, at most `limit`.
    EventPage list(std::int64_t after, std::int64_t limit);

private:
    Db &db_;
    std::int64_t limit_;
};

} // namespace spinner_rollback::detail
