// SHA-256 and hex: the content ids of stored blobs and the digests of versions.
#include "digest.hpp"

#include <sodium.h>

namespace spinner_rollback::detail {

std::string sha256_raw(std::string_view bytes) {
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, reinterpret_cast<const unsigned char *>(bytes.data()), bytes.size());
    return std::string(reinterpret_cast<const char *>(h), sizeof h);
}

std::string to_hex(std::string_view bytes) {
    static const char *hex = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (unsigned char c : bytes) {
        out.push_back(hex[c >> 4]);
        out.push_back(hex[c & 15]);
    }
    return out;
}

std::string from_hex(std::string_view hex) {
    std::string out(hex.size() / 2, '\0');
    auto v = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
        out[i / 2] = static_cast<char>(v(hex[i]) * 16 + v(hex[i + 1]));
    return out;
}

} // namespace spinner_rollback::detail
