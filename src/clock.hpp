// Internal: wall-clock time and RFC 3339 timestamps.
#pragma once

#include <string>
#include <string_view>

namespace spinner_rollback::detail {

/// Current time as RFC 3339 UTC with milliseconds, e.g. 2026-11-26T08:00:00.123Z
std::string now_rfc3339();
/// True if `s` is an RFC 3339 timestamp (date-time with Z or offset).
bool is_rfc3339(std::string_view s);
/// The same instant as UTC with milliseconds ("…T02:00:00.500Z"), so that
/// timestamps sort as text; empty if `s` is not a valid RFC 3339 time.
std::string normalize_rfc3339(std::string_view s);

} // namespace spinner_rollback::detail
