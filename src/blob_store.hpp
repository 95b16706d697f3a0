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
    explicit BlobStore(Db &db) : db_(db) {}

    /// A verified core (cached by id: cores are immutable). corrupt when
    /// missing, of another kind, or failing its sha256 id.
    std::shared_ptr<const CoreEntry> core(const std::string &id);
    /// A verified config map (cached by id: config maps are immutable).
    std::shared_ptr<const json::object> map(const std::string &id);
    /// Stored bytes of a blob, decompressed (delta base resolved), unverified.
    std::string load(const std::string &id, BlobKind kind);

    /// While set, core() and map() answer from the cache only and throw
    /// NotCached otherwise (reads that want one round trip, see CacheOnly).
    void set_cache_only(bool on) noexcept { cache_only_ = on; }

    /// Whether a blob is stored.
    bool contains(const std::string &id);
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
    std::vector<std::string> children(const std::string &id);
    void release_base(const std::string &id);
    void drop(const std::string &id);

    Db &db_;
    std::unordered_map<std::string, std::shared_ptr<const CoreEntry>> cores_;
    struct CachedMap {
        std::shared_ptr<const json::object> map;
        std::size_t bytes; // its text size
    };
    std::unordered_map<std::string, CachedMap> maps_;
    std::size_t map_bytes_ = 0; // text size of the cached maps
    bool cache_only_ = false;
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
