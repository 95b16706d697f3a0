// Key rotation (docs/operations.md, "Rotating keys"): re-wrap the store's
// keys under the keyring's first key; with reseal, replace the data key and
// re-seal every secret in resumable batches. The MAC key never changes.
#include "store_impl.hpp"

#include "digest.hpp"
#include "json.hpp"

#include <sodium.h>

namespace spinner_rollback {

using namespace detail;

namespace {

void put_meta(Db &db, std::string_view key, std::string_view value) {
    Stmt st(db, "INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value");
    st.bind(1, key).bind_blob(2, value).run();
}

void drop_meta(Db &db, std::string_view key) {
    Stmt st(db, "DELETE FROM meta WHERE key=?");
    st.bind(1, key).run();
}

// Wrapped key bytes, unwrapped, wiped when done.
struct Unwrapped {
    std::string bytes;
    ~Unwrapped() { sodium_memzero(bytes.data(), bytes.size()); }
};

} // namespace

RotateOptions RotateOptions::from_json(std::string_view text) {
    RotateOptions o;
    if (text.empty()) return o;
    json::value v = parse_strict(text, "options", {1u << 16, 4, 64});
    const auto &obj = as_object(v, "options");
    only_keys(obj, {"reseal", "batchSize"}, "options");
    if (auto *x = obj.if_contains("reseal")) o.reseal = as_bool(*x, "options.reseal");
    if (auto *x = obj.if_contains("batchSize")) o.batch_size = as_int(*x, "options.batchSize");
    return o;
}

std::string RotateResult::to_json() const {
    return dump(json::object{{"keyId", key_id}, {"rewrapped", rewrapped}, {"resealed", resealed}, {"resumed", resumed}});
}

RotateResult VersionStore::rotate_key(const RotateOptions &options) {
    if (options.batch_size < 1 || options.batch_size > 100000)
        throw Error(ErrorCode::invalid, "must be 1-100000", "options.batchSize");
    Impl &im = *impl_;
    if (!im.keys.configured())
        throw Error(ErrorCode::no_key, "rotate_key needs the store opened with a key, a keyring or a cipher", "options");
    RotateResult r;
    r.key_id = im.keys.wrapping_key_id();
    bool resealing = false;
    im.write([&] {
        auto stored = read_stored_keys(im.db);
        if (!stored) return; // no secret was ever stored: nothing is wrapped
        im.keys.load(*stored); // no_key unless some key of the ring opens them all
        StoredKeys next;
        if (options.reseal && !stored->previous) {
            // Start a reseal: the old data key becomes the previous one (it
            // still opens what is not re-sealed yet) and the MAC key is kept
            // on its own, so no digest changes.
            Unwrapped old{im.keys.unwrap(stored->data_key)};
            next.mac_key = stored->mac_key ? im.keys.wrap(Unwrapped{im.keys.unwrap(*stored->mac_key)}.bytes)
                                           : im.keys.wrap(std::string_view(
                                                 reinterpret_cast<const char *>(im.keys.mac_key().data()), 32));
            next.previous = im.keys.wrap(old.bytes);
            Unwrapped fresh{random_bytes(32)};
            next.data_key = im.keys.wrap(fresh.bytes);
            put_meta(im.db, "reseal_cursor", "");
        } else {
            r.resumed = options.reseal && stored->previous.has_value();
            next.data_key = im.keys.wrap(Unwrapped{im.keys.unwrap(stored->data_key)}.bytes);
            if (stored->mac_key) next.mac_key = im.keys.wrap(Unwrapped{im.keys.unwrap(*stored->mac_key)}.bytes);
            if (stored->previous) next.previous = im.keys.wrap(Unwrapped{im.keys.unwrap(*stored->previous)}.bytes);
        }
        put_meta(im.db, "data_key", next.data_key);
        ++r.rewrapped;
        if (next.mac_key) put_meta(im.db, "mac_key", *next.mac_key), ++r.rewrapped;
        if (next.previous) put_meta(im.db, "data_key_prev", *next.previous), ++r.rewrapped;
        im.keys.load(next);
        resealing = options.reseal;
        json::object data{{"keyId", r.key_id}, {"reseal", options.reseal}};
        im.events.append("store.key_rotated", {}, std::nullopt, std::move(data));
    });
    // Re-seal in batches, in id order; the cursor commits with each batch,
    // so a crash loses at most one batch's work.
    while (resealing) {
        im.write([&] {
            auto stored = read_stored_keys(im.db);
            if (!stored || !stored->previous) { // another handle finished it
                resealing = false;
                return;
            }
            im.keys.load(*stored);
            Stmt cur(im.db, "SELECT value FROM meta WHERE key='reseal_cursor'");
            const std::string cursor = cur.step() ? cur.blob(0) : std::string();
            Stmt batch(im.db, "SELECT id, data FROM blobs WHERE kind = 3 AND id > ? ORDER BY id LIMIT ?");
            batch.bind_blob(1, cursor).bind(2, options.batch_size);
            std::vector<std::pair<std::string, std::string>> rows;
            while (batch.step()) rows.emplace_back(batch.blob(0), batch.blob(1));
            Stmt upd(im.db, "UPDATE blobs SET data = ?, size = ? WHERE id = ?");
            for (auto &[raw_id, sealed] : rows) {
                const std::string id = to_hex(raw_id);
                auto plain = im.keys.try_open(id, sealed);
                if (!plain) throw Error(ErrorCode::corrupt, "secret " + id.substr(0, 12) + " opens under neither data key");
                const std::string resealed = im.keys.seal(id, *plain);
                sodium_memzero(plain->data(), plain->size());
                upd.reset();
                upd.bind_blob(1, resealed).bind(2, static_cast<std::int64_t>(resealed.size())).bind_blob(3, raw_id).run();
                ++r.resealed;
            }
            if (static_cast<std::int64_t>(rows.size()) < options.batch_size) {
                drop_meta(im.db, "data_key_prev");
                drop_meta(im.db, "reseal_cursor");
                stored->previous.reset();
                im.keys.load(*stored);
                resealing = false;
            } else {
                put_meta(im.db, "reseal_cursor", rows.back().first);
            }
        });
    }
    return r;
}

} // namespace spinner_rollback
