// Semantics of the contract beyond the basics of test_capi.cpp: retention,
// latest recorded state, volume snapshots and pricing, plan warnings.
#include "capi/capi_support.hpp"

#include <climits>
#include <cmath>

using namespace spr_test;

namespace {

std::string with_volume_id(const std::string &doc, const std::string &id) {
    return replace_all(doc, "\"vol-data-1\"", "\"" + id + "\"");
}

std::string code(const std::string &doc, const std::string &c) {
    return replace_all(doc, "\"9f3c2e1\"", "\"" + c + "\"");
}

bool any_warning(const json::value &plan, std::initializer_list<const char *> words) {
    for (const auto &w : plan.at("warnings").as_array()) {
        std::string s(w.as_string());
        for (const char *word : words)
            if (contains(s, word)) return true;
    }
    return false;
}

} // namespace

TEST_CASE("a lowered historyLimit applies at once; the current version is never pruned", "[capi][retention]") {
    TempDir dir;
    Store store(dir.store("s"));
    std::string base = data("shop_v1.json");
    for (int i = 1; i <= 5; ++i) REQUIRE(store.record_created("shop", code(base, "b" + std::to_string(i))) == i);
    REQUIRE(store.version_count("shop") == 5);
    // Only a setting changes: no version, but the new limit prunes.
    json::value r = store.record("shop", with_history_limit(code(base, "b5"), 1));
    REQUIRE(str(r, "outcome") == "unchanged");
    REQUIRE(store.numbers("shop") == std::vector<std::int64_t>{5, 4});
    REQUIRE(num(store.info("shop"), "historyLimit") == 1);
    REQUIRE(store.try_get("shop", 3, false) == SPR_E_PRUNED);
    // The content of pruned versions is gone, the retained ones still read back.
    REQUIRE(store.get("shop", 4, true).at("state").at("secrets").at("db").at("password").as_string() == kSecretV1);
    REQUIRE(store.record_created("shop", with_history_limit(code(base, "b6"), 1)) == 6);
    REQUIRE(store.numbers("shop") == std::vector<std::int64_t>{6, 5});
    // Limits out of range are refused.
    REQUIRE(store.try_record("shop", with_history_limit(base, 0)) == SPR_E_INVALID);
    REQUIRE(last_error().path == "$.settings.rollback.historyLimit");
    REQUIRE(store.try_record("shop", with_history_limit(base, 100001)) == SPR_E_INVALID);
}

TEST_CASE("a spinner whose first state is disabled is known but has no versions", "[capi][record]") {
    TempDir dir;
    Store store(dir.store("s"));
    REQUIRE(str(store.record("shop", data("shop_v1_rollback_disabled.json")), "outcome") == "disabled");
    json::value info = store.info("shop");
    REQUIRE_FALSE(boolean(info, "rollbackEnabled"));
    REQUIRE(num(info, "currentVersion") == 0);
    REQUIRE(num(info, "versionsCreated") == 0);
    char *out = sentinel();
    int rc = spr_versions(store, "shop", &out);
    if (rc == SPR_OK) REQUIRE(parse(take(out)).as_array().empty());
    else REQUIRE(rc == SPR_E_NOT_FOUND);
    REQUIRE(store.try_plan("shop", 1) != SPR_OK);
    // Enabled: the first state becomes v1.
    REQUIRE(store.record_created("shop", data("shop_v1.json")) == 1);
    REQUIRE(check_history_shape(store.versions("shop")) == 1);
}

TEST_CASE("plans take untracked fields and settings from the latest recorded state", "[capi][rollback]") {
    TempDir dir;
    Store store(dir.store("s"));
    store.record_created("shop", data("shop_v1.json"));
    store.record_created("shop", data("shop_v2.json"));
    // Unchanged for the policy, but the host deployed new labels and a new limit.
    std::string latest = with_history_limit(replace_all(data("shop_v2.json"), "\"shop-v2\"", "\"shop-latest\""), 50);
    REQUIRE(str(store.record("shop", latest), "outcome") == "unchanged");
    json::value plan = parse(store.plan_raw("shop", 1));
    REQUIRE(plan.at("state").at("labels").at("team").as_string() == "shop-latest");
    REQUIRE(plan.at("state").at("settings").at("rollback").at("historyLimit").as_int64() == 50);
    // scope all restores untracked fields, never the settings.
    json::value all = parse(store.plan_raw("shop", 1, R"({"scope":"all"})"));
    REQUIRE(all.at("state").at("labels").at("team").as_string() == "shop");
    REQUIRE(all.at("state").at("settings").at("rollback").at("historyLimit").as_int64() == 50);
    REQUIRE(all.at("state").at("settings").at("rollback").at("enabled").as_bool());
    json::value v = store.commit(store.plan_raw("shop", 1, R"({"scope":"all"})"));
    REQUIRE(num(v, "rollbackOf") == 1);
    json::value got = store.get("shop", 3, true);
    REQUIRE(got.at("state").at("labels").at("team").as_string() == "shop");
    REQUIRE(got.at("state").at("secrets").at("db").at("password").as_string() == kSecretV1);
    // After the commit the rollback's result is what the host deploys: recording it is "unchanged".
    std::string applied = json::serialize(store.get("shop", 3, true).at("state"));
    REQUIRE(str(store.record("shop", applied), "outcome") == "unchanged");
}

TEST_CASE("a plan targeting a tag without digest warns that the tag may have moved", "[capi][rollback]") {
    TempDir dir;
    Store store(dir.store("s"));
    store.record_created("plain", data("plain_v1.json")); // tag only
    store.record_created("plain", data("plain_v2.json")); // with digest
    json::value plan = parse(store.plan_raw("plain", 1));
    INFO(json::serialize(plan.at("warnings")));
    REQUIRE_FALSE(plan.at("warnings").as_array().empty());
    REQUIRE(any_warning(plan, {"digest", "tag"}));
    // With digests on both sides there is no such warning.
    store.record_created("shop", data("shop_v1.json"));
    store.record_created("shop", data("shop_v2.json"));
    json::value shop = parse(store.plan_raw("shop", 1));
    REQUIRE_FALSE(any_warning(shop, {"digest", "tag"}));
}

TEST_CASE("snapshots qualify only for volumes bound under that name in retained versions", "[capi][snapshots]") {
    TempDir dir;
    Store store(dir.store("s"));
    std::string base = with_history_limit(data("shop_v1.json"), 2);
    store.record_created("shop", with_volume_id(code(base, "c1"), "vol-a"));
    for (int i = 2; i <= 4; ++i) store.record_created("shop", with_volume_id(code(base, "c" + std::to_string(i)), "vol-b"));
    REQUIRE(store.numbers("shop") == std::vector<std::int64_t>{4, 3, 2}); // v1 (the only vol-a) pruned
    for (const char *id : {"snap-a", "snap-b"}) {
        std::string vol = std::string("vol-") + id[5];
        SPR_REQUIRE_OK(spr_snapshot_register(store, (R"({"id":")" + std::string(id) + R"(","volume":")" + vol +
                                                     R"(","sizeBytes":1000,"ready":true,"storageClass":"standard"})")
                                                        .c_str()));
    }
    REQUIRE(store.try_plan("shop", 3, R"({"data":{"data":{"snapshot":"snap-a"}}})") == SPR_E_SNAPSHOT_MISMATCH);
    REQUIRE(store.try_plan("shop", 3, R"({"data":{"data":{"snapshot":"snap-b"}}})") == SPR_OK);
    json::value plan = parse(store.plan_raw("shop", 2, R"({"data":{"data":{"snapshot":"snap-b"}}})"));
    REQUIRE(str(plan.at("volumes").at(0), "source") == "snapshot");
    // sizeBytes is at least the volume's declared size (1Gi) and the snapshot's.
    REQUIRE(num(plan.at("volumes").at(0).at("newVolume"), "sizeBytes") >= (std::int64_t(1) << 30));
}

TEST_CASE("new volumes are priced per storage class, per copy", "[capi][snapshots][pricing]") {
    TempDir dir;
    Store store(dir.store("s"),
                key_options(R"("pricing": {"currency": "CHF", "perGiBMonth": {"standard": 0.25, "*": 1.5}})"));
    const std::int64_t four_gib = std::int64_t(4) << 30;
    auto snap = [&](const std::string &id, const std::string &vol) {
        SPR_REQUIRE_OK(spr_snapshot_register(store, (R"({"id":")" + id + R"(","volume":")" + vol + R"(","sizeBytes":)" +
                                                     std::to_string(four_gib) + R"(,"ready":true})")
                                                        .c_str()));
    };
    auto cost_of = [four_gib](const json::value &plan) {
        const json::value &nv = plan.at("volumes").at(0).at("newVolume");
        REQUIRE(str(nv, "currency") == "CHF");
        REQUIRE(num(nv, "sizeBytes") == four_gib);
        return nv.at("estimatedMonthlyCost").to_number<double>();
    };

    // Shared volume of class "standard": 4 GiB x 0.25.
    store.record_created("shared", data("shop_v1.json"));
    store.record_created("shared", data("shop_v2.json"));
    snap("s-shared", "vol-data-1");
    REQUIRE(std::fabs(cost_of(parse(store.plan_raw("shared", 1, R"({"data":{"data":{"snapshot":"s-shared"}}})"))) - 1.0) < 0.011);

    // Dedicated volume: one per instance (v1 has 2 instances).
    std::string ded = with_volume_id(data("shop_v1_dedicated_volume.json"), "vol-ded");
    store.record_created("dedicated", ded);
    store.record_created("dedicated", code(ded, "other"));
    snap("s-ded", "vol-ded");
    REQUIRE(std::fabs(cost_of(parse(store.plan_raw("dedicated", 1, R"({"data":{"data":{"snapshot":"s-ded"}}})"))) - 2.0) < 0.011);

    // Class without its own price: the "*" price (plain_v1's volume is class "fast").
    store.record_created("plain", data("plain_v1.json"));
    store.record_created("plain", data("plain_v2.json"));
    snap("s-plain", "vol-cache-1");
    REQUIRE(std::fabs(cost_of(parse(store.plan_raw("plain", 1, R"({"data":{"cache":{"snapshot":"s-plain"}}})"))) - 6.0) < 0.011);
}

TEST_CASE("automatic rollback plans skip the current version", "[capi][rollback]") {
    TempDir dir;
    Store store(dir.store("s"));
    store.record_created("shop", data("shop_v1.json"));
    SPR_REQUIRE_OK(spr_set_status(store, "shop", 1, "active"));
    char *out = sentinel();
    // The only active version is the current one: nothing to roll back to.
    REQUIRE(spr_plan_auto_rollback(store, "shop", &out) == SPR_E_NOT_FOUND);
    REQUIRE(out == nullptr);
    store.record_created("shop", data("shop_v2.json"));
    SPR_REQUIRE_OK(spr_set_status(store, "shop", 2, "failed"));
    SPR_REQUIRE_OK(spr_plan_auto_rollback(store, "shop", &out));
    REQUIRE(num(parse(take(out)), "targetVersion") == 1);
}

TEST_CASE("meta and spinner limits", "[capi][record]") {
    TempDir dir;
    Store store(dir.store("s"));
    std::string v1 = data("shop_v1.json");
    REQUIRE(store.record_created(std::string(63, 'a'), v1) == 1);
    REQUIRE(store.try_record(std::string(64, 'a'), v1) == SPR_E_INVALID);
    REQUIRE(last_error().path == "spinner");
    std::string long_author = "{\"author\":\"" + std::string(300, 'x') + "\"}";
    REQUIRE(store.try_record("shop", v1, long_author.c_str()) == SPR_E_INVALID);
    REQUIRE(last_error().path == "meta.author");
    REQUIRE(store.version_count("shop") == 0);
    // UTF-8 in author and message is kept as is.
    json::value r = store.record("shop", v1, R"({"author":"Zoë Ångström","message":"déploiement ✓"})");
    REQUIRE(str(r.at("version"), "author") == "Zoë Ångström");
    REQUIRE(str(store.versions("shop")[0], "message") == "déploiement ✓");
    for (std::int64_t n : {std::int64_t(INT64_MAX), std::int64_t(INT64_MIN)}) {
        REQUIRE(store.try_get("shop", n, false) == SPR_E_NOT_FOUND);
        REQUIRE(store.try_plan("shop", n) == SPR_E_NOT_FOUND);
    }
}

TEST_CASE("createdAt never goes backwards with the version number", "[capi][record]") {
    TempDir dir;
    Store store(dir.store("s"), key_options(R"("durability": "normal")"));
    for (int i = 0; i < 20; ++i) store.record_created("shop", code(data("shop_v1.json"), "t" + std::to_string(i)));
    json::array vs = store.versions("shop");
    for (std::size_t i = 1; i < vs.size(); ++i)
        REQUIRE(str(vs[i - 1], "createdAt") >= str(vs[i], "createdAt")); // RFC 3339 UTC sorts as text
}

namespace {
// spr_last_error() parses as JSON; Boost.JSON refuses invalid UTF-8.
bool last_error_parses() {
    boost::system::error_code ec;
    json::value v = json::parse(spr_last_error(), ec);
    return !ec && v.is_object() && v.as_object().contains("name");
}
} // namespace

TEST_CASE("the last error stays valid UTF-8 JSON whatever the arguments", "[capi][errors]") {
    TempDir dir;
    Store store(dir.store("s"));
    store.record_created("shop", data("shop_v1.json"));
    const std::string cut = std::string(127, 'a') + "\xc3\xa9"; // "é" across byte 128
    const std::vector<std::pair<const char *, std::string>> ids = {
        {"invalid UTF-8", "bad\xff\xfe"},
        {"valid UTF-8 cut at 128 bytes", cut},
        {"long valid UTF-8", std::string(200, 'x') + "\xe2\x82\xac"},
        {"quotes and controls", "quote\"back\\slash\x01"}};
    for (const auto &[what, id] : ids) {
        INFO(what << ": " << spr_last_error());
        CHECK(spr_snapshot_delete(store, id.c_str()) != SPR_OK);
        CHECK(last_error_parses());
        char *out = sentinel();
        CHECK(spr_versions(store, id.c_str(), &out) != SPR_OK);
        CHECK(out == nullptr);
        CHECK(last_error_parses());
        CHECK(spr_set_status(store, "shop", 1, id.c_str()) == SPR_E_INVALID);
        CHECK(last_error_parses());
        spr_store *h = reinterpret_cast<spr_store *>(sentinel());
        CHECK(spr_open((dir.path / "missing-dir" / id).c_str(), nullptr, &h) != SPR_OK);
        CHECK(h == nullptr);
        CHECK(last_error_parses());
    }
    // A requestId reused for another state: the conflict message quotes it.
    const std::string rid = std::string(63, 'r') + "\xc3\xa9";
    const std::string meta = "{\"requestId\":\"" + rid + "\"}";
    store.record_created("shop", data("shop_v2.json"), meta.c_str());
    REQUIRE(store.try_record("shop", data("shop_v1_config_changed.json"), meta.c_str()) == SPR_E_CONFLICT);
    INFO(spr_last_error());
    CHECK(last_error_parses());
}

TEST_CASE("hostile JSON in every JSON argument is refused", "[capi][errors]") {
    TempDir dir;
    Store store(dir.store("s"));
    store.record_created("shop", data("shop_v1.json"));
    store.record_created("shop", data("shop_v2.json"));
    const std::string deep = std::string(100000, '[') + std::string(100000, ']');
    const std::string deep_obj = "{\"metadata\":" + std::string(5000, '[') + std::string(5000, ']') + "}";
    char *out = sentinel();
    spr_store *h = reinterpret_cast<spr_store *>(sentinel());
    REQUIRE(spr_open(dir.store("s").c_str(), deep.c_str(), &h) == SPR_E_INVALID);
    REQUIRE(h == nullptr);
    REQUIRE(spr_record(store, "shop", data("shop_v1.json").c_str(), deep.c_str(), &out) == SPR_E_INVALID);
    REQUIRE(out == nullptr);
    REQUIRE(store.try_plan("shop", 1, deep.c_str()) == SPR_E_INVALID);
    REQUIRE(store.try_commit(deep) == SPR_E_INVALID);
    REQUIRE(spr_snapshot_register(store, deep.c_str()) == SPR_E_INVALID);
    REQUIRE(spr_snapshot_register(store, (R"({"id":"x","volume":"v","sizeBytes":1,"ready":true,)" + deep_obj.substr(1)).c_str()) == SPR_E_INVALID);
    REQUIRE(spr_policy_evaluate(deep.c_str(), nullptr, data("shop_v1.json").c_str(), &out) == SPR_E_INVALID);
    REQUIRE(spr_diff_states(deep.c_str(), data("shop_v1.json").c_str(), &out) == SPR_E_INVALID);
    REQUIRE(out == nullptr);
    // Duplicate keys anywhere.
    REQUIRE(spr_record(store, "shop", data("shop_v2.json").c_str(), R"({"author":"a","author":"b"})", &out) == SPR_E_INVALID);
    REQUIRE(store.try_plan("shop", 1, R"({"scope":"all","scope":"tracked"})") == SPR_E_INVALID);
    std::string plan = store.plan_raw("shop", 1);
    REQUIRE(store.try_commit("{\"digest\":\"x\"," + plan.substr(1)) == SPR_E_INVALID); // duplicate "digest"
    REQUIRE(store.version_count("shop") == 2);
}
