// Partial rollbacks (scopes) and restore points, on real stores of either
// engine: every category alone and in common pairs produces a valid state
// holding exactly the scoped changes; invalid mixes name the category to add.
#include <catch2/catch.hpp>

#include "clock.hpp"
#include "fixtures.hpp"

#include <chrono>
#include <set>
#include <thread>

using namespace spinner_rollback;
using namespace fixtures;

namespace {

// v1: the base state. v2: every restorable category changed.
std::string v2() {
    return with([](auto &s) {
        auto &c = container(s);
        c["image"] = json::object{{"reference", "registry.example/shop:1.5"}, {"digest", kDigestB}};
        c["codeVersion"] = "abc1234";
        c["env"].as_array()[0].as_object()["value"] = "canary";
        c["ports"].as_array().push_back(
            json::object{{"name", "metrics"}, {"containerPort", 9100}, {"protocol", "TCP"}, {"expose", false}});
        c["securityContext"].as_object()["runAsUser"] = 2000;
        c["resources"] = json::object{{"cpu", "750m"}, {"memory", "512Mi"}};
        c["command"] = json::array{"/app/shop2"};
        c["args"] = json::array{"--listen", ":8081"};
        c["mounts"].as_array()[2].as_object()["path"] = "/data";
        s["instances"] = 3;
        s["configMaps"].as_object()["shop-config"].as_object()["flags"] = "a,b,c";
        s["secrets"].as_object()["db"].as_object()["password"] = "rotated-Zq9";
    });
}

RollbackScope scope_of(std::vector<std::string> cats) {
    RollbackScope s;
    s.kind = RollbackScope::Kind::categories;
    s.categories = std::move(cats);
    return RollbackScope::from_json(s.to_json()); // documentation order
}

std::set<std::string> categories_in(const Diff &d) {
    std::set<std::string> out;
    for (const auto &c : d.changes) out.insert(c.category);
    return out;
}

} // namespace

TEST_CASE("every category alone and in common pairs: only the scoped changes, a valid state", "[planner][scopes]") {
    const std::vector<std::vector<std::string>> table = {
        {"image"}, {"codeVersion"}, {"env"}, {"ports"}, {"securityContext"}, {"cpu"}, {"memory"},
        {"command"}, {"args"}, {"instances"}, {"mounts"}, {"configValues"}, {"secretValues"},
        {"image", "codeVersion"}, {"env", "configValues"}, {"cpu", "memory"}, {"command", "args"},
        {"configValues", "secretValues"},
    };
    TempDir dir;
    auto store = VersionStore::open(dir.store(), keyed());
    store->record("shop", text(base_state()));
    store->record("shop", v2());
    RollbackPlanner planner(*store);
    for (const auto &cats : table) {
        const RollbackScope scope = scope_of(cats);
        INFO("scope " << scope.to_json());
        PlanRequest req;
        req.scope = scope;
        const Plan p = planner.plan("shop", 1, req);
        const std::set<std::string> want(cats.begin(), cats.end());
        CHECK(categories_in(p.diff) == want);
        CHECK(p.summary.find("rollback to v1") == 0);
        // the resulting state holds the target's scoped fields and the current ones elsewhere
        const json::object st = json::parse(p.state_json).as_object();
        const auto &c = st.at("containers").as_array()[0].as_object();
        CHECK((c.at("codeVersion").as_string() == "9f3c2e1") == want.count("codeVersion"));
        CHECK((st.at("instances").as_int64() == 2) == want.count("instances"));
        CHECK((c.at("resources").as_object().at("cpu").as_string() == "500m") == want.count("cpu"));
        CHECK((c.at("args").as_array().size() == 2 && c.at("args").as_array()[1].as_string() == ":8080") ==
              want.count("args"));
        CHECK(p.state_json.find("rotated-Zq9") == std::string::npos); // secrets masked in plans
        CHECK(p.request.to_json().find(scope.to_json()) != std::string::npos);
    }
    // commit one: the listing carries the scope; the committed state is the plan's
    PlanRequest req;
    req.scope = scope_of({"image", "codeVersion"});
    const Plan p = planner.plan("shop", 1, req);
    const Version v = planner.commit(p);
    REQUIRE(v.scope);
    CHECK(v.scope->categories == std::vector<std::string>{"image", "codeVersion"});
    CHECK(store->versions("shop").front().to_json().find(R"("rollbackOf":1,"scope":["image","codeVersion"])") !=
          std::string::npos);
    const auto got = json::parse(store->get("shop", 3, true).state_json).as_object();
    const auto &c = got.at("containers").as_array()[0].as_object();
    CHECK(c.at("image").as_object().at("reference").as_string() == "registry.example/shop:1.4");
    CHECK(c.at("env").as_array()[0].as_object().at("value").as_string() == "canary"); // not in scope: current
    CHECK(got.at("secrets").as_object().at("db").as_object().at("password").as_string() == "rotated-Zq9");
    // the same scope again: nothing left to roll back within it
    CHECK(error_of([&] { planner.plan("shop", 1, req); }).code() == ErrorCode::identical);
}

TEST_CASE("a scope that would make an invalid state names the category to add", "[planner][scopes]") {
    TempDir dir;
    auto store = VersionStore::open(dir.store(), keyed());
    // v1 reads a config key that only v1's config map has; v2 dropped both
    store->record("shop", with([](auto &s) {
                      container(s)["env"].as_array().push_back(json::object{
                          {"name", "EXTRA"}, {"configMapRef", json::object{{"name", "shop-config"}, {"key", "extra"}}}});
                      s["configMaps"].as_object()["shop-config"].as_object()["extra"] = "1";
                  }));
    // v2 also mounts a config map v1 does not have
    store->record("shop", with([](auto &s) {
                      s["configMaps"].as_object()["feature-flags"] = json::object{{"on", "yes"}};
                      container(s)["mounts"].as_array().push_back(
                          json::object{{"path", "/etc/flags"}, {"configMap", "feature-flags"}});
                  }));
    RollbackPlanner planner(*store);
    PlanRequest req;

    req.scope = scope_of({"env"});
    Error e = error_of([&] { planner.plan("shop", 1, req); });
    CHECK(e.code() == ErrorCode::invalid);
    INFO(e.what());
    // v1's config map brings the key, but drops the map v2's mounts read: both are needed
    CHECK(std::string(e.what()).find("add \"configValues\" and \"mounts\" to the scope") != std::string::npos);
    CHECK(e.path().find("env") != std::string::npos);

    req.scope = scope_of({"configValues"});
    e = error_of([&] { planner.plan("shop", 1, req); });
    CHECK(e.code() == ErrorCode::invalid);
    INFO(e.what());
    CHECK(std::string(e.what()).find("add \"mounts\" to the scope") != std::string::npos);

    req.scope = scope_of({"env", "configValues", "mounts"});
    const Plan p = planner.plan("shop", 1, req);
    CHECK(categories_in(p.diff) == std::set<std::string>{"env", "configValues", "mounts"});
    CHECK(store->versions("shop").size() == 2); // refusals wrote nothing

    // data sources need the target's volumes, which only "mounts" brings
    store->register_snapshot(Snapshot::from_json(
        R"({"id":"snap-1","volume":"vol-7f3a","sizeBytes":1073741824,"createdAt":"2026-01-01T00:00:00Z","ready":true})"));
    req = PlanRequest::from_json(R"({"scope":["image"],"data":{"data":{"snapshot":"snap-1"}}})");
    e = error_of([&] { planner.plan("shop", 1, req); });
    CHECK(e.code() == ErrorCode::invalid);
    CHECK(e.path() == "request.data.data");
    // bad scopes are refused naming the entry
    CHECK(error_of([&] { PlanRequest::from_json(R"({"scope":["image","bogus"]})"); }).path() == "request.scope[1]");
    CHECK(error_of([&] { PlanRequest::from_json(R"({"scope":["image","image"]})"); }).path() == "request.scope[1]");
    CHECK(error_of([&] { PlanRequest::from_json(R"({"scope":["labels"]})"); }).path() == "request.scope[0]");
    CHECK(error_of([&] { PlanRequest::from_json(R"({"scope":[]})"); }).path() == "request.scope");
    CHECK(error_of([&] { PlanRequest::from_json(R"({"scope":"some"})"); }).path() == "request.scope");
}

TEST_CASE("a scope never shows secret values; secretValues restores them sealed", "[planner][scopes][secrets]") {
    TempDir dir;
    auto store = VersionStore::open(dir.store(), keyed());
    store->record("shop", text(base_state()));
    store->record("shop", v2());
    RollbackPlanner planner(*store);
    PlanRequest req;
    req.scope = scope_of({"secretValues"});
    const Plan p = planner.plan("shop", 1, req);
    const std::string j = p.to_json();
    CHECK(j.find(kSecretValue) == std::string::npos);
    CHECK(j.find("rotated-Zq9") == std::string::npos);
    planner.commit(p);
    const auto got = json::parse(store->get("shop", 3, true).state_json).as_object();
    CHECK(got.at("secrets").as_object().at("db").as_object().at("password").as_string() == kSecretValue);
    CHECK(store->get("shop", 3).state_json.find(kSecretValue) == std::string::npos);
}

TEST_CASE("restore points: the snapshots taken while a version was current come first", "[store][restore-points]") {
    TempDir dir;
    auto store = VersionStore::open(dir.store(), keyed());
    auto snap = [&](const std::string &id, const std::string &at) {
        store->register_snapshot(Snapshot::from_json(R"({"id":")" + id +
                                                     R"(","volume":"vol-7f3a","sizeBytes":1073741824,"createdAt":")" +
                                                     at + R"(","ready":true})"));
    };
    snap("before-1", "2000-01-01T00:00:00Z");
    snap("before-2", "2000-06-01T00:00:00+02:00"); // normalised to UTC
    store->record("shop", text(base_state()));
    const std::string from = store->get("shop", 1).version.created_at;
    // taken while v1 is current (in the future relative to "before", in the past of v2)
    snap("during-1", from);
    store->register_snapshot(Snapshot::from_json(
        R"({"id":"other","volume":"vol-other","sizeBytes":1,"createdAt":"2001-01-01T00:00:00Z","ready":true})"));
    RestorePoints rp = store->restore_points("shop", 1);
    CHECK(rp.current_until.empty()); // still current
    REQUIRE(rp.volumes.size() == 1);
    CHECK(rp.volumes[0].volume == "data");
    CHECK(rp.volumes[0].volume_ids == std::vector<std::string>{"vol-7f3a"});
    std::vector<std::string> ids;
    for (const auto &p : rp.volumes[0].snapshots) ids.push_back(p.snapshot.id + ":" + to_string(p.relation));
    CHECK(ids == std::vector<std::string>{"during-1:during", "before-2:before", "before-1:before"});

    // Times have millisecond precision: v2 must start after v1 (and so after
    // "during-1", taken at v1's start), or v1 was current for no time at all.
    while (detail::now_rfc3339() == from) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    store->record("shop", with([](auto &s) { s["instances"] = 5; }));
    snap("after-2", "2999-01-01T00:00:00Z");
    snap("after-1", "2998-01-01T00:00:00Z");
    rp = store->restore_points("shop", 1);
    CHECK(rp.current_until == store->get("shop", 2).version.created_at);
    ids.clear();
    for (const auto &p : rp.volumes[0].snapshots) ids.push_back(p.snapshot.id + ":" + to_string(p.relation));
    CHECK(ids == std::vector<std::string>{"during-1:during", "before-2:before", "before-1:before", "after-1:after",
                                          "after-2:after"});
    CHECK(rp.to_json().find(R"("relation":"during")") != std::string::npos);

    // a plan from a snapshot says when it was taken and warns about later data
    RollbackPlanner planner(*store);
    const Plan p = planner.plan("shop", 1, PlanRequest::from_json(R"({"data":{"data":{"snapshot":"during-1"}}})"));
    REQUIRE(p.volumes.size() == 1);
    CHECK(p.volumes[0].snapshot_created_at == from);
    bool warned = false;
    for (const auto &w : p.warnings) warned |= w.find("data written to the volume after that is not in the new volume") != std::string::npos;
    CHECK(warned);
    CHECK(p.to_json().find(R"("snapshotCreatedAt":")" + from + "\"") != std::string::npos);
    CHECK(error_of([&] { store->restore_points("shop", 9); }).code() == ErrorCode::not_found);
}

TEST_CASE("mounts with data: the target's volumes, their data from a snapshot; mounts carry their volumes",
          "[planner][scopes]") {
    TempDir dir;
    auto store = VersionStore::open(dir.store(), keyed());
    store->record("shop", text(base_state()));
    // v2 dropped the data volume and its mount, and changed the image
    store->record("shop", with([](auto &s) {
                      s["volumes"] = json::array();
                      container(s)["mounts"].as_array().pop_back();
                      container(s)["image"] = json::object{{"reference", "registry.example/shop:1.5"}, {"digest", kDigestB}};
                  }));
    store->register_snapshot(Snapshot::from_json(
        R"({"id":"snap-1","volume":"vol-7f3a","sizeBytes":1073741824,"createdAt":"2026-01-01T00:00:00Z","ready":true})"));
    RollbackPlanner planner(*store);

    // "mounts" alone: the mount comes back with the volume it names (never a dangling mount)
    PlanRequest req = PlanRequest::from_json(R"({"scope":["mounts"]})");
    Plan p = planner.plan("shop", 1, req);
    CHECK(categories_in(p.diff) == std::set<std::string>{"mounts"});
    REQUIRE(p.volumes.size() == 1);
    CHECK(p.volumes[0].volume == "data");
    CHECK(p.volumes[0].source == PlanVolume::Source::current);
    bool reattached = false;
    for (const auto &w : p.warnings) reattached |= w.find("will be attached again") != std::string::npos;
    CHECK(reattached);
    CHECK(json::parse(p.state_json).at("containers").at(0).at("image").at("reference").as_string() ==
          "registry.example/shop:1.5"); // the image stays current

    // "mounts" with data from a snapshot: a new volume, confirmation needed
    req = PlanRequest::from_json(R"({"scope":["mounts"],"data":{"data":{"snapshot":"snap-1"}}})");
    p = planner.plan("shop", 1, req);
    REQUIRE(p.volumes.size() == 1);
    CHECK(p.volumes[0].source == PlanVolume::Source::snapshot);
    CHECK(p.requires_confirmation);
    ChangeMeta m;
    m.confirmed = true;
    const Version v = planner.commit(p, m);
    REQUIRE(v.scope);
    CHECK(v.scope->categories == std::vector<std::string>{"mounts"});
    CHECK(json::parse(store->get("shop", v.number).state_json).at("volumes").at(0).at("volumeId").as_string() ==
          "shop-data-v3");
}
