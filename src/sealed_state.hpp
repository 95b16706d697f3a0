// Internal: a state document split for storage, and back.
//
// The owner of the stored format: a version's "core" is the canonical state
// in which each config map is replaced by "blob:<sha256 id>" and each secret
// value by a keyed MAC "hmac:<hex>", plus "$secretBlobs" naming the sealed
// secret blobs. The core's sha256 is the version's digest.
#pragma once

#include "blob_store.hpp"
#include "crypto.hpp"
#include "diff_internal.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace spinner_rollback::detail {

/// A state split for storage: the sealed core and the blobs it needs.
struct Sealed {
    Sealed() = default;
    Sealed(Sealed &&) = default;
    Sealed &operator=(Sealed &&) = default;
    Sealed(const Sealed &) = delete;
    Sealed &operator=(const Sealed &) = delete;
    ~Sealed(); // wipes the secrets' plaintext

    json::object core;
    std::string core_text; ///< canonical
    std::string core_id;   ///< hex sha256 of core_text
    std::map<std::string, std::string> maps; ///< id -> canonical map text
    /// id -> the secret's canonical plaintext, encrypted by put() only when
    /// the store does not hold that secret yet (equal secrets have equal ids).
    std::map<std::string, std::string> secrets;
};

/// How materialize() treats secret values.
enum class Secrets {
    mask,   ///< "<redacted>"
    reveal, ///< decrypted (needs the key)
    tokens, ///< left as their MAC tokens (enough to validate a state)
};

/// The store's wrapped keys, if it has a data key.
std::optional<StoredKeys> read_stored_keys(Db &db);

/// Whether a normalised state holds secret values.
bool has_secret_values(const json::object &state);

/// The config-map and secret blob ids a core references.
std::vector<std::string> sealed_children(const json::object &core);

/// Seal, store and materialise states. Not thread-safe: used under the
/// store's mutex, inside the caller's transaction.
class SealedState {
public:
    SealedState(Db &db, BlobStore &blobs, Keyring &keys) : db_(db), blobs_(blobs), keys_(keys) {}

    /// Whether seal() of this normalised state needs no write (it writes
    /// only to create the store's data key, for the first secret ever).
    bool seals_read_only(const json::object &normalized) const;
    /// Split a normalised state: config maps to blobs, secret values to
    /// keyed MACs (the plaintext stays in Sealed::secrets until put()).
    Sealed seal(json::object normalized);
    /// A core built from other cores (its blobs are already stored).
    static Sealed reseal(json::object core);
    /// Store what `s` needs that is not stored yet (no reference taken);
    /// the core is delta-compressed against `base` (a stored core id) when given.
    void put(const Sealed &s, const std::string &base);
    /// The full state of a core: config values loaded, secrets per `mode`.
    json::object materialize(const json::object &core, Secrets mode);
    /// Loads config maps by placeholder, from `pending` first.
    MapLoader loader(const Sealed *pending = nullptr);

    /// A key or cipher was configured.
    bool has_key() const noexcept { return keys_.configured(); }
    /// Load the store's data key now if it has one (a wrong key fails at open).
    void load_data_key();
    /// Reload the store's keys when another handle changed them (or a
    /// reseal is under way); whether they were reloaded.
    bool refresh_keys();
    /// The plaintext of secret blob `id`, verified against its keyed id.
    std::string open_secret(const std::string &id);

    /// Load the data key, creating it when the store has none and `create`
    /// (else not_found); no_key without a key.
    void ensure_data_key(bool create);

private:

    Db &db_;
    BlobStore &blobs_;
    Keyring &keys_;
};

} // namespace spinner_rollback::detail
