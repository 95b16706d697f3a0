// The state document's schema: validation and normalisation (docs/state.md).
#pragma once

#include "json.hpp"

#include <string_view>

namespace spinner_rollback::detail {

/// Validate a parsed state document completely and return its normalised
/// form (see docs/state.md): quantities normalised, defaults filled in. The
/// order of arrays (containers, env, args, command, ...) is kept; object keys
/// are put in order by canonical(). Throws Error(invalid, message, "$.json.path").
json::object normalize_state(const json::value &doc);

/// Parse + validate + normalise in one step (parse errors name `what`).
json::object parse_state(std::string_view text, std::string_view what = "state");

} // namespace spinner_rollback::detail
