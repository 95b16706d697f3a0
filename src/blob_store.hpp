// Internal: content-addressed blobs — compression, delta cores, reference
// counts, garbage collection and a cache of verified cores.
//
// Two counts per blob: `refs` (versions, latest-state pointers, and cores
// holding a config map or secret) keeps its children alive; `base_refs`
// (deltas built on a core) keeps only its bytes. A blob is deleted when both
// reach zero, in the same transaction.
#pragma once

#include "db.hpp"
#include "json.hpp"

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace spinner_rollback::detail {

enum class BlobKind { core = 1, map = 2, secret = 3 };

/// Thrown by a BlobStore in cache-only mode when content is not cached: the
/// caller falls back to a read transaction.
struct NotCached {};

/// A verified core: its canonical text and parsed object.
struct CoreEntry {
    std::string text;
    json::object obj;
};

/// The blobs table. Not thread-safe: used under the store's mutex, inside
/// the caller's transaction.
class BlobStore {
public:
    explicit BlobStore(Db &db);

    /// A verified core (cached by id: cores are immutable). corrupt when
    /// missing, of another kind, or failing its sha256 id.
    std::shared_ptr<const CoreEntry> core(const std::string &id);
    /// Cache a core that is being stored (its id is the sha256 of `text`).
    void cache_core(const std::string &id, std::string text, json::object obj);
    /// A verified config map (cached by id: config maps are immutable).
    std::shared_ptr<const json::object> map(const std::string &id);
    /// Stored bytes of a config map or secret blob, decompressed, unverified.
    std::string load(const std::string &id, BlobKind kind);
    /// The text of core `id`: its delta chain read in one statement and
    /// decoded from the nearest full or cached core (not verified: core() does).
    std::string core_text(const std::string &id);

    /// While set, core() and map() answer from the cache only and throw
    /// NotCached otherwise (reads that want one round trip, see CacheOnly).
    void set_cache_only(bool on) noexcept { cache_only_ = on; }
    bool cache_only() const noexcept { return cache_only_; }

    /// Whether a blob is stored (inside a write transaction: from its facts).
    bool contains(const std::string &id);

    // Reference counting in a write transaction works on facts about the
    // rows (counts, base, children) read once, in batches; the writes are
    // plain updates that need no answer (PostgreSQL sends them with the
    // next batch). Facts are valid under the writer lock only.

    /// Forget the facts (at the start and end of each write transaction).
    void forget_facts() noexcept { facts_.clear(); }
    /// Facts about blobs a write will touch, sent now and read by take():
    /// `ids` and, for `spinner` (may be empty), the cores of its latest
    /// state, its current version, version `also` (0: none) and the versions
    /// retention may remove at `history_limit` (none: the spinner's), each
    /// with its chain of delta bases. Only where batches pay off
    /// (Db::prefers_batches); elsewhere facts are read on demand.
    class Prefetch {
    public:
        /// Read the answers into the store's facts.
        void take();
        Prefetch(Prefetch &&) = default;

    private:
        friend class BlobStore;
        explicit Prefetch(BlobStore &b) : b_(&b) {}
        BlobStore *b_;
        std::vector<std::unique_ptr<Stmt>> st_;
    };
    Prefetch prefetch(const std::vector<std::string> &ids, std::string_view spinner = {},
                      std::optional<std::int64_t> history_limit = std::nullopt, std::int64_t also = 0);
    /// Store a blob unless present (content-addressed: never recompressed).
    /// A core is delta-compressed against `base` (a stored core id) when given.
    /// `children` are the blobs it will hold references on.
    void put(const std::string &id, BlobKind kind, std::string_view data, const std::string &base,
             const std::vector<std::string> &children);
    /// Take a reference; a blob's first reference takes one on each child.
    void incref(const std::string &id);
    /// Drop a reference; at zero its children are released and, unless a
    /// delta still builds on it, the blob is deleted.
    void decref(const std::string &id);

private:
    // What a write needs to know about a stored blob.
    struct Facts {
        bool exists = false;
        std::int64_t kind = 0, refs = 0, base_refs = 0, depth = 0;
        std::string base;                   // hex id of its delta base, or empty
        std::optional<std::string> children; // raw 32-byte ids; none: rows before schema 2
    };
    // Facts about `id`: known, else read (one statement).
    Facts &facts(const std::string &id);
    void learn(const Stmt &st);
    // A child's reference (a config map or secret: no children, no base);
    // without facts, by statements alone.
    void decref_child(const std::string &id);
    void evict(const std::string &id);
    std::vector<std::string> children(const std::string &id);
    void release_base(const std::string &id);
    void drop(const std::string &id);

    Db &db_;
    const std::string core_facts_sql_; // prefetch's spinner query, in the engine's dialect
    std::unordered_map<std::string, std::shared_ptr<const CoreEntry>> cores_;
    struct CachedMap {
        std::shared_ptr<const json::object> map;
        std::size_t bytes; // its text size
    };
    std::unordered_map<std::string, CachedMap> maps_;
    std::size_t map_bytes_ = 0; // text size of the cached maps
    bool cache_only_ = false;
    std::unordered_map<std::string, Facts> facts_; // this write transaction's
};

/// Facts known for the life of this object only (one write transaction).
class WriteFacts {
public:
    explicit WriteFacts(BlobStore &b) : b_(b) { b_.forget_facts(); }
    ~WriteFacts() { b_.forget_facts(); }
    WriteFacts(const WriteFacts &) = delete;
    WriteFacts &operator=(const WriteFacts &) = delete;

private:
    BlobStore &b_;
};

/// Cache-only mode for the life of this object.
class CacheOnly {
public:
    explicit CacheOnly(BlobStore &b) : b_(b) { b_.set_cache_only(true); }
    ~CacheOnly() { b_.set_cache_only(false); }
    CacheOnly(const CacheOnly &) = delete;
    CacheOnly &operator=(const CacheOnly &) = delete;

private:
    BlobStore &b_;
};

} // namespace spinner_rollback::detail
