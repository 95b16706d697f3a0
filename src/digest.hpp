// Internal: SHA-256, HMAC-SHA256 and hex encoding.
#pragma once

#include <string>
#include <string_view>

namespace spinner_rollback::detail {

/// Raw 32-byte sha256.
std::string sha256_raw(std::string_view bytes);
/// HMAC-SHA256 of `data` under `key`, 64 hex digits.
std::string hmac_sha256_hex(std::string_view key, std::string_view data);
std::string to_hex(std::string_view bytes);
/// Inverse of to_hex for lowercase hex produced by it.
std::string from_hex(std::string_view hex);

} // namespace spinner_rollback::detail
