// Keyrings and key rotation (docs/operations.md, "Rotating keys"): the first
// key wraps, any key unwraps; rotate_key re-wraps, and with reseal replaces
// the data key and re-seals every secret, changing no digest.
#include <catch2/catch.hpp>

#include "fixtures.hpp"

using namespace spinner_rollback;
using namespace fixtures;

namespace {

const std::string kKey2 = std::string(64, '7');

StoreOptions ring(std::vector<std::pair<std::string, std::string>> keys) {
    StoreOptions o;
    for (auto &[id, key] : keys) o.keys.push_back({id, key, ""});
    return o;
}

// A state whose secret "db" holds `value`.
std::string with_secret(const std::string &value) {
    return with([&](json::object &s) { s["secrets"].as_object()["db"].as_object()["password"] = value; });
}

std::string revealed(VersionStore &s, std::int64_t n) {
    auto d = s.get("shop", n, true);
    return std::string(json::parse(d.state_json).at("secrets").at("db").at("password").as_string());
}

std::vector<std::string> digests(VersionStore &s) {
    std::vector<std::string> out;
    for (const auto &v : s.versions("shop")) out.push_back(v.digest);
    return out;
}

} // namespace

TEST_CASE("keyring options are checked, naming the entry", "[keys]") {
    using spinner_rollback::StoreOptions;
    auto path_of = [](const std::string &json) { return error_of([&] { StoreOptions::from_json(json); }).path(); };
    CHECK(path_of(R"({"keys": []})") == "options.keys");
    CHECK(path_of(R"({"keys": [{"key": "x"}]})") == "options.keys[0].id");
    CHECK(path_of(R"({"keys": [{"id": "a", "key": "00", "extra": 1}]})") == "options.keys[0].extra");
    CHECK(path_of(R"({"key": ")" + kKey + R"(", "keys": [{"id": "a", "key": ")" + kKey + R"("}]})") ==
          "options.keys");
    TempDir dir;
    auto open_err = [&](const StoreOptions &o) { return error_of([&] { VersionStore::open(dir.file(), o); }); };
    Error e = open_err(ring({{"k1", kKey}, {"k1", kKey2}}));
    CHECK(e.code() == ErrorCode::invalid);
    CHECK(e.path() == "options.keys[1].id");
    e = open_err(ring({{"bad id", kKey}}));
    CHECK(e.path() == "options.keys[0].id");
    e = open_err(ring({{"k1", "not-a-key"}}));
    CHECK(e.path() == "options.keys[0].key");
    CHECK(std::string(e.what()).find("not-a-key") == std::string::npos);
}

TEST_CASE("rotate_key re-wraps under the first key; the retired key no longer opens the store", "[store][keys]") {
    TempDir dir;
    const std::string path = dir.store();
    std::vector<std::string> before;
    {
        auto s = VersionStore::open(path, ring({{"k1", kKey}}));
        s->record("shop", with_secret("v1-" + kSecretValue));
        s->record("shop", with_secret("v2-" + kSecretValue));
        before = digests(*s);
    }
    {
        auto s = VersionStore::open(path, ring({{"k2", kKey2}, {"k1", kKey}}));
        auto r = s->rotate_key();
        CHECK(r.key_id == "k2");
        CHECK(r.rewrapped == 1);
        CHECK(r.resealed == 0);
        CHECK(r.to_json().find("\"keyId\":\"k2\"") != std::string::npos);
        CHECK(digests(*s) == before);
        CHECK(revealed(*s, 1) == "v1-" + kSecretValue);
        // The rotation is an event; it names the key, never a key's bytes.
        auto ev = s->events(0, 100);
        REQUIRE_FALSE(ev.events.empty());
        CHECK(ev.events.back().type == "store.key_rotated");
        CHECK(ev.events.back().data_json.find(kKey2) == std::string::npos);
    }
    // The retired key alone: no_key at open. The new key alone: everything reveals.
    Error e = error_of([&] { VersionStore::open(path, ring({{"k1", kKey}})); });
    CHECK(e.code() == ErrorCode::no_key);
    CHECK(e.path() == "options.keys");
    StoreOptions single;
    single.key = kKey;
    CHECK(error_of([&] { VersionStore::open(path, single); }).code() == ErrorCode::no_key);
    auto s = VersionStore::open(path, ring({{"k2", kKey2}}));
    CHECK(revealed(*s, 2) == "v2-" + kSecretValue);
    CHECK(digests(*s) == before);
    // An unchanged secret recorded again is still unchanged.
    CHECK(s->record("shop", with_secret("v2-" + kSecretValue)).outcome == spinner_rollback::Outcome::unchanged);
}

TEST_CASE("rotate_key with reseal replaces the data key and changes no digest", "[store][keys]") {
    TempDir dir;
    const std::string path = dir.store();
    {
        auto first = VersionStore::open(path, keyed());
        for (int i = 1; i <= 7; ++i) first->record("shop", with_secret("v" + std::to_string(i) + "-" + kSecretValue));
    }
    // The new ring is rolled out to every daemon first (docs/operations.md).
    auto a = VersionStore::open(path, ring({{"k2", kKey2}, {"k1", kKey}}));
    const auto before = digests(*a);
    const std::string sealed_sql = spr_backend::is_pg(path)
                                       ? "SELECT string_agg(encode(data, 'hex'), ',' ORDER BY id) FROM blobs WHERE kind = 3"
                                       : "SELECT group_concat(hex(data)) FROM (SELECT data FROM blobs WHERE kind = 3 ORDER BY id)";
    const auto sealed_before = spr_backend::query_text(path, sealed_sql);
    CHECK(revealed(*a, 1) == "v1-" + kSecretValue); // a has the old data key loaded

    auto b = VersionStore::open(path, ring({{"k2", kKey2}, {"k1", kKey}}));
    spinner_rollback::RotateOptions o;
    o.reseal = true;
    o.batch_size = 2;
    auto r = b->rotate_key(o);
    CHECK(r.key_id == "k2");
    CHECK(r.resealed == 7);
    CHECK_FALSE(r.resumed);
    CHECK(r.rewrapped == 3);
    CHECK(spr_backend::query_int(path, "SELECT count(*) FROM meta WHERE key IN ('data_key_prev', 'reseal_cursor')") == 0);
    CHECK(spr_backend::query_int(path, "SELECT count(*) FROM meta WHERE key = 'mac_key'") == 1);
    CHECK(spr_backend::query_text(path, sealed_sql) != sealed_before);
    CHECK(digests(*b) == before);
    for (int i = 1; i <= 7; ++i) CHECK(revealed(*b, i) == "v" + std::to_string(i) + "-" + kSecretValue);

    // Handle a, opened before the reseal, still reads (it
    // reloads the store's keys) and writes a secret that b can read.
    CHECK(revealed(*a, 3) == "v3-" + kSecretValue);
    CHECK(a->record("shop", with_secret("v8-" + kSecretValue)).outcome == spinner_rollback::Outcome::created);
    CHECK(revealed(*b, 8) == "v8-" + kSecretValue);
    // Equal secrets still compare equal: recording v7's secret again is a
    // change of the secret only, and its digest equals v7's.
    auto again = b->record("shop", with_secret("v7-" + kSecretValue));
    REQUIRE(again.version);
    CHECK(again.version->digest == before.front());
    // A second reseal works from the stored MAC key.
    CHECK(b->rotate_key(o).resealed == 8);
    CHECK(revealed(*b, 9) == "v7-" + kSecretValue);
}

TEST_CASE("rotate_key needs a key and does nothing to a store without secrets", "[store][keys]") {
    TempDir dir;
    const std::string path = dir.store();
    {
        auto plain = VersionStore::open(path);
        CHECK(error_of([&] { plain->rotate_key(); }).code() == ErrorCode::no_key);
        spinner_rollback::RotateOptions bad;
        bad.batch_size = 0;
        CHECK(error_of([&] { plain->rotate_key(bad); }).path() == "options.batchSize");
    }
    auto s = VersionStore::open(path, keyed());
    CHECK(s->rotate_key().rewrapped == 0);
    CHECK(spinner_rollback::RotateOptions::from_json(R"({"reseal": true, "batchSize": 9})").batch_size == 9);
    CHECK(error_of([] { spinner_rollback::RotateOptions::from_json(R"({"resealed": true})"); }).path() ==
          "options.resealed");
}

TEST_CASE("a write that rolls back leaves this handle no data key the store does not hold", "[store][keys]") {
    // Found by fuzz_ops: a store's first secret made the data key in a
    // transaction that then failed (here compare-and-set); the handle kept the
    // key and sealed the next secrets under it, which the store, reopened,
    // could not reveal ("this store holds no secret values").
    TempDir dir;
    const std::string path = dir.store();
    {
        auto s = VersionStore::open(path, ring({{"k1", kKey}}));
        ChangeMeta cas;
        cas.expected_current = 1;
        CHECK(error_of([&] { s->record("other", with_secret("x-" + kSecretValue), cas); }).code() ==
              ErrorCode::conflict);
        s->record("shop", with_secret("v1-" + kSecretValue));
        CHECK(revealed(*s, 1) == "v1-" + kSecretValue);
    }
    auto s = VersionStore::open(path, ring({{"k1", kKey}}));
    CHECK(revealed(*s, 1) == "v1-" + kSecretValue);
    // A second handle on the same store reads it too.
    auto other = VersionStore::open(path, ring({{"k1", kKey}}));
    CHECK(revealed(*other, 1) == "v1-" + kSecretValue);
}
