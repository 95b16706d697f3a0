// The blobs table: compression, delta cores, reference counts, garbage
// collection, and the cache of verified cores (see blob_store.hpp).
#include "blob_store.hpp"

#include "digest.hpp"
#include "sealed_state.hpp"

#include <zstd.h>

namespace spinner_rollback::detail {

namespace {

enum Codec { kRaw = 0, kZstd = 1, kZstdDelta = 2 };
constexpr std::int64_t kMaxDeltaDepth = 16; // a full core at least every 17 versions
constexpr std::size_t kCoreCacheSize = 256;
constexpr std::size_t kMapCacheSize = 256;
constexpr std::size_t kMapCacheBytes = 64u << 20; // verified config maps kept parsed

struct ZstdContexts {
    ZSTD_CCtx *c = ZSTD_createCCtx();
    ZSTD_DCtx *d = ZSTD_createDCtx();
    ~ZstdContexts() {
        ZSTD_freeCCtx(c);
        ZSTD_freeDCtx(d);
    }
};
ZstdContexts &zstd() {
    thread_local ZstdContexts ctx;
    return ctx;
}

// zstd when it helps; against `dict` (the previous core) when one is given.
std::string compress(std::string_view data, int &codec, std::string_view dict = {}) {
    codec = kRaw;
    if (data.size() < 96 && dict.empty()) return std::string(data);
    std::string out(ZSTD_compressBound(data.size()), '\0');
    std::size_t n = dict.empty()
                        ? ZSTD_compressCCtx(zstd().c, out.data(), out.size(), data.data(), data.size(), 3)
                        : ZSTD_compress_usingDict(zstd().c, out.data(), out.size(), data.data(), data.size(),
                                                  dict.data(), dict.size(), 3);
    if (ZSTD_isError(n) || n >= data.size()) return std::string(data);
    out.resize(n);
    codec = dict.empty() ? kZstd : kZstdDelta;
    return out;
}

std::string decompress(std::string_view data, int codec, std::int64_t size, std::string_view dict = {}) {
    if (codec == kRaw) return std::string(data);
    if ((codec != kZstd && codec != kZstdDelta) || size < 0 || size > (std::int64_t(1) << 32))
        throw Error(ErrorCode::corrupt, "blob has an unknown encoding");
    std::string out(static_cast<std::size_t>(size), '\0');
    std::size_t n = codec == kZstd
                        ? ZSTD_decompressDCtx(zstd().d, out.data(), out.size(), data.data(), data.size())
                        : ZSTD_decompress_usingDict(zstd().d, out.data(), out.size(), data.data(), data.size(),
                                                    dict.data(), dict.size());
    if (ZSTD_isError(n) || n != out.size()) throw Error(ErrorCode::corrupt, "blob does not decompress");
    return out;
}

std::int64_t kind_code(BlobKind k) { return static_cast<std::int64_t>(k); }

} // namespace

std::string BlobStore::load(const std::string &id, BlobKind kind) {
    Stmt st(db_, "SELECT kind, codec, size, data, base FROM blobs WHERE id=?");
    st.bind_blob(1, from_hex(id));
    if (!st.step()) throw Error(ErrorCode::corrupt, "content " + id.substr(0, 12) + " is missing from the store");
    if (st.i64(0) != kind_code(kind))
        throw Error(ErrorCode::corrupt, "content " + id.substr(0, 12) + " has the wrong kind");
    const int codec = static_cast<int>(st.i64(1));
    const std::int64_t size = st.i64(2);
    std::string data = st.blob(3);
    if (codec != kZstdDelta) return decompress(data, codec, size);
    if (st.is_null(4)) throw Error(ErrorCode::corrupt, "delta content " + id.substr(0, 12) + " has no base");
    std::string base = to_hex(st.blob(4));
    return decompress(data, codec, size, core(base)->text);
}

std::shared_ptr<const CoreEntry> BlobStore::core(const std::string &id) {
    if (auto it = cores_.find(id); it != cores_.end()) return it->second;
    if (cache_only_) throw NotCached{};
    auto e = std::make_shared<CoreEntry>();
    e->text = load(id, BlobKind::core);
    if (to_hex(sha256_raw(e->text)) != id)
        throw Error(ErrorCode::corrupt, "version content " + id.substr(0, 12) + " fails its digest");
    boost::system::error_code ec;
    json::value v = json::parse(e->text, ec);
    if (ec || !v.is_object()) throw Error(ErrorCode::corrupt, "version content is not an object");
    e->obj = std::move(v.get_object());
    if (cores_.size() >= kCoreCacheSize) cores_.clear();
    cores_.emplace(id, e);
    return e;
}

std::shared_ptr<const json::object> BlobStore::map(const std::string &id) {
    if (auto it = maps_.find(id); it != maps_.end()) return it->second.map;
    if (cache_only_) throw NotCached{};
    std::string text = load(id, BlobKind::map);
    if (to_hex(sha256_raw(text)) != id)
        throw Error(ErrorCode::corrupt, "config map content " + id.substr(0, 12) + " fails its digest");
    boost::system::error_code ec;
    json::value v = json::parse(text, ec);
    if (ec || !v.is_object()) throw Error(ErrorCode::corrupt, "config map content is not an object");
    auto m = std::make_shared<const json::object>(std::move(v.get_object()));
    if (maps_.size() >= kMapCacheSize || map_bytes_ + text.size() > kMapCacheBytes) {
        maps_.clear();
        map_bytes_ = 0;
    }
    if (text.size() <= kMapCacheBytes) {
        maps_.emplace(id, CachedMap{m, text.size()});
        map_bytes_ += text.size();
    }
    return m;
}

bool BlobStore::contains(const std::string &id) {
    Stmt st(db_, "SELECT 1 FROM blobs WHERE id=?");
    st.bind_blob(1, from_hex(id));
    return st.step();
}

void BlobStore::put(const std::string &id, BlobKind kind, std::string_view data, const std::string &base,
                    const std::vector<std::string> &children) {
    if (contains(id)) return; // content-addressed: already stored (and not recompressed)
    int codec = kRaw;
    std::string stored;
    std::int64_t depth = 0;
    std::string base_used;
    if (kind == BlobKind::secret) {
        stored = std::string(data); // sealed bytes do not compress
    } else if (!base.empty()) {
        Stmt d(db_, "SELECT depth FROM blobs WHERE id=? AND kind=?");
        d.bind_blob(1, from_hex(base)).bind(2, kind_code(BlobKind::core));
        if (d.step() && d.i64(0) < kMaxDeltaDepth) {
            stored = compress(data, codec, core(base)->text);
            if (codec == kZstdDelta) {
                depth = d.i64(0) + 1;
                base_used = base;
            }
        }
    }
    if (stored.empty() && kind != BlobKind::secret) stored = compress(data, codec);
    std::string kids;
    for (const auto &c : children) kids += from_hex(c);
    Stmt st(db_, "INSERT INTO blobs(id, refs, kind, codec, size, data, base, depth, children) "
                 "VALUES(?, 0, ?, ?, ?, ?, ?, ?, ?)");
    st.bind_blob(1, from_hex(id)).bind(2, kind_code(kind)).bind(3, codec);
    st.bind(4, static_cast<std::int64_t>(data.size())).bind_blob(5, stored);
    if (base_used.empty()) st.bind_null(6); else st.bind_blob(6, from_hex(base_used));
    st.bind(7, depth);
    if (kids.empty()) st.bind_null(8); else st.bind_blob(8, kids);
    st.run();
    if (!base_used.empty()) {
        // The base's text must outlive this delta (not its config maps or secrets).
        Stmt b(db_, "UPDATE blobs SET base_refs = base_refs + 1 WHERE id=?");
        b.bind_blob(1, from_hex(base_used)).run();
    }
}

// The blobs a blob holds a reference on (a core's config maps and secrets).
// Rows written before schema 2 have no list: parse the core.
std::vector<std::string> BlobStore::children(const std::string &id) {
    Stmt st(db_, "SELECT kind, children FROM blobs WHERE id=?");
    st.bind_blob(1, from_hex(id));
    if (!st.step()) return {};
    if (st.is_null(1))
        return st.i64(0) == kind_code(BlobKind::core) ? sealed_children(core(id)->obj) : std::vector<std::string>{};
    std::string raw = st.blob(1);
    if (raw.size() % 32 != 0) throw Error(ErrorCode::corrupt, "blob has a malformed child list");
    std::vector<std::string> out;
    for (std::size_t i = 0; i < raw.size(); i += 32) out.push_back(to_hex(std::string_view(raw).substr(i, 32)));
    return out;
}

void BlobStore::incref(const std::string &id) {
    Stmt st(db_, "UPDATE blobs SET refs = refs + 1 WHERE id=? RETURNING refs");
    st.bind_blob(1, from_hex(id));
    if (!st.step()) throw Error(ErrorCode::corrupt, "content to reference is missing");
    std::int64_t refs = st.i64(0);
    st.run();
    if (refs != 1) return; // children already counted for this blob
    for (const auto &c : children(id)) incref(c);
}

void BlobStore::decref(const std::string &id) {
    Stmt st(db_, "UPDATE blobs SET refs = refs - 1 WHERE id=? RETURNING refs, base_refs");
    st.bind_blob(1, from_hex(id));
    if (!st.step()) return;
    const std::int64_t refs = st.i64(0), base_refs = st.i64(1);
    st.run();
    if (refs > 0) return;
    for (const auto &c : children(id)) decref(c);
    if (base_refs == 0) drop(id);
}

void BlobStore::release_base(const std::string &id) {
    Stmt st(db_, "UPDATE blobs SET base_refs = base_refs - 1 WHERE id=? RETURNING refs, base_refs");
    st.bind_blob(1, from_hex(id));
    if (!st.step()) return;
    const std::int64_t refs = st.i64(0), base_refs = st.i64(1);
    st.run();
    if (refs <= 0 && base_refs <= 0) drop(id);
}

void BlobStore::drop(const std::string &id) {
    std::string base;
    {
        Stmt st(db_, "SELECT base FROM blobs WHERE id=?");
        st.bind_blob(1, from_hex(id));
        if (st.step() && !st.is_null(0)) base = to_hex(st.blob(0));
    }
    Stmt del(db_, "DELETE FROM blobs WHERE id=?");
    del.bind_blob(1, from_hex(id)).run();
    cores_.erase(id);
    if (auto it = maps_.find(id); it != maps_.end()) {
        map_bytes_ -= it->second.bytes;
        maps_.erase(it);
    }
    if (!base.empty()) release_base(base);
}

} // namespace spinner_rollback::detail
