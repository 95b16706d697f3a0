// Internal: SHA-256 and hex encoding.
#pragma once

#include <string>
#include <string_view>

namespace spinner_rollback::detail {

/// Raw 32-byte sha256.
std::string sha256_raw(std::string_view bytes);
std::string to_hex(std::string_view bytes);
/// Inverse of to_hex for lowercase hex produced by it.
std::string from_hex(std::string_view hex);

} // namespace spinner_rollback::detail
