// Internal: the one JSON form of reasons (policy decisions, record results,
// versions and stored rows all use it).
#pragma once

#include "json.hpp"

#include <spinner_rollback/snapshot_policy.hpp>

#include <string_view>
#include <vector>

namespace spinner_rollback::detail {

/// `[{"category": …, "path": …}, …]`
json::array reasons_json(const std::vector<Reason> &reasons);
/// Stored form (as text) of reasons_json().
std::string reasons_text(const std::vector<Reason> &reasons);
/// Read a stored reasons_text(); anything else is Error(corrupt).
std::vector<Reason> reasons_from_text(std::string_view stored);

} // namespace spinner_rollback::detail
