// Internal: the store's tables and their migrations, written once for both
// engines (the engine supplies its spellings through Db::dialect()).
#pragma once

#include "db.hpp"

#include <cstdint>
#include <string>

namespace spinner_rollback::detail {

/// The schema version this library writes.
std::int64_t current_schema_version() noexcept;

/// Bring the store at `db` to the current schema (creating it when empty)
/// and make sure it has a plan key. Returns the version found before, which
/// may be newer than current_schema_version() (then nothing was written and
/// the caller refuses the store). A store already current is opened without
/// taking the writer lock.
std::int64_t set_up_schema(Db &db);

/// The store's identity, a UUID made when the store was created (or first
/// opened by release 0.2). Inside a transaction.
std::string store_id(Db &db);

} // namespace spinner_rollback::detail
