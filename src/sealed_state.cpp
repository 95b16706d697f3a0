// Sealing a state for storage and materialising it back (see sealed_state.hpp).
#include "sealed_state.hpp"

#include "digest.hpp"

#include <sodium.h>

namespace spinner_rollback::detail {

namespace {
constexpr std::string_view kMapPrefix = "blob:";

} // namespace

bool has_secret_values(const json::object &state) {
    const auto *sec = state.if_contains("secrets");
    return sec && sec->is_object() && !sec->get_object().empty();
}

Sealed::~Sealed() {
    for (auto &[id, plain] : secrets) sodium_memzero(plain.data(), plain.size());
}

bool SealedState::seals_read_only(const json::object &normalized) const {
    return keys_.ready() || !has_secret_values(normalized);
}

std::vector<std::string> sealed_children(const json::object &core) {
    std::vector<std::string> ids;
    if (auto *maps = core.if_contains("configMaps"); maps && maps->is_object())
        for (const auto &kv : maps->get_object())
            if (kv.value().is_string() && kv.value().get_string().starts_with(kMapPrefix))
                ids.emplace_back(kv.value().get_string().subview(kMapPrefix.size()));
    if (auto *b = core.if_contains("$secretBlobs"); b && b->is_object())
        for (const auto &kv : b->get_object())
            if (kv.value().is_string()) ids.emplace_back(kv.value().get_string());
    return ids;
}

std::optional<StoredKeys> read_stored_keys(Db &db) {
    Stmt st(db, "SELECT key, value FROM meta WHERE key IN ('data_key', 'mac_key', 'data_key_prev')");
    std::optional<StoredKeys> k;
    std::optional<std::string> mac, prev;
    while (st.step()) {
        const std::string name = st.text(0);
        if (name == "data_key") (k ? *k : k.emplace()).data_key = st.blob(1);
        else if (name == "mac_key") mac = st.blob(1);
        else prev = st.blob(1);
    }
    if (k) {
        k->mac_key = std::move(mac);
        k->previous = std::move(prev);
    }
    return k;
}

void SealedState::load_data_key() {
    if (!keys_.configured() || keys_.ready()) return;
    if (auto k = read_stored_keys(db_)) keys_.load(*k); // wrong key: no_key
}

bool SealedState::refresh_keys() {
    if (!keys_.ready()) return false;
    auto k = read_stored_keys(db_);
    if (!k || (k->data_key == keys_.loaded_data_key() && k->mac_key == keys_.loaded_mac_key())) return false;
    if (keys_.load(*k))
        // An import adopted another lineage's MAC key after this state was
        // sealed: its secret ids and MACs are stale. Nothing is written yet.
        throw Error(ErrorCode::busy, "the store's keys changed while this write was prepared; retry it");
    return true;
}

void SealedState::ensure_data_key(bool create) {
    if (keys_.ready()) return;
    if (!keys_.configured())
        throw Error(ErrorCode::no_key, "secret values need an encryption key: open the store with "
                                       "\"key\", \"keyFile\", \"keys\" or a cipher",
                    "$.secrets");
    if (auto k = read_stored_keys(db_)) {
        keys_.load(*k);
        return;
    }
    if (!create) throw Error(ErrorCode::not_found, "this store holds no secret values");
    std::string wrapped = keys_.create_data_key();
    Stmt ins(db_, "INSERT INTO meta(key, value) VALUES('data_key', ?)");
    ins.bind_blob(1, wrapped).run();
}

std::string SealedState::open_secret(const std::string &id) {
    const std::string sealed = blobs_.load(id, BlobKind::secret);
    auto plain = keys_.try_open(id, sealed);
    // Another handle may have replaced the data key (rotate_key with reseal).
    if (!plain && refresh_keys()) plain = keys_.try_open(id, sealed);
    if (!plain) throw Error(ErrorCode::corrupt, "a sealed secret failed authentication");
    if (keys_.secret_id(*plain) != id) throw Error(ErrorCode::corrupt, "secret content fails its digest");
    return std::move(*plain);
}

MapLoader SealedState::loader(const Sealed *pending) {
    return [this, pending](const json::value &placeholder) -> std::shared_ptr<const json::object> {
        if (!placeholder.is_string() || !placeholder.get_string().starts_with(kMapPrefix))
            throw Error(ErrorCode::corrupt, "bad config map reference");
        std::string id(placeholder.get_string().subview(kMapPrefix.size()));
        if (pending) {
            auto it = pending->maps.find(id);
            if (it != pending->maps.end()) return std::make_shared<const json::object>(json::parse(it->second).as_object());
        }
        return blobs_.map(id);
    };
}

json::object SealedState::materialize(const json::object &core, Secrets mode) {
    json::object out = core;
    out.erase("$secretBlobs");
    auto load = loader();
    if (auto *maps = out.if_contains("configMaps"); maps && maps->is_object())
        for (auto &kv : maps->get_object()) kv.value() = *load(kv.value());
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
    const auto *blobs = core.if_contains("$secretBlobs");
    if (!blobs || !blobs->is_object()) throw Error(ErrorCode::corrupt, "secret without sealed content");
    for (auto &kv : secrets->get_object()) {
        auto *idv = blobs->get_object().if_contains(kv.key());
        if (!idv || !idv->is_string()) throw Error(ErrorCode::corrupt, "secret without sealed content");
        std::string id(idv->get_string());
        std::string plain = open_secret(id);
        boost::system::error_code ec;
        json::value v = json::parse(plain, ec);
        if (ec || !v.is_object()) throw Error(ErrorCode::corrupt, "secret content is not an object");
        // Check every per-value MAC the core claims.
        for (const auto &kv2 : kv.value().as_object()) {
            auto *val = v.get_object().if_contains(kv2.key());
            if (!val || !val->is_string() || !kv2.value().is_string() ||
                keys_.value_mac(kv.key(), kv2.key(), val->get_string()) != kv2.value().get_string())
                throw Error(ErrorCode::corrupt, "secret value fails its digest");
        }
        kv.value() = std::move(v);
    }
    return out;
}

Sealed SealedState::seal(json::object n) {
    Sealed s;
    s.core = std::move(n);
    if (auto *maps = s.core.if_contains("configMaps"); maps && maps->is_object())
        for (auto &kv : maps->get_object()) {
            std::string text = canonical(kv.value());
            std::string id = to_hex(sha256_raw(text));
            s.maps.emplace(id, std::move(text));
            kv.value() = json::string(std::string(kMapPrefix) + id);
        }
    json::object blobs;
    if (has_secret_values(s.core)) {
        ensure_data_key(true);
        for (auto &kv : s.core.at("secrets").get_object()) {
            std::string plain = canonical(kv.value());
            std::string id = keys_.secret_id(plain);
            if (!s.secrets.try_emplace(id, std::move(plain)).second) sodium_memzero(plain.data(), plain.size());
            for (auto &kv2 : kv.value().as_object())
                kv2.value() = json::string(keys_.value_mac(kv.key(), kv2.key(), kv2.value().as_string()));
            blobs.emplace(kv.key(), json::string(id));
        }
    }
    s.core["$secretBlobs"] = std::move(blobs);
    s.core_text = canonical(s.core);
    s.core_id = to_hex(sha256_raw(s.core_text));
    return s;
}

Sealed SealedState::reseal(json::object core) {
    Sealed s;
    s.core = std::move(core);
    s.core_text = canonical(s.core);
    s.core_id = to_hex(sha256_raw(s.core_text));
    return s;
}

void SealedState::put(const Sealed &s, const std::string &base) {
    for (const auto &[id, text] : s.maps) blobs_.put(id, BlobKind::map, text, {}, {});
    bool refreshed = false;
    for (const auto &[id, plain] : s.secrets)
        if (!blobs_.contains(id)) {
            // Seal under the store's data key as it is now: another handle
            // may have replaced it (rotate_key with reseal).
            if (!refreshed) refreshed = (refresh_keys(), true);
            blobs_.put(id, BlobKind::secret, keys_.seal(id, plain), {}, {});
        }
    blobs_.put(s.core_id, BlobKind::core, s.core_text, base, sealed_children(s.core));
    // The next record compares against it, and the next delta builds on it.
    blobs_.cache_core(s.core_id, s.core_text, s.core);
}

} // namespace spinner_rollback::detail
