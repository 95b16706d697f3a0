// Internal: secret sealing (libsodium) and keyed digests.
//
// Key hierarchy: the host's keyring (or its KMS cipher) wraps one random
// data key per store; the data key derives an encryption key (XChaCha20-
// Poly1305); a MAC key (BLAKE2b), fixed for the store's lineage, makes the
// content ids of secret blobs and per-value MACs, so equal values
// deduplicate without revealing them.
#pragma once

#include <spinner_rollback/version_store.hpp>

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace spinner_rollback::detail {

using Key = std::array<unsigned char, 32>;

/// Decode 64 hex digits or base64 of 32 bytes. Throws Error(invalid, path).
Key parse_key(std::string_view text, const std::string &path);
/// Read and decode a key file. Throws Error(no_key) if unreadable.
Key read_key_file(const std::string &file);

void ensure_sodium();
std::string random_bytes(std::size_t n);

/// One key of the host's keyring (StoreOptions::keys): `id` labels it.
struct NamedKey {
    std::string id;
    Key key{};
};

/// The store's wrapped keys as kept in its meta table.
struct StoredKeys {
    std::string data_key;            ///< wrapped; derives the encryption key (and, without mac_key, the MAC key)
    std::optional<std::string> mac_key; ///< wrapped MAC key itself, once the data key has changed
    std::optional<std::string> previous; ///< wrapped previous data key while a reseal is under way
};

/// AEAD with `id` as associated data: nonce || ciphertext.
std::string seal_with(const Key &key, std::string_view id, std::string_view plaintext);
/// The plaintext, or nothing when `sealed` does not open under `key`.
std::optional<std::string> open_with(const Key &key, std::string_view id, std::string_view sealed);

/// Keyed content id of a secret blob (64 hex) under MAC key `mac`.
std::string keyed_secret_id(const Key &mac, std::string_view plaintext);
/// Keyed MAC of one secret value under `mac`, "hmac:<32 hex>".
std::string keyed_value_mac(const Key &mac, std::string_view name, std::string_view key, std::string_view value);

/// Host keys and the store's data key.
///
/// Key hierarchy (docs/operations.md, "Rotating keys"): the host keyring's
/// first key (or the host cipher) wraps the store's data key; any key of the
/// ring unwraps. The data key derives the encryption key. The MAC key —
/// which makes equal secrets compare equal and so enters every digest — is
/// derived from the first data key a store ever had and never changes: once
/// the data key is replaced (reseal) the MAC key is kept wrapped on its own.
class Keyring {
public:
    Keyring(std::vector<NamedKey> keys, std::shared_ptr<Cipher> cipher);
    ~Keyring();
    Keyring(const Keyring &) = delete;
    Keyring &operator=(const Keyring &) = delete;

    /// A key or a cipher was given.
    bool configured() const noexcept { return !keys_.empty() || cipher_ != nullptr; }
    /// The id of the key that wraps (the first), "cipher" for a host cipher.
    std::string wrapping_key_id() const;
    /// Wrap 32 key bytes under the first key (or the cipher).
    std::string wrap(std::string_view key_bytes) const;
    /// Unwrap under whichever key opens it; `opened_by` gets that key's id.
    /// Throws Error(no_key) when none does.
    std::string unwrap(std::string_view wrapped, std::string *opened_by = nullptr) const;

    /// Make a fresh data key and use it; returns it wrapped.
    std::string create_data_key();
    /// Use the store's keys. Throws Error(no_key) when they do not open.
    /// Returns whether the MAC key changed (it was ready with another one).
    bool load(const StoredKeys &stored);
    /// The wrapped data key last created or loaded (to notice a change).
    const std::string &loaded_data_key() const noexcept { return loaded_; }
    /// The wrapped MAC key last loaded, if the store keeps one.
    const std::optional<std::string> &loaded_mac_key() const noexcept { return loaded_mac_; }
    bool ready() const noexcept { return ready_; }
    /// Counts every change of the keys in use (create, load, adopt).
    std::uint64_t generation() const noexcept { return generation_; }
    /// Forget the keys in use if they changed since generation `since`: the
    /// write transaction that created, loaded or adopted them rolled back,
    /// so the store may not hold them. The next use reads the store's keys
    /// again (ensure/load), as at open.
    void forget_since(std::uint64_t since) noexcept;

    /// Keyed content id of a secret blob (64 hex).
    std::string secret_id(std::string_view plaintext) const { return keyed_secret_id(mac_, plaintext); }
    /// Keyed MAC of one secret value, "hmac:<32 hex>".
    std::string value_mac(std::string_view name, std::string_view key, std::string_view value) const {
        return keyed_value_mac(mac_, name, key, value);
    }
    /// Encrypt with the id as associated data: nonce || ciphertext.
    std::string seal(std::string_view id, std::string_view plaintext) const;
    /// Decrypt under the data key, else the previous one during a reseal;
    /// nothing when neither opens it.
    std::optional<std::string> try_open(std::string_view id, std::string_view sealed) const;
    /// try_open(), throwing Error(corrupt) on failure.
    std::string open(std::string_view id, std::string_view sealed) const;

    /// The MAC key (for bundles, which carry it wrapped). Needs ready().
    const Key &mac_key() const noexcept { return mac_; }
    /// Use `mac` as the MAC key from now on (an import adopting a lineage;
    /// the caller stores it wrapped as the store's mac_key).
    void adopt_mac_key(const Key &mac, std::string wrapped) noexcept {
        mac_ = mac;
        loaded_mac_ = std::move(wrapped);
        ++generation_;
    }
    /// The encryption key derived from 32 data-key bytes.
    static Key encryption_key(std::string_view data_key);

private:
    std::vector<NamedKey> keys_;
    std::shared_ptr<Cipher> cipher_;
    bool ready_ = false;
    std::uint64_t generation_ = 0;
    std::string loaded_;
    std::optional<std::string> loaded_mac_;
    Key enc_{};
    std::optional<Key> prev_enc_;
    Key mac_{};
};

/// Scope of one transaction: unless committed() is called, the keys it
/// created, loaded or adopted are forgotten when it ends (Keyring::forget_since),
/// so a rolled-back write never leaves this handle sealing secrets under a
/// data key the store does not hold.
class KeysFollowTx {
public:
    explicit KeysFollowTx(Keyring &keys) noexcept : keys_(keys), since_(keys.generation()) {}
    ~KeysFollowTx() {
        if (!committed_) keys_.forget_since(since_);
    }
    KeysFollowTx(const KeysFollowTx &) = delete;
    KeysFollowTx &operator=(const KeysFollowTx &) = delete;
    void committed() noexcept { committed_ = true; }

private:
    Keyring &keys_;
    std::uint64_t since_;
    bool committed_ = false;
};

} // namespace spinner_rollback::detail
