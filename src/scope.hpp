// Internal: a rollback's scope in JSON (the public type is RollbackScope).
#pragma once

#include "json.hpp"

#include <spinner_rollback/version_store.hpp>

namespace spinner_rollback::detail {

/// Parse "tracked", "all" or a non-empty array of restorable category
/// names; invalid at `path` (an array entry: `path[i]`) otherwise.
RollbackScope scope_from_value(const json::value &v, const std::string &path);
/// "tracked", "all" or the array of category names.
json::value scope_value(const RollbackScope &scope);

} // namespace spinner_rollback::detail
