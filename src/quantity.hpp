// Quantities of the state document: cpu (cores or millicores) and bytes
// (decimal and binary suffixes), parsed exactly and written in normal form.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace spinner_rollback::detail {

/// Parse a quantity into a whole number of millicores / bytes, 1..2^62.
/// Throw Error(invalid) naming `path` on bad input.
std::int64_t parse_cpu_millis(std::string_view q, const std::string &path);
std::int64_t parse_bytes(std::string_view q, const std::string &path);

/// The normal form: 500 -> "500m", 2000 -> "2".
std::string format_cpu_millis(std::int64_t millis);
/// The normal form: the shortest exact spelling, a binary unit on a tie:
/// 1073741824 -> "1Gi", 1000 -> "1k", 1536 -> "1536".
std::string format_bytes(std::int64_t bytes);

} // namespace spinner_rollback::detail
