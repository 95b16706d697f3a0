// SnapshotPolicy: a table test for every category of the product document.
#include <catch2/catch.hpp>

#include "category.hpp"
#include "fixtures.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

using namespace spinner_rollback;
using namespace fixtures;

namespace {

struct Row {
    const char *name;
    std::function<void(json::object &)> change;
    const char *category; // expected reason category; nullptr = no version
    const char *path;
};

} // namespace

TEST_CASE("default policy: each trigger creates a version naming its category and path", "[policy]") {
    const std::vector<Row> rows = {
        {"image reference", [](auto &s) { container(s)["image"].as_object()["reference"] = "registry.example/shop:1.5"; },
         "image", "containers[web].image"},
        {"image digest only", [](auto &s) { container(s)["image"].as_object()["digest"] = kDigestB; },
         "image", "containers[web].image"},
        {"code version", [](auto &s) { container(s)["codeVersion"] = "a1b2c3d"; }, "codeVersion",
         "containers[web].codeVersion"},
        {"env value", [](auto &s) { container(s)["env"].as_array()[0].as_object()["value"] = "debug"; }, "env",
         "containers[web].env[MODE]"},
        {"env added", [](auto &s) { container(s)["env"].as_array().push_back(json::object{{"name", "DEBUG"}, {"value", "1"}}); },
         "env", "containers[web].env[DEBUG]"},
        {"port", [](auto &s) { container(s)["ports"].as_array()[0].as_object()["containerPort"] = 9090; }, "ports",
         "containers[web].ports[8080/TCP]"},
        {"port exposure", [](auto &s) { container(s)["ports"].as_array()[0].as_object()["expose"] = false; }, "ports",
         "containers[web].ports[8080/TCP]"},
        {"security context", [](auto &s) { container(s)["securityContext"].as_object()["runAsUser"] = 2000; },
         "securityContext", "containers[web].securityContext.runAsUser"},
        {"cpu", [](auto &s) { container(s)["resources"].as_object()["cpu"] = "1"; }, "cpu",
         "containers[web].resources.cpu"},
        {"memory", [](auto &s) { container(s)["resources"].as_object()["memory"] = "512Mi"; }, "memory",
         "containers[web].resources.memory"},
        {"command", [](auto &s) { container(s)["command"] = json::array{"/app/shop2"}; }, "command",
         "containers[web].command"},
        {"args", [](auto &s) { container(s)["args"] = json::array{"--listen", ":9090"}; }, "args",
         "containers[web].args"},
        {"instances", [](auto &s) { s["instances"] = 3; }, "instances", "instances"},
        {"mount path", [](auto &s) { container(s)["mounts"].as_array()[0].as_object()["path"] = "/etc/shop2"; },
         "mounts", "containers[web].mounts[/etc/shop]"},
        {"bound volume", [](auto &s) { s["volumes"].as_array()[0].as_object()["volumeId"] = "vol-new"; }, "mounts",
         "volumes[data]"},
        {"config value", [](auto &s) { s["configMaps"].as_object()["shop-config"].as_object()["flags"] = "c"; },
         "configValues", "configMaps[shop-config][flags]"},
        {"secret value", [](auto &s) { s["secrets"].as_object()["db"].as_object()["password"] = "other"; },
         "secretValues", "secrets[db][password]"},
        // Untracked by default.
        {"workingDir", [](auto &s) { container(s)["workingDir"] = "/srv"; }, nullptr, nullptr},
        {"probes", [](auto &s) { container(s)["probes"] = json::object(); }, nullptr, nullptr},
        {"labels", [](auto &s) { s["labels"].as_object()["team"] = "other"; }, nullptr, nullptr},
        {"extensions", [](auto &s) { s["extensions"] = json::object{{"x", 1}}; }, nullptr, nullptr},
        {"settings", [](auto &s) { s["settings"].as_object()["description"] = "changed"; }, nullptr, nullptr},
        {"history limit", [](auto &s) { s["settings"].as_object()["rollback"].as_object()["historyLimit"] = 5; }, nullptr, nullptr},
        {"same content, other spelling", [](auto &s) { container(s)["resources"].as_object()["cpu"] = 0.5; }, nullptr, nullptr},
    };
    SnapshotPolicy policy;
    const std::string prev = text(base_state());
    for (const auto &row : rows) {
        SECTION(row.name) {
            Decision d = policy.evaluate(prev, with(row.change));
            if (row.category) {
                CHECK(d.outcome == spinner_rollback::Outcome::created);
                CHECK(d.snapshot);
                REQUIRE(d.reasons.size() >= 1);
                CHECK(d.reasons[0].category == row.category);
                CHECK(d.reasons[0].path == row.path);
            } else {
                CHECK(d.outcome == spinner_rollback::Outcome::unchanged);
                CHECK_FALSE(d.snapshot);
                CHECK(d.reasons.empty());
            }
        }
    }
}

TEST_CASE("first state always becomes a version; disabled switch creates none", "[policy]") {
    SnapshotPolicy policy;
    Decision first = policy.evaluate("", text(base_state()));
    CHECK(first.outcome == spinner_rollback::Outcome::created);
    REQUIRE(first.reasons.size() == 1);
    CHECK(first.reasons[0] == Reason{"first", "$"});

    auto disabled = with([](auto &s) {
        s["settings"].as_object()["rollback"].as_object()["enabled"] = false;
        s["instances"] = 7;
    });
    CHECK(policy.evaluate("", disabled).outcome == spinner_rollback::Outcome::disabled);
    CHECK(policy.evaluate(text(base_state()), disabled).outcome == spinner_rollback::Outcome::disabled);
}

TEST_CASE("host-configured triggers: categories and extension paths", "[policy]") {
    auto p = SnapshotPolicy::from_json(R"({"triggers": ["image", "labels", "extensions.team.tier"]})");
    CHECK(p.tracks("image"));
    CHECK_FALSE(p.tracks("env"));
    const std::string prev = text(base_state());
    CHECK(p.evaluate(prev, with([](auto &s) { container(s)["env"].as_array()[0].as_object()["value"] = "x"; })).outcome ==
          spinner_rollback::Outcome::unchanged);
    CHECK(p.evaluate(prev, with([](auto &s) { s["labels"].as_object()["team"] = "x"; })).outcome == spinner_rollback::Outcome::created);
    auto tier = p.evaluate(prev, with([](auto &s) { s["extensions"] = json::object{{"team", json::object{{"tier", "gold"}}}}; }));
    CHECK(tier.outcome == spinner_rollback::Outcome::created);
    REQUIRE(tier.reasons.size() == 1);
    CHECK(tier.reasons[0].path == "extensions.team.tier");
    CHECK(p.evaluate(prev, with([](auto &s) { s["extensions"] = json::object{{"team", json::object{{"size", 3}}}}; })).outcome ==
          spinner_rollback::Outcome::unchanged);
    // Round trip.
    CHECK(SnapshotPolicy::from_json(p.to_json()).to_json() == p.to_json());
    // Empty trigger list tracks nothing; missing list means defaults.
    CHECK(SnapshotPolicy::from_json(R"({"triggers": []})").triggers().empty());
    CHECK(SnapshotPolicy::from_json(R"({})").triggers() == SnapshotPolicy::default_triggers());
}

TEST_CASE("bad policies are refused naming the entry", "[policy]") {
    auto refused = [](const char *json, const char *path) {
        try {
            SnapshotPolicy::from_json(json);
            FAIL("accepted " << json);
        } catch (const Error &e) {
            CHECK(e.code() == ErrorCode::invalid);
            CHECK(e.path() == path);
        }
    };
    refused(R"({"triggers": ["image", "colour"]})", "policy.triggers[1]");
    refused(R"({"triggers": "image"})", "policy.triggers");
    refused(R"({"trigger": []})", "policy.trigger");
    refused(R"({"triggers": ["extensions..x"]})", "policy.triggers[0]");
}

TEST_CASE("evaluate refuses an invalid document naming which one", "[policy]") {
    SnapshotPolicy policy;
    try {
        policy.evaluate(text(base_state()), R"({"schemaVersion": 1})");
        FAIL("accepted");
    } catch (const Error &e) {
        CHECK(e.code() == ErrorCode::invalid);
        CHECK_FALSE(e.path().empty());
    }
}

TEST_CASE("reasons and summaries never contain secret values", "[policy][secrets]") {
    SnapshotPolicy policy;
    auto next = with([](auto &s) { s["secrets"].as_object()["db"].as_object()["password"] = "NEW-" + kSecretValue; });
    Decision d = policy.evaluate(text(base_state()), next);
    CHECK(d.to_json().find(kSecretValue) == std::string::npos);
    Diff diff = diff_states(text(base_state()), next);
    REQUIRE(diff.changes.size() == 1);
    CHECK(diff.changes[0].from == "\"<redacted>\"");
    CHECK(diff.changes[0].to == "\"<redacted>\"");
    CHECK(diff.to_json().find(kSecretValue) == std::string::npos);
    CHECK(summarize(diff) == "secret db changed");
}

TEST_CASE("summary reads like the product document", "[policy][summary]") {
    auto next = with([](auto &s) {
        container(s)["image"].as_object()["reference"] = "registry.example/shop:1.5";
        container(s)["env"].as_array().push_back(json::object{{"name", "DEBUG"}, {"value", "1"}});
        s["instances"] = 3;
    });
    CHECK(summarize(diff_states(text(base_state()), next)) == "image shop:1.4 → shop:1.5; env +DEBUG; instances 2 → 3");
}

TEST_CASE("evaluate says which document is invalid", "[policy]") {
    SnapshotPolicy policy;
    auto bad = with([](auto &s) { container(s)["ports"].as_array()[0].as_object()["containerPort"] = 70000; });
    const std::string ok = text(base_state());
    for (auto [prev, next, name] : {std::tuple{bad, ok, "previous state"}, std::tuple{ok, bad, "next state"}}) {
        try {
            policy.evaluate(prev, next);
            FAIL("accepted");
        } catch (const Error &e) {
            CHECK(std::string(e.what()).rfind(name, 0) == 0);
            CHECK(e.path() == "$.containers[0].ports[0].containerPort");
        }
    }
}

TEST_CASE("the one decision: disabled, first, unchanged, changed, reenabled", "[policy][decide]") {
    const SnapshotPolicy policy;
    const std::string base = text(base_state());
    auto enabled = [](bool on, int instances) {
        return with([=](auto &s) {
            s["settings"].as_object()["rollback"].as_object()["enabled"] = on;
            s["instances"] = instances;
        });
    };
    struct Case {
        const char *name;
        std::string previous, next;
        spinner_rollback::Outcome outcome;
        VersionReason reason;
        std::size_t reasons;
    };
    const Case cases[] = {
        {"next disabled", base, enabled(false, 9), spinner_rollback::Outcome::disabled, VersionReason::deploy, 0},
        {"first state", "", base, spinner_rollback::Outcome::created, VersionReason::deploy, 1},
        {"same state", base, base, spinner_rollback::Outcome::unchanged, VersionReason::deploy, 0},
        {"tracked change", base, enabled(true, 3), spinner_rollback::Outcome::created, VersionReason::deploy, 1},
        {"re-enabled with a change", enabled(false, 2), enabled(true, 3), spinner_rollback::Outcome::created,
         VersionReason::reenabled, 1},
        {"re-enabled without a change", enabled(false, 2), enabled(true, 2), spinner_rollback::Outcome::unchanged,
         VersionReason::deploy, 0},
    };
    for (const auto &c : cases) {
        INFO(c.name);
        auto d = policy.evaluate(c.previous, c.next);
        CHECK(d.outcome == c.outcome);
        CHECK(d.snapshot == (c.outcome == spinner_rollback::Outcome::created));
        CHECK(d.reason == c.reason);
        CHECK(d.reasons.size() == c.reasons);
    }
    CHECK(std::string(spinner_rollback::to_string(spinner_rollback::Outcome::unchanged)) == "unchanged");
}

TEST_CASE("the category table is the one list: policy defaults, summaries and docs/policy.md agree",
          "[policy][categories]") {
    const auto &all = SnapshotPolicy::all_categories();
    REQUIRE(all.size() == detail::kCategories.size());
    std::ifstream in(std::string(SPR_TEST_DATA_DIR) + "/../../docs/policy.md");
    REQUIRE(in);
    std::stringstream doc;
    doc << in.rdbuf();
    const std::string text = doc.str();
    for (const auto &c : detail::kCategories) {
        INFO(c.name);
        CHECK(all[static_cast<std::size_t>(c.id)] == c.name);
        const bool tracked = std::find(SnapshotPolicy::default_triggers().begin(),
                                       SnapshotPolicy::default_triggers().end(),
                                       c.name) != SnapshotPolicy::default_triggers().end();
        CHECK(tracked == c.default_trigger);
        // The docs' table names each category on a row that says its default.
        const std::string quoted = "`" + std::string(c.name) + "`";
        const auto at = text.find(quoted);
        REQUIRE(at != std::string::npos);
        const auto row_end = text.find('\n', at);
        const std::string row = text.substr(at, row_end - at);
        CHECK(row.find(c.default_trigger ? "| tracked |" : "| untracked |") != std::string::npos);
    }
}
