// Operating a store for years through the C ABI: keyrings and spr_rotate_key,
// spr_export / spr_import bundles, spr_migrate.
#include "capi_support.hpp"

using namespace spr_test;

namespace {

std::string ring_options() {
    return R"({"keys": [{"id": "k2", "key": ")" + kOtherKeyHex + R"("}, {"id": "k1", "key": ")" + kKeyHex + R"("}]})";
}

json::value call_out(int (*f)(spr_store *, const char *, char **), spr_store *s, const char *arg) {
    char *out = nullptr;
    SPR_REQUIRE_OK(f(s, arg, &out));
    return parse(take(out));
}

} // namespace

TEST_CASE("spr_rotate_key re-wraps and re-seals; the retired key gets SPR_E_NO_KEY", "[capi][keys]") {
    TempDir dir;
    const std::string path = dir.store("s");
    {
        Store s(path);
        s.record_created("shop", data("shop_v1.json"));
    }
    {
        Store s(path, ring_options());
        json::value r = call_out(spr_rotate_key, s, R"({"reseal": true, "batchSize": 1})");
        REQUIRE(str(r, "keyId") == "k2");
        REQUIRE(num(r, "resealed") == 1);
        REQUIRE(s.get("shop", 1, true).at("state").at("secrets").at("db").at("password").as_string() == kSecretV1);
        char *out = sentinel();
        REQUIRE(spr_rotate_key(s, R"({"batchSize": 0})", &out) == SPR_E_INVALID);
        REQUIRE(out == nullptr);
        REQUIRE(last_error().path == "options.batchSize");
    }
    spr_store *h = reinterpret_cast<spr_store *>(sentinel());
    REQUIRE(spr_open(path.c_str(), key_options().c_str(), &h) == SPR_E_NO_KEY);
    REQUIRE(h == nullptr);
    Store only_new(path, R"({"key": ")" + kOtherKeyHex + "\"}");
    REQUIRE(only_new.get("shop", 1, true).at("state").at("secrets").at("db").at("password").as_string() == kSecretV1);
}

TEST_CASE("spr_export and spr_import round-trip a history; spr_migrate verifies a copy", "[capi][bundle]") {
    TempDir dir;
    Store a(dir.store("a"));
    a.record_created("shop", data("shop_v1.json"));
    a.record_created("shop", data("shop_v2.json"));
    const std::string file = (dir.path / "shop.bundle").string();
    const std::string bundle_key = R"({"key": ")" + std::string(64, '3') + "\"}";
    REQUIRE(spr_export(a, "shop", file.c_str(), nullptr) == SPR_E_NO_KEY);
    REQUIRE(last_error().path == "options.key");
    REQUIRE(spr_export(a, "nope", file.c_str(), bundle_key.c_str()) == SPR_E_NOT_FOUND);
    REQUIRE(spr_export(nullptr, "shop", file.c_str(), bundle_key.c_str()) == SPR_E_INVALID);
    SPR_REQUIRE_OK(spr_export(a, "shop", file.c_str(), bundle_key.c_str()));
    REQUIRE_FALSE(contains(read_file(file), kSecretV1));

    Store b(dir.store("b"));
    char *out = nullptr;
    SPR_REQUIRE_OK(spr_import(b, file.c_str(), bundle_key.c_str(), &out));
    json::value r = parse(take(out));
    REQUIRE(num(r, "spinnersImported") == 1);
    REQUIRE(num(r, "versionsImported") == 2);
    REQUIRE(b.versions_raw("shop") == a.versions_raw("shop"));
    REQUIRE(b.get_raw("shop", 1, true) == a.get_raw("shop", 1, true));
    SPR_REQUIRE_OK(spr_import(b, file.c_str(), bundle_key.c_str(), &out));
    REQUIRE(num(parse(take(out)), "spinnersSkipped") == 1);
    // A bundle cut short: the line and the reason, nothing written.
    const std::string text = read_file(file);
    const std::string cut = (dir.path / "cut.bundle").string();
    std::ofstream(cut) << text.substr(0, text.size() - 20);
    Store c(dir.store("c"));
    out = sentinel();
    REQUIRE(spr_import(c, cut.c_str(), bundle_key.c_str(), &out) == SPR_E_INVALID);
    REQUIRE(out == nullptr);
    REQUIRE(last_error().path.rfind("bundle:", 0) == 0);
    REQUIRE(contains(last_error().message, "bundle line"));

    const std::string target = dir.store("m");
    SPR_REQUIRE_OK(spr_migrate(a, target.c_str(), key_options().c_str(), &out));
    r = parse(take(out));
    REQUIRE(num(r, "versionsVerified") == 2);
    Store m(target);
    REQUIRE(m.versions_raw("shop") == a.versions_raw("shop"));
    out = sentinel();
    REQUIRE(spr_migrate(a, target.c_str(), R"({"bogus": 1})", &out) == SPR_E_INVALID);
    REQUIRE(out == nullptr);
}
