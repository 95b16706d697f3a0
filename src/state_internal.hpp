// Internal: the state document's schema (validation + normalisation).
#pragma once

#include "json.hpp"

namespace spinner_rollback::detail {

/// Validate a parsed state document completely and return its normalised
/// form (see docs/state.md): quantities normalised, defaults filled in,
/// arrays keyed by name sorted where order carries no meaning? NO: order of
/// containers, env, args, command is kept; only object keys are sorted by
/// canonical(). Throws Error(invalid, message, "$.json.path").
json::object normalize_state(const json::value &doc);

/// Parse + validate + normalise in one step (parse errors name `what`).
json::object parse_state(std::string_view text, std::string_view what = "state");

/// Quantities. Throw Error(invalid) naming `path` on bad input.
std::int64_t parse_cpu_millis(std::string_view q, const std::string &path);
std::int64_t parse_bytes(std::string_view q, const std::string &path);
std::string format_cpu_millis(std::int64_t millis);  // 500 -> "500m", 2000 -> "2"
std::string format_bytes(std::int64_t bytes);        // 1073741824 -> "1Gi", 1000 -> "1k"? see .cpp

/// DNS-1123 label: [a-z0-9]([-a-z0-9]*[a-z0-9])?, 1..63.
bool is_dns_label(std::string_view s);
/// DNS-1123 subdomain (config map / secret names): labels joined by '.', <= 253.
bool is_dns_subdomain(std::string_view s);

} // namespace spinner_rollback::detail
