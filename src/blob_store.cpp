// The blobs table: compression, delta cores, reference counts, garbage
// collection, and the cache of verified cores (see blob_store.hpp).
#include "blob_store.hpp"

#include "digest.hpp"
#include "sealed_state.hpp"

#include <zstd.h>

namespace spinner_rollback::detail {

namespace {

enum Codec { kRaw = 0, kZstd = 1, kZstdDelta = 2 };
constexpr std::int64_t kMaxDeltaDepth = 4; // a full core at least every 5 versions (docs/benchmarks.md, "delta chain cap")
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
    Stmt st(db_, "SELECT kind, codec, size, data FROM blobs WHERE id=?");
    st.bind_blob(1, from_hex(id));
    if (!st.step()) throw Error(ErrorCode::corrupt, "content " + id.substr(0, 12) + " is missing from the store");
    if (st.i64(0) != kind_code(kind))
        throw Error(ErrorCode::corrupt, "content " + id.substr(0, 12) + " has the wrong kind");
    const int codec = static_cast<int>(st.i64(1));
    const std::int64_t size = st.i64(2);
    // Only cores are stored as deltas (core_text() reads them).
    if (codec == kZstdDelta) throw Error(ErrorCode::corrupt, "content " + id.substr(0, 12) + " is an unexpected delta");
    return decompress(st.blob(3), codec, size);
}

// A core and its bases up to a full one, in one statement (one round trip on
// PostgreSQL); the depth bound also stops a corrupt cycle.
const char *const kCoreChain =
    "WITH RECURSIVE chain(id, kind, codec, size, data, base, n) AS ("
    "SELECT id, kind, codec, size, data, base, 0 FROM blobs WHERE id = ? "
    "UNION ALL SELECT b.id, b.kind, b.codec, b.size, b.data, b.base, c.n + 1 "
    "FROM blobs b JOIN chain c ON b.id = c.base WHERE c.n < 64) "
    "SELECT id, kind, codec, size, data, base FROM chain ORDER BY n";

std::string BlobStore::core_text(const std::string &id) {
    struct Link {
        int codec;
        std::int64_t size;
        std::string data;
    };
    std::vector<Link> links; // id first, then its base, ...
    const std::string *start = nullptr; // a cached core the chain reached
    {
        Stmt st(db_, kCoreChain);
        st.bind_blob(1, from_hex(id));
        while (st.step()) {
            const std::string link_id = to_hex(st.blob(0));
            if (!links.empty())
                if (auto it = cores_.find(link_id); it != cores_.end()) {
                    start = &it->second->text;
                    break;
                }
            if (st.i64(1) != kind_code(BlobKind::core))
                throw Error(ErrorCode::corrupt, "content " + link_id.substr(0, 12) + " has the wrong kind");
            links.push_back(Link{static_cast<int>(st.i64(2)), st.i64(3), st.blob(4)});
            if (links.back().codec != kZstdDelta) break; // a full core ends the chain
            if (st.is_null(5)) throw Error(ErrorCode::corrupt, "delta content " + link_id.substr(0, 12) + " has no base");
        }
    }
    if (links.empty()) throw Error(ErrorCode::corrupt, "content " + id.substr(0, 12) + " is missing from the store");
    if (!start && links.back().codec == kZstdDelta)
        throw Error(ErrorCode::corrupt, "the base of content " + id.substr(0, 12) + " is missing from the store");
    // Apply the deltas from the full (or cached) core up. Only the result is
    // verified (by the caller): a corrupt link cannot decode to it.
    std::string text = start ? *start : std::string();
    for (auto it = links.rbegin(); it != links.rend(); ++it)
        text = decompress(it->data, it->codec, it->size, it->codec == kZstdDelta ? std::string_view(text) : std::string_view());
    return text;
}

std::shared_ptr<const CoreEntry> BlobStore::core(const std::string &id) {
    if (auto it = cores_.find(id); it != cores_.end()) return it->second;
    if (cache_only_) throw NotCached{};
    auto e = std::make_shared<CoreEntry>();
    e->text = core_text(id);
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

void BlobStore::cache_core(const std::string &id, std::string text, json::object obj) {
    if (cores_.count(id)) return;
    if (cores_.size() >= kCoreCacheSize) cores_.clear();
    cores_.emplace(id, std::make_shared<const CoreEntry>(CoreEntry{std::move(text), std::move(obj)}));
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

namespace {

constexpr const char *kFactColumns = "SELECT b.id, b.kind, b.refs, b.base_refs, b.depth, b.base, b.children ";

// The facts of the cores a write to one spinner may release (its latest
// state, its current version, versions retention may remove) and of their
// delta bases, in one statement. Each part is an index range on
// versions(spinner_id, number): the cost does not grow with the history.
std::string spinner_core_facts(const Dialect &d) {
    return std::string("WITH RECURSIVE chain(id, base, n) AS ("
                       "SELECT b.id, b.base, 0 FROM blobs b WHERE b.id IN ("
                       "SELECT s.latest_core FROM spinners s WHERE s.name = ? "
                       "UNION SELECT v.core FROM spinners s JOIN versions v ON v.spinner_id = s.id AND ") +
           in_list(d, "v.number", "s.current_number, ?") +
           " WHERE s.name = ? "
           "UNION SELECT v.core FROM spinners s JOIN versions v "
           "ON v.spinner_id = s.id AND v.number < s.last_number + 1 - COALESCE(?, s.history_limit) "
           "WHERE s.name = ?) "
           "UNION ALL SELECT b.id, b.base, c.n + 1 FROM blobs b JOIN chain c ON b.id = c.base WHERE c.n < 64) " +
           kFactColumns + "FROM blobs b WHERE b.id IN (SELECT id FROM chain)";
}

const std::string kBlobFacts = std::string(kFactColumns) + "FROM blobs b WHERE b.id = ?";

} // namespace

BlobStore::BlobStore(Db &db) : db_(db), core_facts_sql_(spinner_core_facts(db.dialect())) {}

void BlobStore::learn(const Stmt &st) {
    Facts f;
    f.exists = true;
    f.kind = st.i64(1);
    f.refs = st.i64(2);
    f.base_refs = st.i64(3);
    f.depth = st.i64(4);
    if (!st.is_null(5)) f.base = to_hex(st.blob(5));
    if (!st.is_null(6)) f.children = st.blob(6);
    facts_[to_hex(st.blob(0))] = std::move(f);
}

BlobStore::Prefetch BlobStore::prefetch(const std::vector<std::string> &ids, std::string_view spinner,
                                        std::optional<std::int64_t> history_limit, std::int64_t also) {
    Prefetch p(*this);
    if (!db_.prefers_batches()) return p; // facts() reads each on demand
    if (!spinner.empty()) {
        auto st = std::make_unique<Stmt>(db_, core_facts_sql_);
        st->bind(1, spinner).bind(2, also).bind(3, spinner).bind(5, spinner);
        if (history_limit) st->bind(4, *history_limit); else st->bind_null(4);
        st->send();
        p.st_.push_back(std::move(st));
    }
    for (const auto &id : ids) {
        if (facts_.count(id)) continue;
        facts_[id]; // absent unless the answer says otherwise
        auto st = std::make_unique<Stmt>(db_, kBlobFacts);
        st->bind_blob(1, from_hex(id)).send();
        p.st_.push_back(std::move(st));
    }
    return p;
}

void BlobStore::Prefetch::take() {
    for (auto &st : st_)
        while (st->step()) b_->learn(*st);
    st_.clear();
}

BlobStore::Facts &BlobStore::facts(const std::string &id) {
    if (auto it = facts_.find(id); it != facts_.end()) return it->second;
    Stmt st(db_, kBlobFacts);
    st.bind_blob(1, from_hex(id));
    if (st.step()) learn(st);
    return facts_[id];
}

bool BlobStore::contains(const std::string &id) {
    if (auto it = facts_.find(id); it != facts_.end()) return it->second.exists;
    Stmt st(db_, "SELECT 1 FROM blobs WHERE id=?");
    st.bind_blob(1, from_hex(id));
    return st.step();
}

void BlobStore::put(const std::string &id, BlobKind kind, std::string_view data, const std::string &base,
                    const std::vector<std::string> &children) {
    Facts &mine = facts(id);
    if (mine.exists) return; // content-addressed: already stored (and not recompressed)
    int codec = kRaw;
    std::string stored;
    std::int64_t depth = 0;
    std::string base_used;
    if (kind == BlobKind::secret) {
        stored = std::string(data); // sealed bytes do not compress
    } else if (!base.empty()) {
        const Facts &b = facts(base);
        if (b.exists && b.kind == kind_code(BlobKind::core) && b.depth < kMaxDeltaDepth) {
            stored = compress(data, codec, core(base)->text);
            if (codec == kZstdDelta) {
                depth = b.depth + 1;
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
    Facts &f = facts_[id]; // (facts(base) may have rehashed the map)
    f = Facts{true, kind_code(kind), 0, 0, depth, base_used, kids.empty() ? std::nullopt : std::optional(kids)};
    if (kind == BlobKind::core && kids.empty()) f.children = std::string();
    if (!base_used.empty()) {
        // The base's text must outlive this delta (not its config maps or secrets).
        Stmt b(db_, "UPDATE blobs SET base_refs = base_refs + 1 WHERE id=?");
        b.bind_blob(1, from_hex(base_used)).run();
        ++facts_[base_used].base_refs;
    }
}

// The blobs a blob holds a reference on (a core's config maps and secrets).
// Rows written before schema 2 have no list: parse the core.
std::vector<std::string> BlobStore::children(const std::string &id) {
    const Facts &f = facts(id);
    if (!f.exists) return {};
    if (!f.children)
        return f.kind == kind_code(BlobKind::core) ? sealed_children(core(id)->obj) : std::vector<std::string>{};
    const std::string &raw = *f.children;
    if (raw.size() % 32 != 0) throw Error(ErrorCode::corrupt, "blob has a malformed child list");
    std::vector<std::string> out;
    for (std::size_t i = 0; i < raw.size(); i += 32) out.push_back(to_hex(std::string_view(raw).substr(i, 32)));
    return out;
}

void BlobStore::incref(const std::string &id) {
    Facts &f = facts(id);
    if (!f.exists) throw Error(ErrorCode::corrupt, "content to reference is missing");
    const std::int64_t refs = ++f.refs;
    Stmt st(db_, "UPDATE blobs SET refs = refs + 1 WHERE id=?");
    st.bind_blob(1, from_hex(id)).run();
    if (refs != 1) return; // children already counted for this blob
    for (const auto &c : children(id)) incref(c);
}

void BlobStore::decref(const std::string &id) {
    Facts &f = facts(id);
    if (!f.exists) return;
    const std::int64_t refs = --f.refs, base_refs = f.base_refs;
    Stmt st(db_, "UPDATE blobs SET refs = refs - 1 WHERE id=?");
    st.bind_blob(1, from_hex(id)).run();
    if (refs > 0) return;
    for (const auto &c : children(id)) decref_child(c);
    if (base_refs == 0) drop(id);
}

void BlobStore::decref_child(const std::string &id) {
    if (facts_.count(id)) return decref(id);
    // Unknown here: a config map or secret (no children, no base), released
    // and deleted at zero by the statements themselves.
    Stmt st(db_, "UPDATE blobs SET refs = refs - 1 WHERE id=?");
    st.bind_blob(1, from_hex(id)).run();
    Stmt del(db_, "DELETE FROM blobs WHERE id=? AND refs <= 0 AND base_refs <= 0");
    del.bind_blob(1, from_hex(id)).run();
    evict(id);
}

void BlobStore::release_base(const std::string &id) {
    Facts &f = facts(id);
    if (!f.exists) return;
    const std::int64_t refs = f.refs, base_refs = --f.base_refs;
    Stmt st(db_, "UPDATE blobs SET base_refs = base_refs - 1 WHERE id=?");
    st.bind_blob(1, from_hex(id)).run();
    if (refs <= 0 && base_refs <= 0) drop(id);
}

void BlobStore::drop(const std::string &id) {
    Facts &f = facts(id);
    const std::string base = f.base;
    f.exists = false;
    Stmt del(db_, "DELETE FROM blobs WHERE id=?");
    del.bind_blob(1, from_hex(id)).run();
    evict(id);
    if (!base.empty()) release_base(base);
}

void BlobStore::evict(const std::string &id) {
    cores_.erase(id);
    if (auto it = maps_.find(id); it != maps_.end()) {
        map_bytes_ -= it->second.bytes;
        maps_.erase(it);
    }
}

} // namespace spinner_rollback::detail
