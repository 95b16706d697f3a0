#include "diff_internal.hpp"
#include "state_internal.hpp"
#include "store_internal.hpp"

#include <zstd.h>

#include <algorithm>
#include <chrono>
#include <thread>

namespace spinner_rollback {

using namespace detail;

namespace {

// ---- schema ---------------------------------------------------------------
// Numbered, embedded, forward-only. Migration N brings user_version to N.
const char *const kMigrations[] = {
    // 1: initial schema
    R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE spinners(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  enabled INTEGER NOT NULL,
  history_limit INTEGER NOT NULL,
  last_number INTEGER NOT NULL DEFAULT 0,
  current_number INTEGER NOT NULL DEFAULT 0,
  latest_core BLOB,
  updated_at TEXT NOT NULL);
CREATE TABLE versions(
  spinner_id INTEGER NOT NULL,
  number INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  author TEXT NOT NULL,
  message TEXT NOT NULL,
  reason INTEGER NOT NULL,
  reasons TEXT NOT NULL,
  summary TEXT NOT NULL,
  core BLOB NOT NULL,
  rollback_of INTEGER,
  status INTEGER NOT NULL,
  PRIMARY KEY(spinner_id, number)) WITHOUT ROWID;
CREATE TABLE blobs(
  id BLOB NOT NULL UNIQUE,
  refs INTEGER NOT NULL,
  kind INTEGER NOT NULL,
  codec INTEGER NOT NULL,
  size INTEGER NOT NULL,
  data BLOB NOT NULL);
CREATE TABLE requests(
  spinner_id INTEGER NOT NULL,
  request_id TEXT NOT NULL,
  payload TEXT NOT NULL,
  outcome TEXT NOT NULL,
  number INTEGER NOT NULL,
  reasons TEXT NOT NULL,
  PRIMARY KEY(spinner_id, request_id)) WITHOUT ROWID;
CREATE TABLE volume_bindings(
  spinner_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  volume_id TEXT NOT NULL,
  last_number INTEGER NOT NULL,
  PRIMARY KEY(spinner_id, name, volume_id)) WITHOUT ROWID;
CREATE TABLE snapshots(
  id TEXT PRIMARY KEY,
  volume TEXT NOT NULL,
  size_bytes INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  ready INTEGER NOT NULL,
  storage_class TEXT NOT NULL,
  metadata TEXT NOT NULL) WITHOUT ROWID;
CREATE INDEX snapshots_by_volume ON snapshots(volume, created_at);
)sql",
    // 2: delta-compressed cores and explicit child lists (no parsing to collect garbage)
    R"sql(
ALTER TABLE blobs ADD COLUMN base BLOB;
ALTER TABLE blobs ADD COLUMN depth INTEGER NOT NULL DEFAULT 0;
ALTER TABLE blobs ADD COLUMN children BLOB;
ALTER TABLE blobs ADD COLUMN base_refs INTEGER NOT NULL DEFAULT 0;
ALTER TABLE requests ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
CREATE INDEX requests_by_seq ON requests(spinner_id, seq);
)sql",
};
constexpr int kSchemaVersion = sizeof kMigrations / sizeof kMigrations[0];

enum BlobKind { kCore = 1, kMap = 2, kSecret = 3 };
enum Codec { kRaw = 0, kZstd = 1, kZstdDelta = 2 };
constexpr std::int64_t kRequestWindow = 1000;
constexpr std::int64_t kMaxDeltaDepth = 16; // a full core at least every 17 versions

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

const char *kReasonNames[] = {"deploy", "rollback", "reenabled"};
const char *kStatusNames[] = {"pending", "active", "failed", "superseded"};

void check_spinner_name(std::string_view name) {
    if (!is_dns_label(name))
        throw Error(ErrorCode::invalid,
                    "spinner name must be a DNS-1123 label (1-63 lowercase letters, digits, '-')",
                    "spinner");
}

} // namespace

namespace detail {

std::string reasons_to_json(const std::vector<Reason> &reasons) {
    json::array r;
    for (const auto &x : reasons) r.emplace_back(json::object{{"category", x.category}, {"path", x.path}});
    return dump(r);
}

std::vector<Reason> reasons_from_json(std::string_view text) {
    std::vector<Reason> out;
    json::value v = json::parse(text);
    for (const auto &e : v.as_array())
        out.push_back({std::string(e.at("category").as_string()), std::string(e.at("path").as_string())});
    return out;
}

bool state_has_secrets(const json::object &n) {
    auto it = n.find("secrets");
    return it != n.end() && it->value().is_object() && !it->value().get_object().empty();
}

} // namespace detail

const char *to_string(VersionReason r) noexcept { return kReasonNames[static_cast<int>(r)]; }
const char *to_string(RolloutStatus s) noexcept { return kStatusNames[static_cast<int>(s)]; }

RolloutStatus parse_status(std::string_view s) {
    for (int i = 0; i < 4; ++i)
        if (s == kStatusNames[i]) return static_cast<RolloutStatus>(i);
    throw Error(ErrorCode::invalid, "status must be pending, active, failed or superseded", "status");
}

// ---- Impl -------------------------------------------------------------------

static std::optional<Key> key_from(const StoreOptions &o) {
    if (o.cipher) return std::nullopt;
    if (!o.key.empty()) return parse_key(o.key, "options.key");
    if (!o.key_file.empty()) return read_key_file(o.key_file);
    return std::nullopt;
}

std::int64_t VersionStore::Impl::set_up(const StoreOptions &options) {
    db.exec("PRAGMA journal_mode=WAL");
    db.exec(options.durability == Durability::full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
    db.exec("PRAGMA secure_delete=ON");
    Tx tx(db, true);
    std::int64_t v = 0;
    {
        Stmt st(db, "PRAGMA user_version");
        if (st.step()) v = st.i64(0);
    }
    if (v > kSchemaVersion) return v; // refused by the caller; nothing written
    for (std::int64_t m = v; m < kSchemaVersion; ++m) {
        db.exec(kMigrations[m]);
        db.exec("PRAGMA user_version=" + std::to_string(m + 1));
    }
    Stmt ins(db, "INSERT OR IGNORE INTO meta(key, value) VALUES('plan_key', ?)");
    ins.bind_blob(1, random_bytes(32)).run();
    tx.commit();
    return v;
}

VersionStore::Impl::Impl(const std::string &path, const StoreOptions &options)
    : db(path, options.busy_timeout_ms), opts(options), keys(key_from(options), options.cipher) {
    if (!options.key.empty() && !options.key_file.empty())
        throw Error(ErrorCode::invalid, "give key or keyFile, not both", "options.keyFile");
    // Several processes may open a store that does not exist yet at once.
    // Switching to WAL and the first migration take locks that SQLite's busy
    // handler does not always wait for, so the whole set-up is retried until
    // busyTimeoutMs (at least 1 s) has passed.
    const auto deadline = std::chrono::steady_clock::now() +
                          std::chrono::milliseconds(std::max(options.busy_timeout_ms, 1000));
    std::int64_t found = 0;
    for (int attempt = 0;; ++attempt) {
        try {
            found = set_up(options);
            break;
        } catch (const Error &e) {
            const bool transient = e.code() == ErrorCode::busy || (e.code() == ErrorCode::io && attempt < 5);
            if (!transient || std::chrono::steady_clock::now() >= deadline) throw;
            std::this_thread::sleep_for(std::chrono::milliseconds(2 + (attempt % 8) * 3));
        }
    }
    if (found > kSchemaVersion)
        throw Error(ErrorCode::io, "store schema version " + std::to_string(found) +
                                       " is newer than this library supports (" + std::to_string(kSchemaVersion) +
                                       "); upgrade spinner_rollback",
                    "path");
    Stmt pk(db, "SELECT value FROM meta WHERE key='plan_key'");
    if (!pk.step()) throw Error(ErrorCode::corrupt, "store has no plan key");
    plan_key = pk.blob(0);
    if (keys.configured()) {
        Stmt dk(db, "SELECT value FROM meta WHERE key='data_key'");
        if (dk.step()) keys.load_data_key(dk.blob(0)); // wrong key: no_key, at open
    }
}

void VersionStore::Impl::ensure_data_key(bool create) {
    if (keys.ready()) return;
    if (!keys.configured())
        throw Error(ErrorCode::no_key, "secret values need an encryption key: open the store with "
                                       "\"key\", \"keyFile\" or a cipher",
                    "$.secrets");
    {
        Stmt dk(db, "SELECT value FROM meta WHERE key='data_key'");
        if (dk.step()) {
            keys.load_data_key(dk.blob(0));
            return;
        }
    }
    if (!create) throw Error(ErrorCode::not_found, "this store holds no secret values");
    std::string wrapped = keys.create_data_key();
    Stmt ins(db, "INSERT INTO meta(key, value) VALUES('data_key', ?)");
    ins.bind_blob(1, wrapped).run();
}

std::optional<VersionStore::Impl::SpinnerRow> VersionStore::Impl::find_spinner(std::string_view name) {
    Stmt st(db, "SELECT id, name, enabled, history_limit, last_number, current_number, latest_core, "
                "updated_at FROM spinners WHERE name=?");
    st.bind(1, name);
    if (!st.step()) return std::nullopt;
    SpinnerRow r;
    r.id = st.i64(0);
    r.name = st.text(1);
    r.enabled = st.i64(2) != 0;
    r.history_limit = st.i64(3);
    r.last_number = st.i64(4);
    r.current = st.i64(5);
    r.latest_core = st.is_null(6) ? std::string() : to_hex(st.blob(6));
    r.updated_at = st.text(7);
    return r;
}

VersionStore::Impl::SpinnerRow VersionStore::Impl::require_spinner(std::string_view name) {
    check_spinner_name(name);
    auto s = find_spinner(name);
    if (!s) throw Error(ErrorCode::not_found, "no spinner named \"" + std::string(name) + "\"", "spinner");
    return *s;
}

constexpr const char *kVersionColumns =
    "SELECT number, created_at, author, message, reason, reasons, summary, core, rollback_of, status "
    "FROM versions";

// A version row from a statement selecting kVersionColumns.
static VersionStore::Impl::VersionRow version_row(const Stmt &st) {
    VersionStore::Impl::VersionRow r;
    r.number = st.i64(0);
    r.created_at = st.text(1);
    r.author = st.text(2);
    r.message = st.text(3);
    r.reason = static_cast<int>(st.i64(4));
    r.reasons_json = st.text(5);
    r.summary = st.text(6);
    r.core = to_hex(st.blob(7));
    if (!st.is_null(8)) r.rollback_of = st.i64(8);
    r.status = static_cast<int>(st.i64(9));
    if (r.reason < 0 || r.reason > 2 || r.status < 0 || r.status > 3)
        throw Error(ErrorCode::corrupt, "version row has an invalid reason or status");
    return r;
}

std::optional<VersionStore::Impl::VersionRow>
VersionStore::Impl::find_version(std::int64_t spinner_id, std::int64_t number) {
    Stmt st(db, std::string(kVersionColumns) + " WHERE spinner_id=? AND number=?");
    st.bind(1, spinner_id).bind(2, number);
    if (!st.step()) return std::nullopt;
    return version_row(st);
}

VersionStore::Impl::VersionRow VersionStore::Impl::require_version(const SpinnerRow &s, std::int64_t n,
                                                                   const std::string &what) {
    if (n >= 1 && n <= s.last_number) {
        if (auto r = find_version(s.id, n)) return *r;
        throw Error(ErrorCode::pruned,
                    "version " + std::to_string(n) + " of \"" + s.name +
                        "\" was removed by retention (historyLimit " + std::to_string(s.history_limit) + ")",
                    what);
    }
    throw Error(ErrorCode::not_found,
                "spinner \"" + s.name + "\" has no version " + std::to_string(n) + " (versions 1-" +
                    std::to_string(s.last_number) + " exist or existed)",
                what);
}

std::string VersionStore::Impl::current_core(const SpinnerRow &s) {
    auto cur = find_version(s.id, s.current);
    if (!cur) throw Error(ErrorCode::corrupt, "current version row is missing");
    return cur->core;
}

std::int64_t VersionStore::Impl::min_retained(const SpinnerRow &s) {
    Stmt st(db, "SELECT min(number) FROM versions WHERE spinner_id=?");
    st.bind(1, s.id);
    return st.step() && !st.is_null(0) ? st.i64(0) : 0;
}

std::string VersionStore::Impl::load_blob(const std::string &id, int expected_kind) {
    Stmt st(db, "SELECT kind, codec, size, data, base FROM blobs WHERE id=?");
    st.bind_blob(1, from_hex(id));
    if (!st.step()) throw Error(ErrorCode::corrupt, "content " + id.substr(0, 12) + " is missing from the store");
    if (st.i64(0) != expected_kind) throw Error(ErrorCode::corrupt, "content " + id.substr(0, 12) + " has the wrong kind");
    const int codec = static_cast<int>(st.i64(1));
    const std::int64_t size = st.i64(2);
    std::string data = st.blob(3);
    if (codec != kZstdDelta) return decompress(data, codec, size);
    if (st.is_null(4)) throw Error(ErrorCode::corrupt, "delta content " + id.substr(0, 12) + " has no base");
    std::string base = to_hex(st.blob(4));
    return decompress(data, codec, size, core_entry(base)->text);
}

std::shared_ptr<const VersionStore::Impl::CoreEntry> VersionStore::Impl::core_entry(const std::string &id) {
    if (auto it = cores_.find(id); it != cores_.end()) return it->second;
    auto e = std::make_shared<CoreEntry>();
    e->text = load_blob(id, kCore);
    if (to_hex(sha256_raw(e->text)) != id)
        throw Error(ErrorCode::corrupt, "version content " + id.substr(0, 12) + " fails its digest");
    json::value v = json::parse(e->text);
    if (!v.is_object()) throw Error(ErrorCode::corrupt, "version content is not an object");
    e->obj = std::move(v.get_object());
    if (cores_.size() >= 256) cores_.clear(); // a bounded cache of immutable, verified content
    cores_.emplace(id, e);
    return e;
}

json::object VersionStore::Impl::load_core(const std::string &id) { return core_entry(id)->obj; }

json::object VersionStore::Impl::load_map(const std::string &id) {
    std::string text = load_blob(id, kMap);
    if (to_hex(sha256_raw(text)) != id)
        throw Error(ErrorCode::corrupt, "config map content " + id.substr(0, 12) + " fails its digest");
    json::value v = json::parse(text);
    if (!v.is_object()) throw Error(ErrorCode::corrupt, "config map content is not an object");
    return std::move(v.get_object());
}

MapLoader VersionStore::Impl::loader(const Sealed *pending) {
    return [this, pending](const json::value &placeholder) -> json::object {
        if (!placeholder.is_string()) throw Error(ErrorCode::corrupt, "bad config map reference");
        std::string_view p = placeholder.get_string();
        if (p.substr(0, 5) != "blob:") throw Error(ErrorCode::corrupt, "bad config map reference");
        std::string id(p.substr(5));
        if (pending) {
            auto it = pending->maps.find(id);
            if (it != pending->maps.end()) return json::parse(it->second).as_object();
        }
        return load_map(id);
    };
}

json::object VersionStore::Impl::materialize(const json::object &core, Secrets mode) {
    json::object out = core;
    out.erase("$secretBlobs");
    auto load = loader();
    if (auto *maps = out.if_contains("configMaps"); maps && maps->is_object())
        for (auto &kv : maps->get_object()) kv.value() = load(kv.value());
    if (mode == Secrets::tokens) return out;
    auto *secrets = out.if_contains("secrets");
    if (!secrets || !secrets->is_object()) return out;
    if (mode == Secrets::mask) {
        for (auto &kv : secrets->get_object())
            for (auto &kv2 : kv.value().as_object()) kv2.value() = json::string(masked_value);
        return out;
    }
    if (secrets->get_object().empty()) return out;
    ensure_data_key(false);
    const auto &blobs = core.at("$secretBlobs").as_object();
    for (auto &kv : secrets->get_object()) {
        auto *idv = blobs.if_contains(kv.key());
        if (!idv || !idv->is_string()) throw Error(ErrorCode::corrupt, "secret without sealed content");
        std::string id(idv->get_string());
        std::string plain = keys.open(id, load_blob(id, kSecret));
        if (keys.secret_id(plain) != id) throw Error(ErrorCode::corrupt, "secret content fails its digest");
        json::value v = json::parse(plain);
        // Check every per-value MAC the core claims.
        for (const auto &kv2 : kv.value().as_object()) {
            auto *val = v.as_object().if_contains(kv2.key());
            if (!val || keys.value_mac(kv.key(), kv2.key(), val->as_string()) != kv2.value().as_string())
                throw Error(ErrorCode::corrupt, "secret value fails its digest");
        }
        kv.value() = std::move(v);
    }
    return out;
}

VersionStore::Impl::Sealed VersionStore::Impl::seal(json::object n) {
    Sealed s;
    s.core = std::move(n);
    if (auto *maps = s.core.if_contains("configMaps"); maps && maps->is_object())
        for (auto &kv : maps->get_object()) {
            std::string text = canonical(kv.value());
            std::string id = to_hex(sha256_raw(text));
            s.maps.emplace(id, std::move(text));
            kv.value() = json::string("blob:" + id);
        }
    json::object blobs;
    if (auto *sec = s.core.if_contains("secrets"); sec && sec->is_object() && !sec->get_object().empty()) {
        ensure_data_key(true);
        for (auto &kv : sec->get_object()) {
            std::string plain = canonical(kv.value());
            std::string id = keys.secret_id(plain);
            s.secrets.emplace(id, keys.seal(id, plain));
            plain.assign(plain.size(), '\0');
            for (auto &kv2 : kv.value().as_object())
                kv2.value() = json::string(keys.value_mac(kv.key(), kv2.key(), kv2.value().as_string()));
            blobs.emplace(kv.key(), json::string(id));
        }
    }
    s.core["$secretBlobs"] = std::move(blobs);
    s.core_text = canonical(s.core);
    s.core_id = to_hex(sha256_raw(s.core_text));
    return s;
}

VersionStore::Impl::Sealed VersionStore::Impl::reseal(json::object core) {
    Sealed s;
    s.core = std::move(core);
    s.core_text = canonical(s.core);
    s.core_id = to_hex(sha256_raw(s.core_text));
    return s;
}

static std::vector<std::string> children_of(const json::object &core) {
    std::vector<std::string> ids;
    if (auto *maps = core.if_contains("configMaps"); maps && maps->is_object())
        for (const auto &kv : maps->get_object())
            if (kv.value().is_string() && kv.value().get_string().starts_with("blob:"))
                ids.emplace_back(kv.value().get_string().subview(5));
    if (auto *b = core.if_contains("$secretBlobs"); b && b->is_object())
        for (const auto &kv : b->get_object())
            if (kv.value().is_string()) ids.emplace_back(kv.value().get_string());
    return ids;
}

bool VersionStore::Impl::has_blob(const std::string &id) {
    Stmt st(db, "SELECT 1 FROM blobs WHERE id=?");
    st.bind_blob(1, from_hex(id));
    return st.step();
}

void VersionStore::Impl::put_blob(const std::string &id, int kind, std::string_view data, const std::string &base,
                                  const std::vector<std::string> &children) {
    if (has_blob(id)) return; // content-addressed: already stored (and not recompressed)
    int codec = kRaw;
    std::string stored;
    std::int64_t depth = 0;
    std::string base_used;
    if (kind == kSecret) {
        stored = std::string(data);
    } else if (!base.empty()) {
        Stmt d(db, "SELECT depth FROM blobs WHERE id=? AND kind=?");
        d.bind_blob(1, from_hex(base)).bind(2, kCore);
        if (d.step() && d.i64(0) < kMaxDeltaDepth) {
            stored = compress(data, codec, core_entry(base)->text);
            if (codec == kZstdDelta) {
                depth = d.i64(0) + 1;
                base_used = base;
            }
        }
    }
    if (stored.empty() && kind != kSecret) stored = compress(data, codec);
    std::string kids;
    for (const auto &c : children) kids += from_hex(c);
    Stmt st(db, "INSERT INTO blobs(id, refs, kind, codec, size, data, base, depth, children) "
                "VALUES(?, 0, ?, ?, ?, ?, ?, ?, ?)");
    st.bind_blob(1, from_hex(id)).bind(2, kind).bind(3, codec).bind(4, static_cast<std::int64_t>(data.size()));
    st.bind_blob(5, stored);
    if (base_used.empty()) st.bind_null(6); else st.bind_blob(6, from_hex(base_used));
    st.bind(7, depth);
    if (kids.empty()) st.bind_null(8); else st.bind_blob(8, kids);
    st.run();
    if (!base_used.empty()) {
        // The base's text must outlive this delta (not its config maps or secrets).
        Stmt b(db, "UPDATE blobs SET base_refs = base_refs + 1 WHERE id=?");
        b.bind_blob(1, from_hex(base_used)).run();
    }
}

void VersionStore::Impl::put(const Sealed &s, const std::string &base) {
    for (const auto &[id, text] : s.maps) put_blob(id, kMap, text, {}, {});
    for (const auto &[id, sealed] : s.secrets) put_blob(id, kSecret, sealed, {}, {});
    put_blob(s.core_id, kCore, s.core_text, base, children_of(s.core));
}

// The blobs a blob holds a reference on (a core's config maps, secrets and
// delta base). Rows written before schema 2 have no list: parse the core.
std::vector<std::string> VersionStore::Impl::children(const std::string &id) {
    Stmt st(db, "SELECT kind, children FROM blobs WHERE id=?");
    st.bind_blob(1, from_hex(id));
    if (!st.step()) return {};
    if (st.is_null(1)) return st.i64(0) == kCore ? children_of(load_core(id)) : std::vector<std::string>{};
    std::string raw = st.blob(1);
    if (raw.size() % 32 != 0) throw Error(ErrorCode::corrupt, "blob has a malformed child list");
    std::vector<std::string> out;
    for (std::size_t i = 0; i < raw.size(); i += 32) out.push_back(to_hex(std::string_view(raw).substr(i, 32)));
    return out;
}

void VersionStore::Impl::incref(const std::string &id) {
    Stmt st(db, "UPDATE blobs SET refs = refs + 1 WHERE id=? RETURNING refs");
    st.bind_blob(1, from_hex(id));
    if (!st.step()) throw Error(ErrorCode::corrupt, "content to reference is missing");
    std::int64_t refs = st.i64(0);
    st.run();
    if (refs != 1) return; // children already counted for this blob
    for (const auto &c : children(id)) incref(c);
}

// Two counts per blob: `refs` (versions, latest-state pointers, cores holding
// a config map or secret) keeps its children alive; `base_refs` (deltas built
// on a core) keeps only its bytes. A blob is deleted when both reach zero.
void VersionStore::Impl::decref(const std::string &id) {
    Stmt st(db, "UPDATE blobs SET refs = refs - 1 WHERE id=? RETURNING refs, base_refs");
    st.bind_blob(1, from_hex(id));
    if (!st.step()) return;
    const std::int64_t refs = st.i64(0), base_refs = st.i64(1);
    st.run();
    if (refs > 0) return;
    for (const auto &c : children(id)) decref(c);
    if (base_refs == 0) drop(id);
}

void VersionStore::Impl::release_base(const std::string &id) {
    Stmt st(db, "UPDATE blobs SET base_refs = base_refs - 1 WHERE id=? RETURNING refs, base_refs");
    st.bind_blob(1, from_hex(id));
    if (!st.step()) return;
    const std::int64_t refs = st.i64(0), base_refs = st.i64(1);
    st.run();
    if (refs <= 0 && base_refs <= 0) drop(id);
}

void VersionStore::Impl::drop(const std::string &id) {
    std::string base;
    {
        Stmt st(db, "SELECT base FROM blobs WHERE id=?");
        st.bind_blob(1, from_hex(id));
        if (st.step() && !st.is_null(0)) base = to_hex(st.blob(0));
    }
    Stmt del(db, "DELETE FROM blobs WHERE id=?");
    del.bind_blob(1, from_hex(id)).run();
    cores_.erase(id);
    if (!base.empty()) release_base(base);
}

Version VersionStore::Impl::make_version(const SpinnerRow &s, const VersionRow &r) const {
    Version v;
    v.spinner = s.name;
    v.number = r.number;
    v.current = r.number == s.current;
    v.created_at = r.created_at;
    v.author = r.author;
    v.message = r.message;
    v.reason = static_cast<VersionReason>(r.reason);
    v.reasons = reasons_from_json(r.reasons_json);
    v.summary = r.summary;
    v.digest = "sha256:" + r.core;
    v.rollback_of = r.rollback_of;
    v.status = static_cast<RolloutStatus>(r.status);
    return v;
}

Version VersionStore::Impl::append(SpinnerRow &s, const Sealed &sealed, int reason,
                                   const std::vector<Reason> &reasons, const std::string &summary,
                                   std::optional<std::int64_t> rollback_of, const ChangeMeta &meta) {
    put(sealed, s.current ? current_core(s) : std::string());
    incref(sealed.core_id);
    VersionRow r;
    r.number = s.last_number + 1;
    r.created_at = now_rfc3339();
    r.author = meta.author;
    r.message = meta.message;
    r.reason = reason;
    r.reasons_json = reasons_to_json(reasons);
    r.summary = summary;
    r.core = sealed.core_id;
    r.rollback_of = rollback_of;
    r.status = static_cast<int>(RolloutStatus::pending);
    {
        Stmt st(db, "INSERT INTO versions(spinner_id, number, created_at, author, message, reason, "
                    "reasons, summary, core, rollback_of, status) VALUES(?,?,?,?,?,?,?,?,?,?,?)");
        st.bind(1, s.id).bind(2, r.number).bind(3, r.created_at).bind(4, r.author).bind(5, r.message);
        st.bind(6, r.reason).bind(7, r.reasons_json).bind(8, r.summary).bind_blob(9, from_hex(r.core));
        if (rollback_of) st.bind(10, *rollback_of); else st.bind_null(10);
        st.bind(11, r.status).run();
    }
    s.last_number = r.number;
    s.current = r.number;
    {
        Stmt st(db, "UPDATE spinners SET last_number=?, current_number=? WHERE id=?");
        st.bind(1, s.last_number).bind(2, s.current).bind(3, s.id).run();
    }
    if (auto *vols = sealed.core.if_contains("volumes"); vols && vols->is_array()) {
        Stmt st(db, "INSERT INTO volume_bindings(spinner_id, name, volume_id, last_number) VALUES(?,?,?,?) "
                    "ON CONFLICT(spinner_id, name, volume_id) DO UPDATE SET last_number=excluded.last_number");
        for (const auto &v : vols->get_array()) {
            const auto &o = v.as_object();
            auto *vid = o.if_contains("volumeId");
            if (!vid) continue;
            st.reset();
            st.bind(1, s.id).bind(2, std::string_view(o.at("name").as_string()))
                .bind(3, std::string_view(vid->as_string())).bind(4, r.number).run();
        }
    }
    prune(s);
    return make_version(s, r);
}

void VersionStore::Impl::prune(SpinnerRow &s) {
    std::int64_t keep_from = s.current - s.history_limit;
    if (keep_from <= 1) return;
    std::vector<std::string> cores;
    {
        Stmt st(db, "SELECT core FROM versions WHERE spinner_id=? AND number<? AND number<>?");
        st.bind(1, s.id).bind(2, keep_from).bind(3, s.current);
        while (st.step()) cores.push_back(to_hex(st.blob(0)));
    }
    if (cores.empty()) return;
    {
        Stmt st(db, "DELETE FROM versions WHERE spinner_id=? AND number<? AND number<>?");
        st.bind(1, s.id).bind(2, keep_from).bind(3, s.current).run();
    }
    for (const auto &c : cores) decref(c);
    Stmt st(db, "DELETE FROM requests WHERE spinner_id=? AND number>0 AND number<?");
    st.bind(1, s.id).bind(2, keep_from).run();
}

std::optional<std::string> VersionStore::Impl::find_request(const SpinnerRow &s, const std::string &rid,
                                                            const std::string &payload,
                                                            std::int64_t &number, std::string &reasons) {
    Stmt st(db, "SELECT payload, outcome, number, reasons FROM requests WHERE spinner_id=? AND request_id=?");
    st.bind(1, s.id).bind(2, rid);
    if (!st.step()) return std::nullopt;
    if (st.text(0) != payload)
        throw Error(ErrorCode::conflict,
                    "requestId \"" + rid.substr(0, 64) + "\" was already used for a different request",
                    "meta.requestId");
    number = st.i64(2);
    reasons = st.text(3);
    return st.text(1);
}

void VersionStore::Impl::save_request(const SpinnerRow &s, const std::string &rid, const std::string &payload,
                                      const std::string &outcome, std::int64_t number,
                                      const std::string &reasons) {
    Stmt st(db, "INSERT INTO requests(spinner_id, request_id, payload, outcome, number, reasons, seq) "
                "VALUES(?,?,?,?,?,?, (SELECT coalesce(max(seq), 0) + 1 FROM requests WHERE spinner_id=?))");
    st.bind(1, s.id).bind(2, rid).bind(3, payload).bind(4, outcome).bind(5, number).bind(6, reasons);
    st.bind(7, s.id).run();
    if (number > 0) return; // kept as long as its version is retained
    // Requests that created nothing are remembered for the newest kRequestWindow.
    Stmt trim(db, "DELETE FROM requests WHERE spinner_id=? AND number=0 AND seq <= "
                  "(SELECT max(seq) FROM requests WHERE spinner_id=?) - ?");
    trim.bind(1, s.id).bind(2, s.id).bind(3, kRequestWindow).run();
}

std::optional<Snapshot> VersionStore::Impl::find_snapshot(std::string_view id) {
    Stmt st(db, "SELECT id, volume, size_bytes, created_at, ready, storage_class, metadata FROM snapshots WHERE id=?");
    st.bind(1, id);
    if (!st.step()) return std::nullopt;
    Snapshot s;
    s.id = st.text(0);
    s.volume = st.text(1);
    s.size_bytes = st.i64(2);
    s.created_at = st.text(3);
    s.ready = st.i64(4) != 0;
    s.storage_class = st.text(5);
    s.metadata_json = st.text(6);
    return s;
}

bool VersionStore::Impl::volume_bound(const SpinnerRow &s, std::string_view name, std::string_view volume_id) {
    Stmt st(db, "SELECT last_number FROM volume_bindings WHERE spinner_id=? AND name=? AND volume_id=?");
    st.bind(1, s.id).bind(2, name).bind(3, volume_id);
    if (!st.step()) return false;
    return st.i64(0) >= min_retained(s);
}

// ---- VersionStore -----------------------------------------------------------

VersionStore::VersionStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
VersionStore::~VersionStore() = default;

std::unique_ptr<VersionStore> VersionStore::open(const std::string &path, const StoreOptions &options) {
    if (path.empty()) throw Error(ErrorCode::invalid, "path must not be empty", "path");
    if (options.busy_timeout_ms < 0)
        throw Error(ErrorCode::invalid, "busyTimeoutMs must be >= 0", "options.busyTimeoutMs");
    return std::unique_ptr<VersionStore>(new VersionStore(std::make_unique<Impl>(path, options)));
}

const SnapshotPolicy &VersionStore::policy() const noexcept { return impl_->opts.policy; }
const Pricing &VersionStore::pricing() const noexcept { return impl_->opts.pricing; }

RecordResult VersionStore::record(std::string_view spinner, std::string_view state_json,
                                  const ChangeMeta &meta) {
    check_spinner_name(spinner);
    json::object n = parse_state(state_json, "state");
    if (state_has_secrets(n) && !impl_->keys.configured())
        throw Error(ErrorCode::no_key,
                    "the state holds secret values but the store has no key: open it with \"key\", "
                    "\"keyFile\" or a cipher (secret values are never stored in plaintext)",
                    "$.secrets");
    const auto &rb = n.at("settings").as_object().at("rollback").as_object();
    const bool enabled = rb.at("enabled").as_bool();
    const std::int64_t limit = rb.at("historyLimit").to_number<std::int64_t>();

    auto &I = *impl_;
    std::lock_guard lock(I.mu);
    Tx tx(I.db, true);
    Impl::Sealed sealed = I.seal(std::move(n));
    const std::string payload = "record:" + sealed.core_id;

    auto existing = I.find_spinner(spinner);
    Impl::SpinnerRow s;
    if (existing) {
        s = *existing;
    } else {
        Stmt st(I.db, "INSERT INTO spinners(name, enabled, history_limit, updated_at) VALUES(?,?,?,?) RETURNING id");
        st.bind(1, spinner).bind(2, enabled ? 1 : 0).bind(3, limit).bind(4, now_rfc3339());
        st.step();
        s.id = st.i64(0);
        st.run();
        s.name = std::string(spinner);
        s.enabled = enabled;
        s.history_limit = limit;
    }

    RecordResult result;
    if (!meta.request_id.empty()) {
        std::int64_t number = 0;
        std::string reasons;
        if (auto outcome = I.find_request(s, meta.request_id, payload, number, reasons)) {
            result.outcome = *outcome;
            result.reasons = reasons_from_json(reasons);
            if (number > 0)
                if (auto row = I.find_version(s.id, number)) result.version = I.make_version(s, *row);
            return result;
        }
    }

    const bool was_enabled = s.enabled;
    I.put(sealed, s.current ? I.current_core(s) : std::string());
    // Latest state pointer.
    if (s.latest_core != sealed.core_id) {
        I.incref(sealed.core_id);
        if (!s.latest_core.empty()) I.decref(s.latest_core);
        s.latest_core = sealed.core_id;
    }
    s.enabled = enabled;
    s.history_limit = limit;
    {
        Stmt st(I.db, "UPDATE spinners SET enabled=?, history_limit=?, latest_core=?, updated_at=? WHERE id=?");
        st.bind(1, enabled ? 1 : 0).bind(2, limit).bind_blob(3, from_hex(sealed.core_id)).bind(4, now_rfc3339());
        st.bind(5, s.id).run();
    }

    if (!enabled) {
        result.outcome = "disabled";
    } else if (s.current == 0) {
        result.outcome = "created";
        result.reasons.push_back({"first", "$"});
    } else {
        auto cur = I.find_version(s.id, s.current);
        if (!cur) throw Error(ErrorCode::corrupt, "current version row is missing");
        auto prev = I.core_entry(cur->core); // shared, immutable: no copy
        auto changes = diff_objects(prev->obj, sealed.core, I.loader(&sealed));
        result.reasons = tracked_reasons(changes, I.opts.policy);
        result.outcome = result.reasons.empty() ? "unchanged" : "created";
        if (!result.reasons.empty()) {
            int reason = was_enabled ? static_cast<int>(VersionReason::deploy)
                                     : static_cast<int>(VersionReason::reenabled);
            result.version = I.append(s, sealed, reason, result.reasons, summarize_raw(changes),
                                      std::nullopt, meta);
        }
    }
    if (result.outcome == "created" && !result.version) {
        json::object plain = I.materialize(sealed.core, Impl::Secrets::mask);
        result.version = I.append(s, sealed, static_cast<int>(VersionReason::deploy), result.reasons,
                                  summarize_first(plain), std::nullopt, meta);
    } else if (result.outcome != "created") {
        I.prune(s); // a lowered historyLimit applies at once
    }
    if (!meta.request_id.empty())
        I.save_request(s, meta.request_id, payload, result.outcome,
                       result.version ? result.version->number : 0, reasons_to_json(result.reasons));
    tx.commit();
    return result;
}

std::vector<Version> VersionStore::versions(std::string_view spinner) const {
    auto &I = *impl_;
    std::lock_guard lock(I.mu);
    Tx tx(I.db, false);
    auto s = I.require_spinner(spinner);
    std::vector<Version> out;
    Stmt st(I.db, std::string(kVersionColumns) + " WHERE spinner_id=? ORDER BY number DESC");
    st.bind(1, s.id);
    while (st.step()) out.push_back(I.make_version(s, version_row(st)));
    tx.commit();
    return out;
}

VersionDetail VersionStore::get(std::string_view spinner, std::int64_t number, bool reveal) const {
    auto &I = *impl_;
    std::lock_guard lock(I.mu);
    Tx tx(I.db, false);
    auto s = I.require_spinner(spinner);
    auto r = I.require_version(s, number, "number");
    json::object core = I.load_core(r.core);
    VersionDetail d;
    d.version = I.make_version(s, r);
    d.state_json = canonical(I.materialize(core, reveal ? Impl::Secrets::reveal : Impl::Secrets::mask));
    tx.commit();
    return d;
}

Diff VersionStore::diff(std::string_view spinner, std::int64_t from, std::int64_t to) const {
    auto &I = *impl_;
    std::lock_guard lock(I.mu);
    Tx tx(I.db, false);
    auto s = I.require_spinner(spinner);
    auto a = I.require_version(s, from, "from");
    auto b = I.require_version(s, to, "to");
    Diff d = to_public(diff_objects(I.load_core(a.core), I.load_core(b.core), I.loader()));
    tx.commit();
    return d;
}

void VersionStore::set_status(std::string_view spinner, std::int64_t number, RolloutStatus status) {
    auto &I = *impl_;
    std::lock_guard lock(I.mu);
    Tx tx(I.db, true);
    auto s = I.require_spinner(spinner);
    I.require_version(s, number, "number");
    if (status == RolloutStatus::active) {
        Stmt st(I.db, "UPDATE versions SET status=? WHERE spinner_id=? AND status=? AND number<>?");
        st.bind(1, static_cast<int>(RolloutStatus::superseded)).bind(2, s.id)
            .bind(3, static_cast<int>(RolloutStatus::active)).bind(4, number).run();
    }
    Stmt st(I.db, "UPDATE versions SET status=? WHERE spinner_id=? AND number=?");
    st.bind(1, static_cast<int>(status)).bind(2, s.id).bind(3, number).run();
    tx.commit();
}

SpinnerInfo VersionStore::spinner_info(std::string_view spinner) const {
    auto &I = *impl_;
    std::lock_guard lock(I.mu);
    Tx tx(I.db, false);
    auto s = I.require_spinner(spinner);
    SpinnerInfo info;
    info.spinner = s.name;
    info.rollback_enabled = s.enabled;
    info.history_limit = s.history_limit;
    info.current_version = s.current;
    info.versions_created = s.last_number;
    info.last_recorded_at = s.updated_at;
    tx.commit();
    return info;
}

std::vector<std::string> VersionStore::spinners() const {
    auto &I = *impl_;
    std::lock_guard lock(I.mu);
    std::vector<std::string> out;
    Stmt st(I.db, "SELECT name FROM spinners ORDER BY name");
    while (st.step()) out.push_back(st.text(0));
    return out;
}

void VersionStore::register_snapshot(const Snapshot &snap) {
    // Re-validate: callers may build a Snapshot by hand.
    Snapshot s = Snapshot::from_json(snap.to_json());
    auto &I = *impl_;
    std::lock_guard lock(I.mu);
    Tx tx(I.db, true);
    Stmt st(I.db, "INSERT INTO snapshots(id, volume, size_bytes, created_at, ready, storage_class, metadata) "
                  "VALUES(?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET volume=excluded.volume, "
                  "size_bytes=excluded.size_bytes, created_at=excluded.created_at, ready=excluded.ready, "
                  "storage_class=excluded.storage_class, metadata=excluded.metadata");
    st.bind(1, s.id).bind(2, s.volume).bind(3, s.size_bytes).bind(4, s.created_at).bind(5, s.ready ? 1 : 0);
    st.bind(6, s.storage_class).bind(7, s.metadata_json).run();
    tx.commit();
}

std::vector<Snapshot> VersionStore::snapshots(std::string_view volume) const {
    auto &I = *impl_;
    std::lock_guard lock(I.mu);
    std::vector<Snapshot> out;
    Stmt st(I.db, volume.empty()
                      ? "SELECT id FROM snapshots ORDER BY created_at DESC, id"
                      : "SELECT id FROM snapshots WHERE volume=? ORDER BY created_at DESC, id");
    if (!volume.empty()) st.bind(1, volume);
    Tx tx(I.db, false);
    std::vector<std::string> ids;
    while (st.step()) ids.push_back(st.text(0));
    for (const auto &id : ids)
        if (auto s = I.find_snapshot(id)) out.push_back(*s);
    tx.commit();
    return out;
}

void VersionStore::delete_snapshot(std::string_view id) {
    if (id.empty()) throw Error(ErrorCode::invalid, "snapshot id must not be empty", "id");
    auto &I = *impl_;
    std::lock_guard lock(I.mu);
    Tx tx(I.db, true);
    Stmt st(I.db, "DELETE FROM snapshots WHERE id=?");
    st.bind(1, id).run();
    if (I.db.changes() == 0)
        throw Error(ErrorCode::not_found, "no snapshot with id \"" + std::string(id.substr(0, 128)) + "\"", "id");
    tx.commit();
}

} // namespace spinner_rollback
