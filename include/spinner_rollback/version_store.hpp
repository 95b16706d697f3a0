/// @file version_store.hpp
/// @brief VersionStore: immutable, deduplicated, crash-safe version history.
#pragma once

#include <spinner_rollback/export.hpp>
#include <spinner_rollback/snapshot_policy.hpp>
#include <spinner_rollback/state.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace spinner_rollback {

/// Rollout status the host reports for a version: `pending` (new versions),
/// `active`, `failed`, `superseded` (was active; another version is now).
/// @since 0.1
enum class RolloutStatus { pending, active, failed, superseded };

/// JSON name of a status: "pending", "active", "failed" or "superseded".
/// Static storage. @since 0.1
SPR_API const char *to_string(RolloutStatus) noexcept;
/// Parse "pending" | "active" | "failed" | "superseded".
/// @throws Error invalid (path "status")
/// @since 0.1
SPR_API RolloutStatus parse_status(std::string_view);

/// A name pinned on a version. A tagged version is never pruned and does
/// not count toward historyLimit (docs/retention.md). @since 0.2
struct SPR_API Tag {
    std::string name;       ///< a DNS-1123 label, unique per spinner
    std::string note;       ///< why it is pinned; may be empty
    std::string author;     ///< who pinned it; may be empty
    std::string created_at; ///< RFC 3339 UTC: when the name was put on this version
};

/// What VersionStore::tag() sets. @since 0.2
struct SPR_API TagRequest {
    std::string name;   ///< DNS-1123 label (1-63 lowercase letters, digits, '-')
    std::string note;   ///< at most 4096 bytes
    std::string author; ///< at most 256 bytes
    /// Take the name from the version that holds it. Without it, a name
    /// held by another version is a conflict.
    bool move = false;
    /// Parse `{"name", "note", "author", "move"}` ("name" required).
    /// @throws Error invalid naming the field
    static TagRequest from_json(std::string_view json);
};

/// A note on a version, appended after the fact ("v12 broke checkout"). @since 0.2
struct SPR_API Note {
    std::string author;     ///< may be empty; at most 256 bytes
    std::string text;       ///< 1-4096 bytes
    std::string created_at; ///< RFC 3339 UTC, set by the store
    /// Parse `{"author", "text"}` ("text" required; createdAt is the store's).
    /// @throws Error invalid naming the field
    static Note from_json(std::string_view json);
};

/// The notes of one version (what VersionStore::annotate() returns). @since 0.2
struct SPR_API VersionNotes {
    std::string spinner;      ///< the spinner's name
    std::int64_t number = 0;  ///< the version's number
    std::vector<Note> notes;  ///< oldest first
    /// `{"spinner","number","notes":[{"author","text","createdAt"}]}`
    std::string to_json() const;
};

/// What a rollback takes from its target version; everything else stays as
/// it is now (docs/rollback.md, "Scopes"). @since 0.2
struct SPR_API RollbackScope {
    /// Which of the three forms the scope has.
    enum class Kind {
        tracked,    ///< the categories the policy tracks (the default)
        all,        ///< every field but settings
        categories, ///< exactly `categories`
    };
    Kind kind = Kind::tracked; ///< the form; `categories` matters only for Kind::categories
    /// Kind::categories: category names of SnapshotPolicy::all_categories()
    /// that a rollback can restore (image, codeVersion, env, ports,
    /// securityContext, cpu, memory, command, args, instances, mounts,
    /// configValues, secretValues), in that order, without repeats.
    std::vector<std::string> categories;
    /// Whether the scope restores `category` under `policy`.
    bool includes(std::string_view category, const SnapshotPolicy &policy) const;
    /// Parse `"tracked"`, `"all"` or a non-empty array of category names
    /// (any order; stored in documentation order). @throws Error invalid at `path`
    static RollbackScope from_json(std::string_view json, const std::string &path = "scope");
    /// `"tracked"`, `"all"` or the array, accepted back by from_json().
    std::string to_json() const;
    /// Equal when kind and categories are equal.
    friend bool operator==(const RollbackScope &, const RollbackScope &) = default;
};

/// One entry of a spinner's history. Never holds secret values. @since 0.1
struct SPR_API Version {
    std::string spinner;            ///< the spinner's name
    std::int64_t number = 0;        ///< 1, 2, 3 … per spinner, gap-free, never reused
    bool current = false;           ///< true for the newest version only
    std::string created_at;         ///< RFC 3339 UTC with milliseconds
    std::string author;             ///< ChangeMeta::author of the change; may be empty
    std::string message;            ///< ChangeMeta::message of the change; may be empty
    VersionReason reason = VersionReason::deploy; ///< why the version exists
    std::vector<Reason> reasons;    ///< the policy's reasons
    std::string summary;            ///< one line, see summarize()
    std::string digest;             ///< "sha256:<hex>" of the canonical (sealed) state
    /// For a rollback, the version it restored; empty otherwise.
    std::optional<std::int64_t> rollback_of;
    /// The rollout status the host last reported (pending until then).
    RolloutStatus status = RolloutStatus::pending;
    /// For a rollback, what it took from its target; empty otherwise. @since 0.2
    std::optional<RollbackScope> scope;
    /// Names pinned on this version, sorted by name. @since 0.2
    std::vector<Tag> tags;
    /// `{"spinner","number","current","createdAt","author","message","reason","reasons",
    ///   "summary","digest","rollbackOf","scope","status","tags"}` (rollbackOf and
    ///   scope null when empty; tags `[{"name","note","author","createdAt"}]`)
    std::string to_json() const;
};

/// A version with its full state document. @since 0.1
struct SPR_API VersionDetail {
    Version version; ///< the listing fields
    /// The canonical state; secret values are "<redacted>" unless revealed.
    std::string state_json;
    /// Notes on the version, oldest first. @since 0.2
    std::vector<Note> notes;
    /// The listing fields plus "state" and "notes" (`[{"author","text","createdAt"}]`).
    std::string to_json() const;
};

/// What record() did. @since 0.1
struct SPR_API RecordResult {
    Outcome outcome = Outcome::unchanged; ///< created, unchanged or disabled (a string before 0.2)
    std::optional<Version> version;    ///< the new version when created
    /// The policy's reasons when created ({"first","$"} for a first
    /// version); empty otherwise.
    std::vector<Reason> reasons;
    /// `{"outcome", "version": {...} | null, "reasons": [...]}`
    std::string to_json() const;
};

/// Who and why, for record() and commit(). @since 0.1
struct SPR_API ChangeMeta {
    std::string author;  ///< who made the change; may be empty (JSON: at most 256 bytes)
    std::string message; ///< why; may be empty (JSON: at most 4096 bytes)
    /// Idempotency key: a write retried with the same requestId for the same
    /// spinner returns the first result instead of writing again; reused for
    /// a different request it is refused with conflict. record() and
    /// commit() treat it alike: it is remembered while the version it
    /// created is retained (requests that created nothing: the newest 1000
    /// per spinner), then forgotten with it. Empty: none.
    std::string request_id;
    /// commit() only: the user confirmed the plan's extra cost.
    bool confirmed = false;
    /// Compare-and-set: the write happens only if the spinner's current
    /// version is this number (0: the spinner has no version yet); else
    /// conflict and nothing is written. For daemons on several machines.
    /// A retry with the same request_id still returns the first result.
    /// @since 0.2
    std::optional<std::int64_t> expected_current;
    /// Parse `{"author","message","requestId","confirmed","expectedCurrent"}`
    /// (all optional; empty input = defaults). @throws Error invalid
    static ChangeMeta from_json(std::string_view json);
};

/// A volume snapshot made by the host. @since 0.1
struct SPR_API Snapshot {
    std::string id;              ///< the host's id (1-253 bytes, no whitespace)
    std::string volume;          ///< the volumeId it was taken of
    std::int64_t size_bytes = 0; ///< size in bytes (> 0); a volume made from it is at least this big
    std::string created_at;      ///< RFC 3339
    bool ready = false;          ///< whether it can be restored from; plans refuse it otherwise
    /// Storage class (DNS-1123 subdomain) or empty; prices a volume made from
    /// it when the target version's volume names none.
    std::string storage_class;
    std::string metadata_json = "{}"; ///< free JSON object
    /// Parse `{"id","volume","sizeBytes","createdAt","ready","storageClass","metadata"}`.
    /// @throws Error invalid naming the field
    static Snapshot from_json(std::string_view json);
    /// The same fields as from_json() takes, accepted back by it.
    std::string to_json() const;
};

/// A registered snapshot seen as a restore point of one version. @since 0.2
struct SPR_API RestorePoint {
    /// When the snapshot was taken, relative to the time the version was
    /// current (from its creation until the next version's).
    enum class Relation {
        during, ///< while the version was current: its data
        before, ///< before the version was made
        after,  ///< after the next version replaced it
    };
    Snapshot snapshot;                    ///< the registered snapshot
    Relation relation = Relation::during; ///< when it was taken, relative to the version
};

/// JSON name of a relation: "during", "before" or "after". Static storage. @since 0.2
SPR_API const char *to_string(RestorePoint::Relation) noexcept;

/// The restore points of one volume of a version. @since 0.2
struct SPR_API VolumeRestorePoints {
    std::string volume;                  ///< the volume's name in the version's state
    std::vector<std::string> volume_ids; ///< the volumeIds it bound (empty: none named)
    /// Snapshots of those volumeIds: `during` (newest first), then
    /// `before` (newest first), then `after` (oldest first) — the nearest
    /// to the version's own data first.
    std::vector<RestorePoint> snapshots;
};

/// Which snapshots can bring back a version's data (VersionStore::restore_points()). @since 0.2
struct SPR_API RestorePoints {
    std::string spinner;     ///< the spinner's name
    std::int64_t number = 0; ///< the version's number
    std::string current_from;  ///< RFC 3339: when the version became current
    std::string current_until; ///< RFC 3339: when the next version replaced it; empty while current
    std::vector<VolumeRestorePoints> volumes; ///< one per volume of the version's state, in state order
    /// `{"spinner","number","currentFrom","currentUntil" (null while current),
    ///   "volumes": [{"volume","volumeIds","snapshots": [{"id","volume","createdAt",
    ///   "sizeBytes","ready","storageClass","relation"}]}]}`
    std::string to_json() const;
};

/// One change of the store, as its outbox recorded it, in the same
/// transaction as the change (docs/events.md). Never holds a secret value.
/// @since 0.2
struct SPR_API Event {
    /// Gap-free and increasing in commit order, store-wide: a reader never
    /// sees seq N+1 before N.
    std::int64_t seq = 0;
    std::string at; ///< RFC 3339 UTC, when the change was made
    /// "version.created", "rollback.committed", "status.changed", "tag.set",
    /// "tag.removed", "note.added", "snapshot.registered",
    /// "snapshot.deleted", "rollback.disabled", "rollback.enabled",
    /// "versions.pruned", "spinner.imported" or "store.key_rotated".
    std::string type;
    std::string spinner;                 ///< empty for store-wide events (snapshots, keys)
    std::optional<std::int64_t> version; ///< the version concerned, if one
    std::string data_json = "{}";        ///< a JSON object: the type's details (docs/events.md)
};

/// A page of events. @since 0.2
struct SPR_API EventPage {
    std::string store_id;      ///< the store's identity (StoreInfo::store_id): events belong to it
    std::vector<Event> events; ///< oldest first
    /// The seq to ask after next time: the last event's, else the one asked after.
    std::int64_t next = 0;
    /// `{"storeId", "events": [{"seq","at","type","spinner" (null for snapshot
    ///   events), "version" (or null),"data"}], "next"}`
    std::string to_json() const;
};

/// Storage prices for new volumes. @since 0.1
struct SPR_API Pricing {
    std::string currency = "USD"; ///< 3-letter currency code of the prices
    /// Price per GiB-month by storage class; "*" is the fallback.
    std::map<std::string, double> per_gib_month{{"*", 0.10}};
    /// Price for a class (falls back to "*", then 0).
    double price_for(std::string_view storage_class) const;
};

/// A host-supplied cipher (for a KMS). The library generates one random
/// 32-byte data key per store and asks the cipher to wrap it once; every
/// secret value is then sealed locally with XChaCha20-Poly1305 under keys
/// derived from the data key. Implementations must be thread-safe.
/// Failures are reported by throwing (any exception becomes SPR_E_NO_KEY).
/// @since 0.1
class SPR_API Cipher {
public:
    virtual ~Cipher();
    /// Wrap `plaintext` (the store's data key). Called once per store, the
    /// first time a secret value is stored. @return the wrapped bytes
    virtual std::string encrypt(std::string_view plaintext) = 0;
    /// Unwrap what encrypt() returned; must return exactly the original
    /// bytes. Called when a store holding a data key is opened (or first
    /// needs the key).
    /// @return the unwrapped bytes
    virtual std::string decrypt(std::string_view ciphertext) = 0;
};

/// How hard a commit waits for the disk. @since 0.1
enum class Durability {
    full,   ///< fsync per commit: a recorded version survives power loss (default);
            ///< PostgreSQL: synchronous_commit on
    normal  ///< survives a process crash; the last commits may be lost on power loss
            ///< (PostgreSQL: synchronous_commit off, lost on a server crash)
};

/// One key of a keyring (StoreOptions::keys). @since 0.2
struct SPR_API KeyringEntry {
    /// A label for the key (1-64 of [A-Za-z0-9._-]): reported by
    /// rotate_key(), never stored.
    std::string id;
    /// 32-byte key as 64 hex digits or base64; or:
    std::string key;
    /// the path of a file holding it.
    std::string key_file;
};

/// Options for VersionStore::open. @since 0.1
struct SPR_API StoreOptions {
    /// 32-byte key as 64 hex digits or base64; encrypts secret values.
    std::string key;
    /// Path of a file holding the key (same encodings; whitespace trimmed).
    std::string key_file;
    /// Host cipher (KMS). Give a cipher, a key or a key file: open()
    /// refuses a cipher together with a key (invalid at "cipher"), as the C
    /// API does.
    std::shared_ptr<Cipher> cipher;
    /// A keyring (instead of key or key_file): the first key wraps the
    /// store's data key, any key unwraps it, so a new key can be put first
    /// while the old one still opens the store until rotate_key() has run
    /// (docs/operations.md, "Rotating keys"). At most 16 keys, distinct ids.
    /// @since 0.2
    std::vector<KeyringEntry> keys;
    /// Prices of volumes that plans provision from snapshots.
    Pricing pricing;
    /// Decides when a recorded state becomes a version.
    SnapshotPolicy policy;
    /// How long a call waits for another connection's lock before failing
    /// with busy, in milliseconds (>= 0; from_json: 0-3600000). PostgreSQL:
    /// the session's lock_timeout.
    int busy_timeout_ms = 5000;
    /// How hard a commit waits for the disk.
    Durability durability = Durability::full;
    /// At most this many tagged versions per spinner (1-10000); tagging one
    /// more is a conflict. @since 0.2
    std::int64_t max_tagged_versions = 50;
    /// The outbox keeps the newest this many events (1-100000000). @since 0.2
    std::int64_t events_limit = 100000;
    /// Parse `{"key"|"keyFile"|"keys": [{"id", "key"|"keyFile"}], "pricing": {"currency", "perGiBMonth": {...}},
    /// "policy": {"triggers": [...]}, "busyTimeoutMs", "durability": "full"|"normal",
    /// "maxTaggedVersions", "eventsLimit"}`.
    /// Unknown fields are refused. @throws Error invalid naming the field
    static StoreOptions from_json(std::string_view json);
};

/// Facts about the store itself. @since 0.2
struct SPR_API StoreInfo {
    /// A UUID made when the store was created (or first opened by 0.2);
    /// kept by schema migrations, so it names the store for its lifetime.
    std::string store_id;
    std::string engine;             ///< "sqlite" or "postgres"
    std::int64_t schema_version = 0; ///< the store's schema version
    std::string library_version;    ///< version_string() of the library that answered
    /// `{"storeId","engine","schemaVersion","libraryVersion"}`
    std::string to_json() const;
};

/// How rotate_key() works. @since 0.2
struct SPR_API RotateOptions {
    /// Also make a new data key and re-seal every secret under it, in
    /// batches (one transaction each), resumable: a call after a crash
    /// continues where the last batch ended.
    bool reseal = false;
    /// Secrets re-sealed per transaction (1-100000).
    std::int64_t batch_size = 500;
    /// Parse `{"reseal": bool, "batchSize": n}`. @throws Error invalid naming the field
    static RotateOptions from_json(std::string_view json);
};

/// What rotate_key() did. @since 0.2
struct SPR_API RotateResult {
    /// The id of the keyring's first key, which now wraps the store's keys
    /// ("" for a single `key`/`key_file`, "cipher" for a host cipher).
    std::string key_id;
    std::int64_t rewrapped = 0; ///< wrapped keys rewritten (0: the store holds no secret)
    std::int64_t resealed = 0;  ///< secrets re-sealed by this call
    bool resumed = false;       ///< it continued an interrupted reseal
    /// `{"keyId","rewrapped","resealed","resumed"}`
    std::string to_json() const;
};

/// The key that seals a bundle's secret values (export) and opens them
/// (import): 32 bytes as 64 hex digits or base64, or a file holding them.
/// Not needed when no exported version holds a secret. @since 0.2
struct SPR_API BundleOptions {
    std::string key;      ///< 64 hex digits or base64 of 32 bytes
    std::string key_file; ///< or the path of a file holding it
    /// Parse `{"key"|"keyFile"}`. @throws Error invalid naming the field
    static BundleOptions from_json(std::string_view json);
};

/// What export_bundle() wrote. @since 0.2
struct SPR_API ExportResult {
    std::int64_t spinners = 0;  ///< spinners written
    std::int64_t versions = 0;  ///< versions written
    std::int64_t secrets = 0;   ///< distinct secret values sealed into the bundle
    std::int64_t snapshots = 0; ///< snapshot records written
    /// `{"spinners","versions","secrets","snapshots"}`
    std::string to_json() const;
};

/// What import_bundle() did. @since 0.2
struct SPR_API ImportResult {
    std::string source_store_id;       ///< the storeId the bundle came from
    std::int64_t spinners_imported = 0; ///< spinners new to this store
    std::int64_t spinners_skipped = 0;  ///< spinners already here with the same history
    std::int64_t versions_imported = 0;  ///< versions of the spinners imported
    std::int64_t versions_skipped = 0;   ///< versions of the spinners skipped
    std::int64_t snapshots_imported = 0; ///< snapshots newly registered
    std::int64_t snapshots_skipped = 0; ///< already registered (same id)
    /// `{"sourceStoreId","spinnersImported","spinnersSkipped","versionsImported",
    /// "versionsSkipped","snapshotsImported","snapshotsSkipped"}`
    std::string to_json() const;
};

/// What migrate_to() did. @since 0.2
struct SPR_API MigrateResult {
    std::string target_store_id; ///< the target's storeId (its own: a copy is a new store)
    ImportResult imported;       ///< what the import into the target did
    std::int64_t versions_verified = 0; ///< versions whose digest was compared after the copy
    /// `{"targetStoreId","versionsVerified","imported":{...}}`
    std::string to_json() const;
};

/// Per-spinner facts the store keeps even when no version is created. @since 0.1
struct SPR_API SpinnerInfo {
    std::string spinner;              ///< the spinner's name
    bool rollback_enabled = true;     ///< settings.rollback.enabled of the latest state
    std::int64_t history_limit = 20;  ///< settings.rollback.historyLimit of the latest state
    std::int64_t current_version = 0; ///< 0 when no version exists
    std::int64_t versions_created = 0; ///< highest number ever assigned
    /// RFC 3339 time the latest state last changed: a record() of a state
    /// other than the latest one, or a commit(). Recording the latest state
    /// again writes nothing, so it does not move this time.
    std::string last_recorded_at;
    /// `{"spinner","rollbackEnabled","historyLimit","currentVersion","versionsCreated","lastRecordedAt"}`
    std::string to_json() const;
};

/// The version history of many spinners, in one SQLite file or one
/// PostgreSQL schema (docs/backends.md). Both engines give the same results
/// and the same error codes.
///
/// Thread safety: one VersionStore may be used from many threads at once;
/// several processes (on several machines, with PostgreSQL) may open the
/// same store at once. Every write is one transaction, serialised with every
/// other writer of the store; numbering stays gap-free under contention.
///
/// fork(): safe at any time; it waits until no thread is inside the library.
/// A child opens its own VersionStore (the same store included); one opened
/// before fork() throws invalid (path "store") in the child, and destroying
/// it there is safe and leaves the parent's connection alone.
///
/// Errors: every method throws Error; the codes each can throw are listed.
/// Besides them, any method may throw busy, io, corrupt or internal.
/// @since 0.1
class SPR_API VersionStore {
public:
    /// Open (creating if needed) the store at `path` and apply pending schema
    /// migrations.
    /// @param path where the store lives: a SQLite file path (`file:` URIs
    ///        accepted), or a libpq URI starting `postgres://` or
    ///        `postgresql://` — the store is then the tables of the
    ///        connection's current schema (set it with
    ///        `options=-csearch_path%3D<schema>`), which must exist
    /// @param options key or cipher, pricing, policy, timeouts
    /// @return the store; destroying it closes the file or connection
    /// @throws Error invalid (empty path, options; key and key_file, or a
    /// cipher and a key, both given), no_key (key file
    /// unreadable, key does not match the store, or cipher failure), io
    /// (cannot open or connect, no schema to create the store in, or written
    /// by a newer release), corrupt, busy. Errors never echo a password.
    ///
    /// With PostgreSQL, a lost connection fails the call in progress with io
    /// and the next call reconnects; retry writes with the same request_id
    /// (a COMMIT whose answer was lost may have been applied).
    static std::unique_ptr<VersionStore> open(const std::string &path,
                                              const StoreOptions &options = {});
    ~VersionStore();
    VersionStore(const VersionStore &) = delete;
    VersionStore &operator=(const VersionStore &) = delete;

    /// Validate `state_json`, store it as the spinner's latest state, and
    /// create a new version when the policy says so. Recording the latest
    /// state again (what a reconcile loop does) writes nothing and takes no
    /// lock: one read (without a request_id).
    /// @param spinner DNS-1123 label (1–63 chars)
    /// @param state_json the full state document (see state.hpp)
    /// @param meta who and why; a retry with the same request_id returns the
    ///        first result
    /// @return the outcome, the new version if any, and the policy's reasons
    /// @throws Error invalid (spinner name, state; path names the JSON path),
    ///         no_key (secret values but no key configured, or cipher failure),
    ///         conflict (request_id already used for a different state)
    RecordResult record(std::string_view spinner, std::string_view state_json,
                        const ChangeMeta &meta = {});

    /// Retained versions, newest (current) first; empty when none was ever
    /// created. @throws Error invalid (spinner name), not_found
    std::vector<Version> versions(std::string_view spinner) const;

    /// One page of the retained versions, newest first: at most `limit`
    /// versions numbered below `before` (0 = from the newest). The next page
    /// starts before the last number returned; an empty page is the end.
    /// Its cost grows with `limit`, not with the history's length.
    /// @throws Error invalid (spinner name; `before` < 0 at path "before";
    ///         `limit` outside 1-10000 at path "limit"), not_found
    /// @since 0.1
    std::vector<Version> versions(std::string_view spinner, std::int64_t before, std::int64_t limit) const;

    /// One version with its state. With reveal_secrets the secret values are
    /// decrypted (needs the key). @throws Error invalid (spinner name),
    /// not_found, pruned, no_key, corrupt
    VersionDetail get(std::string_view spinner, std::int64_t number,
                      bool reveal_secrets = false) const;

    /// Field-level diff from version `from` to version `to` (secrets masked).
    /// @throws Error invalid (spinner name), not_found, pruned
    Diff diff(std::string_view spinner, std::int64_t from, std::int64_t to) const;

    /// Record the rollout status the host observed for a version. Setting
    /// "active" marks the spinner's other active versions "superseded".
    /// @throws Error not_found, pruned, invalid
    void set_status(std::string_view spinner, std::int64_t number, RolloutStatus status);

    /// Pin `tag.name` on version `number`: a tagged version is never pruned
    /// and does not count toward historyLimit. Tagging the version that
    /// already holds the name updates its note and author.
    /// @return the version's listing, with its tags
    /// @throws Error invalid (spinner name, tag name, note or author),
    ///   not_found, pruned, conflict (the name is on another version and
    ///   `move` is false; or the spinner already has max_tagged_versions
    ///   tagged versions, or this version 16 tags)
    /// @since 0.2
    Version tag(std::string_view spinner, std::int64_t number, const TagRequest &tag);
    /// Remove a tag. The version is pruned by the next write if retention
    /// no longer keeps it. @throws Error invalid (spinner name; a name that
    /// is not UTF-8), not_found (spinner or tag)
    /// @since 0.2
    void untag(std::string_view spinner, std::string_view name);
    /// The number of the version that holds tag `name`.
    /// @throws Error invalid (spinner name; a name that is not UTF-8),
    ///         not_found (spinner or tag) @since 0.2
    std::int64_t tagged(std::string_view spinner, std::string_view name) const;
    /// Append a note to version `number` (at most 100 per version). A note
    /// equal to the version's last one (author and text) is not appended
    /// again, so a retry is harmless.
    /// @return the version's notes, oldest first
    /// @throws Error invalid (text empty or too long, too many notes),
    ///   not_found, pruned @since 0.2
    VersionNotes annotate(std::string_view spinner, std::int64_t number, const Note &note);

    /// Facts about a spinner. @throws Error invalid (spinner name), not_found
    SpinnerInfo spinner_info(std::string_view spinner) const;
    /// Names of all spinners the store knows, sorted.
    std::vector<std::string> spinners() const;
    /// The store's identity, engine and schema version. @since 0.2
    StoreInfo info() const;

    /// The restore points of version `number`: for each of its volumes,
    /// the registered snapshots of the volumeIds it bound, ranked (see
    /// VolumeRestorePoints). @throws Error invalid, not_found, pruned
    /// @since 0.2
    RestorePoints restore_points(std::string_view spinner, std::int64_t number) const;

    /// Re-wrap the store's keys under the keyring's first key, in one
    /// transaction, so older keys can then be removed from the ring. With
    /// `reseal`, also replace the data key and re-seal every secret value in
    /// batches; readers and writers in other processes go on meanwhile. No
    /// digest and no comparison changes: the MAC key that makes equal
    /// secrets equal is kept (docs/operations.md, "Rotating keys").
    /// @throws Error no_key (no key configured; no key of the ring opens the
    ///   store's keys), invalid (batch_size)
    /// @since 0.2
    RotateResult rotate_key(const RotateOptions &options = {});

    /// Write the history of `spinner` (empty: every spinner) and the
    /// snapshots its volumes bound to a bundle file (docs/bundles.md): the
    /// file is written whole, then renamed onto `path`. Secret values stay
    /// sealed, under a fresh bundle key wrapped by `options`' key.
    /// @throws Error invalid (spinner name, path), not_found, no_key (secrets
    ///   to export but no bundle key, or the store's key missing), io
    /// @since 0.2
    ExportResult export_bundle(std::string_view spinner, const std::string &path,
                               const BundleOptions &options = {}) const;
    /// Import a bundle in one transaction: each spinner new to this store
    /// gets its history exactly (numbers, times, authors, statuses, tags,
    /// notes, digests); a spinner already here with the same versions is
    /// skipped, so importing twice changes nothing. Into an empty store,
    /// the store adopts the bundle's MAC key so digests stay identical.
    /// @throws Error invalid (the bundle: line and reason; nothing written),
    ///   conflict (a spinner here has another history, or the store holds
    ///   secrets under another MAC key), no_key (the bundle holds secrets:
    ///   no bundle key, a wrong one, or this store has no key), io
    /// @since 0.2
    ImportResult import_bundle(const std::string &path, const BundleOptions &options = {});
    /// Copy every spinner into the store at `target` (SQLite or
    /// PostgreSQL, see open()), then read back every version of the copy
    /// and compare digests and counts; success only when all match.
    /// @throws Error as open() and import_bundle(); corrupt when a check fails
    /// @since 0.2
    MigrateResult migrate_to(const std::string &target, const StoreOptions &target_options) const;

    /// Events after seq `after` (0: from the oldest kept), oldest first, at
    /// most `limit` (1-10000). @throws Error invalid (after < 0 at "after",
    /// limit at "limit") @since 0.2
    EventPage events(std::int64_t after, std::int64_t limit = 1000) const;
    /// events(after), waiting up to `timeout_ms` (0-3600000) for one to
    /// exist; an empty page when none came. A commit by any process or
    /// connection wakes it within about 25 ms. Other calls on this handle
    /// are not blocked while it waits. @since 0.2
    EventPage wait_events(std::int64_t after, std::int64_t timeout_ms, std::int64_t limit = 1000) const;

    /// Register (or replace, same id) a volume snapshot made by the host.
    /// @throws Error invalid
    void register_snapshot(const Snapshot &snapshot);
    /// Snapshots of one volumeId (all when empty), newest first.
    /// @throws Error invalid (a volume that is not UTF-8)
    std::vector<Snapshot> snapshots(std::string_view volume = {}) const;
    /// Delete a snapshot record. @throws Error invalid (empty id, or not
    /// UTF-8), not_found
    void delete_snapshot(std::string_view id);

    /// The snapshot policy the store was opened with.
    const SnapshotPolicy &policy() const noexcept;
    /// The pricing the store was opened with.
    const Pricing &pricing() const noexcept;

private:
    friend class RollbackPlanner; // plans and commits run as the store's transactions
    class Impl;
    explicit VersionStore(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

} // namespace spinner_rollback
