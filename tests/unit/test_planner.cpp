// RollbackPlanner: refusals, the resulting state, data sources, commit checks.
#include <catch2/catch.hpp>

#include "digest.hpp"

#include "fixtures.hpp"

using namespace spinner_rollback;
using namespace fixtures;

namespace {

template <class F> ErrorCode code_of(F &&f) {
    try {
        f();
    } catch (const Error &e) {
        return e.code();
    }
    return ErrorCode::ok;
}

json::object parse(const std::string &s) { return json::parse(s).as_object(); }

// v1 blue/prod; v2 env+config changed; v3 instances and labels changed.
struct History {
    TempDir dir;
    std::unique_ptr<VersionStore> store;
    explicit History(StoreOptions o = keyed()) {
        o.key = kKey;
        store = VersionStore::open(dir.store(), o);
        store->record("shop", text(base_state()));
        store->record("shop", with([](auto &s) {
                          container(s)["env"].as_array()[0].as_object()["value"] = "debug";
                          s["configMaps"].as_object()["shop-config"].as_object()["flags"] = "green";
                          s["secrets"].as_object()["db"].as_object()["password"] = "rotated";
                      }));
        store->record("shop", with([](auto &s) {
                          container(s)["env"].as_array()[0].as_object()["value"] = "debug";
                          s["configMaps"].as_object()["shop-config"].as_object()["flags"] = "green";
                          s["secrets"].as_object()["db"].as_object()["password"] = "rotated";
                          s["instances"] = 4;
                          s["labels"].as_object()["team"] = "platform";
                          container(s)["workingDir"] = "/srv";
                          s["settings"].as_object()["description"] = "now";
                      }));
    }
};

} // namespace

TEST_CASE("plan restores the target's tracked content, keeps current untracked fields and settings",
          "[planner]") {
    History h;
    RollbackPlanner planner(*h.store);
    Plan plan = planner.plan("shop", 1);
    auto p = parse(plan.to_json());
    CHECK(p.at("baseVersion").as_int64() == 3);
    CHECK(p.at("targetVersion").as_int64() == 1);
    CHECK(plan.plan_id.rfind("plan-", 0) == 0);
    CHECK_FALSE(plan.requires_confirmation);
    const auto &state = p.at("state").as_object();
    CHECK(state.at("instances").as_int64() == 2);                                         // tracked: from v1
    CHECK(state.at("configMaps").at("shop-config").at("flags").as_string() == "a,b");     // config value from v1
    CHECK(state.at("containers").at(0).at("env").at(0).at("value").as_string() == "prod");
    CHECK(state.at("labels").at("team").as_string() == "platform");                      // untracked: current
    CHECK(state.at("containers").at(0).at("workingDir").as_string() == "/srv");          // untracked: current
    CHECK(state.at("settings").at("description").as_string() == "now");                  // settings: current
    CHECK(state.at("secrets").at("db").at("password").as_string() == "<redacted>");      // never in a plan
    CHECK(plan.to_json().find("rotated") == std::string::npos);
    CHECK(plan.to_json().find(kSecretValue) == std::string::npos);
    CHECK(p.at("summary").as_string().rfind("rollback to v1: ", 0) == 0);
    // The diff goes from current to the result.
    bool saw_instances = false;
    for (const auto &c : p.at("diff").at("changes").as_array())
        if (c.at("path").as_string() == "instances") {
            saw_instances = true;
            CHECK(c.at("from").as_int64() == 4);
            CHECK(c.at("to").as_int64() == 2);
        }
    CHECK(saw_instances);
    CHECK(p.at("steps").as_array().size() == 2);

    // scope "all" restores untracked fields too, still never settings.
    auto all = parse(planner.plan("shop", 1, PlanRequest::from_json(R"({"scope":"all"})")).to_json());
    CHECK(all.at("state").at("labels").at("team").as_string() == "shop");
    CHECK(all.at("state").at("containers").at(0).at("workingDir").as_string() == "/app");
    CHECK(all.at("state").at("settings").at("description").as_string() == "now");

    // Planning is read-only.
    CHECK(h.store->versions("shop").size() == 3);
}

TEST_CASE("commit appends a rollback version that restores old config and secret values", "[planner]") {
    History h;
    RollbackPlanner planner(*h.store);
    Plan plan = planner.plan("shop", 1);
    ChangeMeta meta;
    meta.author = "bob";
    Version v = planner.commit(plan, meta);
    CHECK(v.number == 4);
    CHECK(v.reason == VersionReason::rollback);
    REQUIRE(v.rollback_of);
    CHECK(*v.rollback_of == 1);
    CHECK(v.status == RolloutStatus::pending);
    CHECK(v.author == "bob");
    CHECK(v.current);
    auto revealed = parse(h.store->get("shop", 4, true).state_json);
    CHECK(revealed.at("secrets").at("db").at("password").as_string() == kSecretValue);
    CHECK(revealed.at("configMaps").at("shop-config").at("flags").as_string() == "a,b");
    CHECK(revealed.at("containers").at(0).at("image").at("digest").as_string() == kDigestA);
    // History is never rewritten: 1..4 all there, newest first.
    auto list = h.store->versions("shop");
    REQUIRE(list.size() == 4);
    for (int i = 0; i < 4; ++i) CHECK(list[i].number == 4 - i);
    // The plan result digest is the new version's digest.
    CHECK(parse(plan.to_json()).at("resultDigest").as_string() == v.digest);
    // The host re-deploying the rollback's state is "unchanged".
    CHECK(h.store->record("shop", h.store->get("shop", 4, true).state_json).outcome == spinner_rollback::Outcome::unchanged);
}

TEST_CASE("every refusal has its own code and changes nothing", "[planner][refusals]") {
    History h;
    RollbackPlanner planner(*h.store);
    CHECK(code_of([&] { planner.plan("shop", 3); }) == ErrorCode::current_version);
    CHECK(code_of([&] { planner.plan("shop", 9); }) == ErrorCode::not_found);
    CHECK(code_of([&] { planner.plan("shop", 0); }) == ErrorCode::not_found);
    CHECK(code_of([&] { planner.plan("nobody", 1); }) == ErrorCode::not_found);
    CHECK(code_of([&] { planner.plan("shop", 1, PlanRequest::from_json(R"({"data":{"logs":"current"}})")); }) ==
          ErrorCode::unknown_volume);
    CHECK(code_of([&] {
              planner.plan("shop", 1, PlanRequest::from_json(R"({"data":{"logs":{"snapshot":"s"}}})"));
          }) == ErrorCode::unknown_volume);
    CHECK(code_of([&] {
              planner.plan("shop", 1, PlanRequest::from_json(R"({"data":{"data":{"snapshot":"missing"}}})"));
          }) == ErrorCode::not_found);
    h.store->register_snapshot(Snapshot::from_json(R"({"id":"slow","volume":"vol-7f3a","sizeBytes":10,"ready":false})"));
    h.store->register_snapshot(Snapshot::from_json(R"({"id":"alien","volume":"vol-other","sizeBytes":10,"ready":true})"));
    CHECK(code_of([&] {
              planner.plan("shop", 1, PlanRequest::from_json(R"({"data":{"data":{"snapshot":"slow"}}})"));
          }) == ErrorCode::snapshot_not_ready);
    CHECK(code_of([&] {
              planner.plan("shop", 1, PlanRequest::from_json(R"({"data":{"data":{"snapshot":"alien"}}})"));
          }) == ErrorCode::snapshot_mismatch);
    CHECK(code_of([] { PlanRequest::from_json(R"({"scope":"some"})"); }) == ErrorCode::invalid);
    CHECK(code_of([] { PlanRequest::from_json(R"({"data":{"data":"latest"}})"); }) == ErrorCode::invalid);
    CHECK(code_of([] { PlanRequest::from_json(R"({"data":{"data":{"snap":"x"}}})"); }) == ErrorCode::invalid);

    // Identical: v4 has v1's tracked content; planning v1 from v4 has nothing to do.
    h.store->record("shop", text(base_state()));
    CHECK(h.store->versions("shop")[0].number == 4);
    CHECK(code_of([&] { planner.plan("shop", 1); }) == ErrorCode::identical);

    // Disabled.
    h.store->record("shop", with([](auto &s) { s["settings"].as_object()["rollback"].as_object()["enabled"] = false; }));
    CHECK(code_of([&] { planner.plan("shop", 2); }) == ErrorCode::rollback_disabled);
    CHECK(h.store->versions("shop").size() == 4);
}

TEST_CASE("pruned targets are refused as pruned", "[planner][refusals]") {
    TempDir dir;
    auto store = VersionStore::open(dir.store(), keyed());
    for (int i = 0; i < 6; ++i)
        store->record("shop", with([i](auto &s) {
                          s["settings"].as_object()["rollback"].as_object()["historyLimit"] = 2;
                          s["instances"] = i + 1;
                      }));
    RollbackPlanner planner(*store);
    CHECK(code_of([&] { planner.plan("shop", 1); }) == ErrorCode::pruned);
    CHECK(code_of([&] { planner.plan("shop", 4); }) == ErrorCode::ok);
}

TEST_CASE("data from a snapshot provisions a new volume, with its size and cost, and needs confirmation",
          "[planner][volumes]") {
    StoreOptions o = StoreOptions::from_json(R"({"pricing":{"currency":"EUR","perGiBMonth":{"standard":0.25,"*":0.1}}})");
    History h(o);
    h.store->register_snapshot(Snapshot::from_json(
        R"({"id":"snap-1","volume":"vol-7f3a","sizeBytes":2147483648,"ready":true,"storageClass":"standard"})"));
    RollbackPlanner planner(*h.store);
    Plan plan = planner.plan("shop", 1, PlanRequest::from_json(R"({"data":{"data":{"snapshot":"snap-1"}}})"));
    CHECK(plan.requires_confirmation);
    auto p = parse(plan.to_json());
    const auto &vol = p.at("volumes").at(0).as_object();
    CHECK(vol.at("volume").as_string() == "data");
    CHECK(vol.at("source").as_string() == "snapshot");
    CHECK(vol.at("snapshotId").as_string() == "snap-1");
    CHECK(vol.at("mounts").at(0).as_string() == "/var/lib/shop");
    const auto &nv = vol.at("newVolume").as_object();
    CHECK(nv.at("name").as_string() == "shop-data-v4");
    CHECK(nv.at("sizeBytes").as_int64() == 2147483648); // at least the snapshot's size (> 1Gi declared)
    CHECK(nv.at("estimatedMonthlyCost").to_number<double>() == Approx(0.50));
    CHECK(nv.at("currency").as_string() == "EUR");
    // The new volume is bound in the resulting state; the old one is not deleted.
    const auto &sv = p.at("state").at("volumes").at(0).as_object();
    CHECK(sv.at("volumeId").as_string() == "shop-data-v4");
    CHECK(sv.at("size").as_string() == "2Gi");
    bool warned = false;
    for (const auto &w : plan.warnings)
        if (w.find("0.50 EUR") != std::string::npos && w.find("vol-7f3a") != std::string::npos) warned = true;
    CHECK(warned);
    CHECK(p.at("steps").at(0).at("action").as_string() == "provisionVolume");
    for (const auto &step : p.at("steps").as_array())
        CHECK(std::string(step.at("action").as_string()).find("elete") == std::string::npos);

    CHECK(code_of([&] { planner.commit(plan); }) == ErrorCode::needs_confirmation);
    CHECK(h.store->versions("shop").size() == 3);
    ChangeMeta yes;
    yes.confirmed = true;
    Version v = planner.commit(plan, yes);
    CHECK(v.number == 4);
    CHECK(parse(h.store->get("shop", 4).state_json).at("volumes").at(0).at("volumeId").as_string() == "shop-data-v4");

    // "current" afterwards keeps the volume in use now (the new one), not v1's.
    h.store->set_status("shop", 4, RolloutStatus::active);
    Plan keep = planner.plan("shop", 2);
    CHECK_FALSE(keep.requires_confirmation);
    auto kp = parse(keep.to_json());
    CHECK(kp.at("volumes").at(0).at("source").as_string() == "current");
    CHECK(kp.at("state").at("volumes").at(0).at("volumeId").as_string() == "shop-data-v4");
    // A snapshot of the new volume qualifies once a version bound it.
    h.store->register_snapshot(Snapshot::from_json(
        R"({"id":"snap-2","volume":"shop-data-v4","sizeBytes":1024,"ready":true})"));
    CHECK(code_of([&] { planner.plan("shop", 2, PlanRequest::from_json(R"({"data":{"data":{"snapshot":"snap-2"}}})")); }) ==
          ErrorCode::ok);
}

TEST_CASE("dedicated volumes cost one copy per instance", "[planner][volumes]") {
    TempDir dir;
    auto store = VersionStore::open(dir.store(), keyed());
    auto dedicated = [](int inst) {
        return with([=](auto &s) {
            s["volumes"].as_array()[0].as_object()["mode"] = "dedicated";
            s["instances"] = inst;
        });
    };
    store->record("shop", dedicated(3));
    store->record("shop", dedicated(5));
    store->register_snapshot(Snapshot::from_json(R"({"id":"s","volume":"vol-7f3a","sizeBytes":1073741824,"ready":true})"));
    RollbackPlanner planner(*store);
    auto p = parse(planner.plan("shop", 1, PlanRequest::from_json(R"({"data":{"data":{"snapshot":"s"}}})")).to_json());
    const auto &nv = p.at("volumes").at(0).at("newVolume").as_object();
    CHECK(nv.at("copies").as_int64() == 3);
    CHECK(nv.at("estimatedMonthlyCost").to_number<double>() == Approx(0.30));
}

TEST_CASE("commit refuses stale and altered plans; requestId makes it idempotent", "[planner][commit]") {
    History h;
    RollbackPlanner planner(*h.store);
    Plan plan = planner.plan("shop", 1);

    SECTION("stale: the current version moved") {
        h.store->record("shop", with([](auto &s) { s["instances"] = 9; }));
        CHECK(code_of([&] { planner.commit(plan); }) == ErrorCode::conflict);
        CHECK(h.store->versions("shop").size() == 4);
    }
    SECTION("altered: the state or the target was edited") {
        std::string edited = plan.to_json();
        auto pos = edited.find("\"instances\":2");
        REQUIRE(pos != std::string::npos);
        edited.replace(pos, 13, "\"instances\":7");
        CHECK(code_of([&] { planner.commit(Plan::from_json(edited)); }) == ErrorCode::invalid);
        auto o = parse(plan.to_json());
        o["targetVersion"] = 2;
        CHECK(code_of([&] { planner.commit(Plan::from_json(json::serialize(o))); }) == ErrorCode::invalid);
        CHECK(code_of([&] { planner.commit(Plan::from_json("{}")); }) == ErrorCode::invalid);
        CHECK(h.store->versions("shop").size() == 3);
    }
    SECTION("commit_json: the plan as written, or re-serialised on its way; altered state refused") {
        const std::string text = plan.to_json();
        // Edited inside the state's text: the hash of the state as sent differs,
        // and so does its canonical form.
        std::string edited = text;
        auto pos = edited.find("\"instances\":2");
        REQUIRE(pos != std::string::npos);
        edited.replace(pos, 13, "\"instances\":7");
        CHECK(code_of([&] { planner.commit_json(edited); }) == ErrorCode::invalid);
        CHECK(code_of([&] { planner.commit_json("{\"state\":{}}"); }) == ErrorCode::invalid);
        CHECK(h.store->versions("shop").size() == 3);
        // Re-serialised with other spacing and key order (a UI, jq, Python's
        // json.dumps): the same plan, accepted through its canonical form.
        auto spaced_object = [](const json::object &obj, bool reverse) {
            std::vector<const json::key_value_pair *> items;
            for (const auto &kv : obj) items.push_back(&kv);
            if (reverse) std::reverse(items.begin(), items.end());
            std::string out = "{ ";
            for (auto *kv : items)
                out += (out.size() > 2 ? ", " : "") + json::serialize(json::string(kv->key())) + ": " +
                       json::serialize(kv->value());
            return out + " }";
        };
        const json::object o = parse(text);
        std::string spaced = "{";
        for (const auto &kv : o)
            spaced += (spaced.size() > 1 ? ",\n  " : "\n  ") + json::serialize(json::string(kv.key())) + ": " +
                      (kv.key() == "state" ? spaced_object(kv.value().as_object(), true) : json::serialize(kv.value()));
        spaced += "\n}";
        REQUIRE(spaced != text);
        REQUIRE(parse(spaced) == o);
        const Version v = planner.commit_json(spaced);
        CHECK(v.number == 4);
        CHECK(v.rollback_of == 1);
    }
    SECTION("the world changed: a chosen snapshot was deleted or resized") {
        h.store->register_snapshot(Snapshot::from_json(R"({"id":"s","volume":"vol-7f3a","sizeBytes":10,"ready":true})"));
        Plan with_data = planner.plan("shop", 1, PlanRequest::from_json(R"({"data":{"data":{"snapshot":"s"}}})"));
        h.store->register_snapshot(
            Snapshot::from_json(R"({"id":"s","volume":"vol-7f3a","sizeBytes":5368709120,"ready":true})"));
        ChangeMeta yes;
        yes.confirmed = true;
        CHECK(code_of([&] { planner.commit(with_data, yes); }) == ErrorCode::conflict);
        h.store->delete_snapshot("s");
        CHECK(code_of([&] { planner.commit(with_data, yes); }) == ErrorCode::not_found);
        CHECK(h.store->versions("shop").size() == 3);
    }
    SECTION("the target was reported failed since planning: its warning was never seen") {
        // Found by the model-based test (2026-12-06): the re-planned warnings differ.
        auto warns_failed = [](const Plan &p) {
            for (const auto &w : p.warnings)
                if (w.find("was reported failed") != std::string::npos) return true;
            return false;
        };
        REQUIRE_FALSE(warns_failed(plan));
        h.store->set_status("shop", 1, RolloutStatus::failed);
        try {
            planner.commit(plan);
            FAIL("commit accepted a plan without the failed-target warning");
        } catch (const Error &e) {
            CHECK(e.code() == ErrorCode::conflict);
            CHECK(std::string(e.what()).find("failed status") != std::string::npos);
        }
        CHECK(h.store->versions("shop").size() == 3);
        Plan again = planner.plan("shop", 1);
        CHECK(warns_failed(again));
        // And back: a plan that warns, committed after the status changed again.
        h.store->set_status("shop", 1, RolloutStatus::superseded);
        CHECK(code_of([&] { planner.commit(again); }) == ErrorCode::conflict);
        CHECK(planner.commit(planner.plan("shop", 1)).number == 4);
    }
    SECTION("idempotent retries") {
        ChangeMeta meta;
        meta.request_id = "rb-1";
        Version a = planner.commit(plan, meta);
        Version b = planner.commit(plan, meta);
        CHECK(a.number == b.number);
        CHECK(h.store->versions("shop").size() == 4);
        // Without a requestId, the retry is stale.
        CHECK(code_of([&] { planner.commit(plan); }) == ErrorCode::conflict);
    }
}

TEST_CASE("auto rollback targets the newest version reported active", "[planner][auto]") {
    History h;
    RollbackPlanner planner(*h.store);
    CHECK(code_of([&] { planner.plan_auto("shop"); }) == ErrorCode::not_found);
    h.store->set_status("shop", 1, RolloutStatus::active);
    h.store->set_status("shop", 2, RolloutStatus::active); // supersedes 1
    h.store->set_status("shop", 3, RolloutStatus::failed);
    CHECK(planner.plan_auto("shop").target_version == 2);
}

TEST_CASE("a target with a tag but no digest warns", "[planner]") {
    TempDir dir;
    auto store = VersionStore::open(dir.store(), keyed());
    store->record("shop", with([](auto &s) { container(s)["image"].as_object().erase("digest"); }));
    store->record("shop", with([](auto &s) { s["instances"] = 5; }));
    RollbackPlanner planner(*store);
    Plan plan = planner.plan("shop", 1);
    bool warned = false;
    for (const auto &w : plan.warnings) warned = warned || w.find("has no digest") != std::string::npos;
    CHECK(warned);
}

TEST_CASE("an explicit \"current\" for an unknown volume is refused too", "[planner][refusals]") {
    History h;
    RollbackPlanner planner(*h.store);
    auto req = PlanRequest::from_json(R"({"data":{"nosuch":"current"}})");
    CHECK(req.to_json() == R"({"data":{"nosuch":"current"},"scope":"tracked"})");
    CHECK(code_of([&] { planner.plan("shop", 1, req); }) == ErrorCode::unknown_volume);
    CHECK(code_of([&] { planner.plan("shop", 1, PlanRequest::from_json(R"({"data":{"data":"current"}})")); }) ==
          ErrorCode::ok);
}

TEST_CASE("settings and untracked fields come from the latest recorded state", "[planner]") {
    History h;
    // Unchanged for the policy, but the host now runs these settings and labels.
    h.store->record("shop", with([](auto &s) {
                        container(s)["env"].as_array()[0].as_object()["value"] = "debug";
                        s["configMaps"].as_object()["shop-config"].as_object()["flags"] = "green";
                        s["secrets"].as_object()["db"].as_object()["password"] = "rotated";
                        s["instances"] = 4;
                        s["labels"].as_object()["team"] = "newest";
                        s["settings"].as_object()["rollback"].as_object()["historyLimit"] = 50;
                    }));
    CHECK(h.store->versions("shop").size() == 3);
    RollbackPlanner planner(*h.store);
    auto p = parse(planner.plan("shop", 1).to_json());
    CHECK(p.at("state").at("labels").at("team").as_string() == "newest");
    CHECK(p.at("state").at("settings").at("rollback").at("historyLimit").as_int64() == 50);
}

TEST_CASE("a long config value appears once in a plan: its diff shows size and sha256", "[planner][large]") {
    TempDir dir;
    auto store = VersionStore::open(dir.store(), keyed());
    const std::string long_a(5000, 'a'), long_b = std::string(4999, 'a') + "b";
    auto with_value = [](const std::string &v) {
        return with([&](auto &s) { s["configMaps"].as_object()["shop-config"].as_object()["app.yaml"] = v; });
    };
    store->record("shop", with_value(long_a));
    store->record("shop", with_value(long_b));
    RollbackPlanner planner(*store);
    const Plan plan = planner.plan("shop", 1);
    const auto it = std::find_if(plan.diff.changes.begin(), plan.diff.changes.end(),
                                 [](const Change &c) { return c.path == "configMaps[shop-config][app.yaml]"; });
    REQUIRE(it != plan.diff.changes.end());
    auto digest = [](const std::string &v) {
        return "{\"bytes\":" + std::to_string(v.size()) + ",\"sha256\":\"" +
               detail::to_hex(detail::sha256_raw(v)) + "\"}";
    };
    CHECK(it->from == digest(long_b));
    CHECK(it->to == digest(long_a));
    const std::string j = plan.to_json();
    auto count = [&](const std::string &needle) {
        std::size_t n = 0;
        for (auto at = j.find(needle); at != std::string::npos; at = j.find(needle, at + 1)) ++n;
        return n;
    };
    CHECK(count(long_a) == 1); // in state only
    CHECK(count(long_b) == 0);
    // Store diffs keep the text; the plan still commits.
    CHECK(store->diff("shop", 1, 2).changes.front().to.find(long_b) != std::string::npos);
    CHECK(planner.commit(plan).number == 3);
    CHECK(store->get("shop", 3).state_json.find(long_a) != std::string::npos);
}

TEST_CASE("a large value with escapes survives plan JSON and commit_json byte for byte", "[planner][large]") {
    TempDir dir;
    auto store = VersionStore::open(dir.store(), keyed());
    std::string text;
    for (int i = 0; text.size() < (1u << 20); ++i)
        text += "key_" + std::to_string(i) + " = \"v\\" + std::to_string(i) + "\"\t\x01 caf\xc3\xa9\n";
    auto with_value = [](const std::string &v) {
        return with([&](auto &s) { s["configMaps"].as_object()["shop-config"].as_object()["big.txt"] = v; });
    };
    store->record("shop", with_value(text));
    store->record("shop", with_value(text + "# changed\n"));
    RollbackPlanner planner(*store);
    const std::string plan_json = planner.plan("shop", 1).to_json();
    // The plan JSON is valid JSON whose state carries the value exactly.
    const json::value parsed = json::parse(plan_json);
    CHECK(parsed.at("state").at("configMaps").at("shop-config").at("big.txt").as_string() == text);
    const Version v = planner.commit_json(plan_json);
    CHECK(v.number == 3);
    const json::value got = json::parse(store->get("shop", 3).state_json);
    CHECK(got.at("configMaps").at("shop-config").at("big.txt").as_string() == text);
    CHECK(v.digest == store->get("shop", 1).version.digest);
}
