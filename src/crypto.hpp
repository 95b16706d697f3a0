// Internal: secret sealing (libsodium) and keyed digests.
//
// Key hierarchy: the host's 32-byte key (or its KMS cipher) wraps one random
// data key per store; the data key derives an encryption key (XChaCha20-
// Poly1305) and a MAC key (BLAKE2b) used for content ids of secret blobs and
// per-value MACs, so equal values deduplicate without revealing them.
#pragma once

#include <spinner_rollback/version_store.hpp>

#include <array>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace spinner_rollback::detail {

using Key = std::array<unsigned char, 32>;

/// Decode 64 hex digits or base64 of 32 bytes. Throws Error(invalid, path).
Key parse_key(std::string_view text, const std::string &path);
/// Read and decode a key file. Throws Error(no_key) if unreadable.
Key read_key_file(const std::string &file);

void ensure_sodium();
std::string random_bytes(std::size_t n);

class Keyring {
public:
    Keyring(std::optional<Key> master, std::shared_ptr<Cipher> cipher);
    /// A key or a cipher was given.
    bool configured() const noexcept { return master_.has_value() || cipher_ != nullptr; }
    /// Wrap a fresh random data key; returns (wrapped bytes) and keeps it.
    std::string create_data_key();
    /// Unwrap a stored data key. Throws Error(no_key) when it does not open.
    void load_data_key(std::string_view wrapped);
    bool ready() const noexcept { return ready_; }

    /// Keyed content id of a secret blob (64 hex).
    std::string secret_id(std::string_view plaintext) const;
    /// Keyed MAC of one secret value, "hmac:<32 hex>".
    std::string value_mac(std::string_view name, std::string_view key, std::string_view value) const;
    /// Encrypt with the id as associated data: nonce || ciphertext.
    std::string seal(std::string_view id, std::string_view plaintext) const;
    /// Decrypt; throws Error(corrupt) on failure.
    std::string open(std::string_view id, std::string_view sealed) const;

private:
    void derive(std::string_view data_key);

    std::optional<Key> master_;
    std::shared_ptr<Cipher> cipher_;
    bool ready_ = false;
    Key enc_{};
    Key mac_{};
};

} // namespace spinner_rollback::detail
