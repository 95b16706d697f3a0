// Internal: the VersionStore implementation shared with the planner.
//
// Storage model (docs/architecture.md): a version points at one "core" blob,
// the canonical state with each config map replaced by "blob:<id>" and each
// secret value by a keyed MAC ("hmac:<hex>"), plus "$secretBlobs" naming the
// encrypted secret blobs. Blobs are content-addressed, zstd-compressed and
// reference-counted: versions and the latest-state pointer count references
// to cores; cores count references to config-map and secret blobs.
#pragma once

#include "clock.hpp"
#include "digest.hpp"
#include "crypto.hpp"
#include "diff_internal.hpp"
#include "json.hpp"
#include "db.hpp"

#include <spinner_rollback/version_store.hpp>

#include <map>
#include <memory>
#include <unordered_map>
#include <mutex>

namespace spinner_rollback {

class VersionStore::Impl {
public:
    Impl(const std::string &path, const StoreOptions &options);
    /// Session settings and migrations; returns the schema version found.
    std::int64_t set_up(const StoreOptions &options);

    struct SpinnerRow {
        std::int64_t id = 0;
        std::string name;
        bool enabled = true;
        std::int64_t history_limit = 20;
        std::int64_t last_number = 0;
        std::int64_t current = 0;
        std::string latest_core; // hex id or empty
        std::string updated_at;
    };
    struct VersionRow {
        std::int64_t number = 0;
        std::string created_at, author, message;
        int reason = 0;
        std::string reasons_json, summary, core; // core: hex id
        std::optional<std::int64_t> rollback_of;
        int status = 0;
    };
    /// A state split for storage: the sealed core and the blobs it needs.
    struct Sealed {
        detail::json::object core;
        std::string core_text; // canonical
        std::string core_id;   // hex sha256 of core_text
        std::map<std::string, std::string> maps;    // id -> canonical map text
        std::map<std::string, std::string> secrets; // id -> sealed bytes
    };

    // All of the following require mu held and, for writes, a write Tx.
    std::optional<SpinnerRow> find_spinner(std::string_view name);
    SpinnerRow require_spinner(std::string_view name);
    std::optional<VersionRow> find_version(std::int64_t spinner_id, std::int64_t number);
    /// Throws not_found or pruned naming `what`.
    VersionRow require_version(const SpinnerRow &s, std::int64_t number, const std::string &what);
    std::int64_t min_retained(const SpinnerRow &s);

    /// A verified core: its canonical text and parsed object (cached by id).
    struct CoreEntry {
        std::string text;
        detail::json::object obj;
    };
    std::shared_ptr<const CoreEntry> core_entry(const std::string &id);
    detail::json::object load_core(const std::string &id);
    /// Stored bytes of a blob, decompressed (delta bases resolved), unverified.
    std::string load_blob(const std::string &id, int expected_kind);
    std::string current_core(const SpinnerRow &s);
    detail::json::object load_map(const std::string &id);
    detail::MapLoader loader(const Sealed *pending = nullptr);
    /// Full state from a core: config values loaded; secrets masked, revealed,
    /// or (mode 2) left as MAC tokens for validation.
    enum class Secrets { mask, reveal, tokens };
    detail::json::object materialize(const detail::json::object &core, Secrets mode);

    /// Ensure the data key is available (creating it on first use when `create`).
    void ensure_data_key(bool create);
    Sealed seal(detail::json::object normalized);
    /// Re-seal a core object built from other cores (blobs already stored).
    Sealed reseal(detail::json::object core);
    /// Store the blobs of `s` that are new (no ref change); the core is
    /// delta-compressed against `base` (a stored core id) when given.
    void put(const Sealed &s, const std::string &base);
    bool has_blob(const std::string &id);
    void put_blob(const std::string &id, int kind, std::string_view data, const std::string &base,
                  const std::vector<std::string> &children);
    std::vector<std::string> children(const std::string &id);
    /// Reference counting; a blob's first reference takes one on each child.
    void incref(const std::string &id);
    void decref(const std::string &id);
    void release_base(const std::string &id);
    void drop(const std::string &id);

    Version make_version(const SpinnerRow &s, const VersionRow &r) const;
    /// Append a version; prunes; returns it. `stored`: the caller already
    /// put() the sealed content (record does, for the latest-state pointer).
    Version append(SpinnerRow &s, const Sealed &sealed, int reason,
                   const std::vector<Reason> &reasons, const std::string &summary,
                   std::optional<std::int64_t> rollback_of, const ChangeMeta &meta, bool stored = false);
    void prune(SpinnerRow &s);

    std::optional<std::string> find_request(const SpinnerRow &s, const std::string &request_id,
                                            const std::string &payload, std::int64_t &number,
                                            std::string &reasons_json);
    void save_request(const SpinnerRow &s, const std::string &request_id, const std::string &payload,
                      const std::string &outcome, std::int64_t number, const std::string &reasons_json);

    std::optional<Snapshot> find_snapshot(std::string_view id);
    bool volume_bound(const SpinnerRow &s, std::string_view name, std::string_view volume_id);

    mutable std::mutex mu;
    std::unique_ptr<detail::Db> conn; // SQLite or PostgreSQL
    detail::Db &db;
    StoreOptions opts;
    detail::Keyring keys;
    std::string plan_key;

private:
    std::unordered_map<std::string, std::shared_ptr<const CoreEntry>> cores_;
};

namespace detail {
std::string reasons_to_json(const std::vector<Reason> &reasons);
std::vector<Reason> reasons_from_json(std::string_view text);
bool state_has_secrets(const json::object &normalized);
} // namespace detail

} // namespace spinner_rollback
