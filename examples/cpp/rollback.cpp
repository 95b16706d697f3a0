// A small host in C++: deploy, change a config value, roll back with data
// from a volume snapshot, and show what the host must do.
// Usage: rollback STORE.db
#include <spinner_rollback/spinner_rollback.hpp>

#include <cstdio>
#include <iostream>

namespace sr = spinner_rollback;

static std::string state(const std::string &color, const std::string &volume_id) {
    return R"({"schemaVersion":1,"instances":1,
      "containers":[{"name":"web","image":{"reference":"registry.example/shop:1.4"},
        "mounts":[{"path":"/etc/shop","configMap":"shop-config"},{"path":"/data","volume":"data"}]}],
      "volumes":[{"name":"data","size":"1Gi","storageClass":"standard","volumeId":")" + volume_id + R"("}],
      "configMaps":{"shop-config":{"color":")" + color + R"("}}})";
}

int main(int argc, char **argv) {
    if (argc != 2) {
        std::cerr << "usage: " << argv[0] << " STORE.db\n";
        return 64;
    }
    std::remove(argv[1]);
    try {
        sr::StoreOptions options = sr::StoreOptions::from_json(
            R"({"pricing": {"currency": "USD", "perGiBMonth": {"standard": 0.10}}})");
        auto store = sr::VersionStore::open(argv[1], options);
        store->record("shop", state("blue", "vol-1"), {.author = "alice"});
        store->set_status("shop", 1, sr::RolloutStatus::active);
        store->record("shop", state("green", "vol-1"), {.author = "alice"});

        // The host snapshotted vol-1 before the change.
        store->register_snapshot(sr::Snapshot::from_json(
            R"({"id": "snap-1", "volume": "vol-1", "sizeBytes": 1073741824, "ready": true})"));

        sr::RollbackPlanner planner(*store);
        sr::Plan plan = planner.plan("shop", 1, sr::PlanRequest::from_json(
                                                    R"({"data": {"data": {"snapshot": "snap-1"}}})"));
        std::cout << "plan " << plan.plan_id << ": v" << plan.base_version << " -> v" << plan.target_version
                  << "\n";
        for (const auto &w : plan.warnings) std::cout << "  warning: " << w << "\n";

        try {
            planner.commit(plan); // not confirmed: refused
            return 1;
        } catch (const sr::Error &e) {
            std::cout << "  " << e.name() << ": " << e.what() << "\n";
        }
        sr::Version v = planner.commit(plan, {.author = "bob", .confirmed = true});
        std::cout << "committed v" << v.number << " (rollback of v" << *v.rollback_of << "): " << v.summary << "\n";

        for (const auto &ver : store->versions("shop"))
            std::cout << (ver.current ? "* " : "  ") << ver.number << " " << sr::to_string(ver.status) << " "
                      << ver.summary << "\n";
        return 0;
    } catch (const sr::Error &e) {
        std::cerr << e.name() << ": " << e.what() << " (at " << e.path() << ")\n";
        return 1;
    }
}
