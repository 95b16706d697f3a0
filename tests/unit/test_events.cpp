// The event outbox on real SQLite files and PostgreSQL schemas: one event per
// change, in the change's transaction, gap-free seq, retention, waiting.
#include <catch2/catch.hpp>

#include "fixtures.hpp"

#include <chrono>
#include <thread>

using namespace spinner_rollback;
using namespace fixtures;

namespace {

std::string state(int i, bool enabled = true, int limit = 20) {
    return with([&](auto &s) {
        container(s)["env"].as_array()[0].as_object()["value"] = "v" + std::to_string(i);
        s["settings"].as_object()["rollback"].as_object()["enabled"] = enabled;
        s["settings"].as_object()["rollback"].as_object()["historyLimit"] = limit;
        s["secrets"].as_object()["db"].as_object()["password"] = "pw-" + std::to_string(i) + "-SECRET";
    });
}

std::vector<std::string> types(const EventPage &p) {
    std::vector<std::string> out;
    for (const auto &e : p.events) out.push_back(e.type);
    return out;
}

} // namespace

TEST_CASE("every change appends its event; seq is gap-free; nothing secret", "[store][events]") {
    TempDir dir;
    auto store = VersionStore::open(dir.store(), keyed());
    CHECK(store->events(0).events.empty());
    CHECK(store->events(0).next == 0);

    store->record("shop", state(1, true, 2));
    store->record("shop", state(1, true, 2)); // unchanged: no event
    store->record("shop", state(2, true, 2));
    store->set_status("shop", 2, RolloutStatus::active);
    TagRequest t;
    t.name = "golden";
    store->tag("shop", 1, t);
    Note n;
    n.author = "oncall";
    n.text = "v2 broke checkout";
    store->annotate("shop", 2, n);
    store->untag("shop", "golden");
    store->register_snapshot(Snapshot::from_json(
        R"({"id":"snap-1","volume":"vol-7f3a","sizeBytes":1,"createdAt":"2026-01-01T00:00:00Z","ready":true})"));
    store->delete_snapshot("snap-1");
    RollbackPlanner planner(*store);
    planner.commit(planner.plan("shop", 1));              // v3; historyLimit 2 keeps v1, v2
    store->record("shop", state(4, true, 2));             // v4: prunes v1
    store->record("shop", state(4, false, 2));            // rollback switched off
    store->record("shop", state(4, true, 2));             // and on again

    const EventPage all = store->events(0);
    CHECK(types(all) == std::vector<std::string>{
                            "version.created", "version.created", "status.changed", "tag.set", "note.added",
                            "tag.removed", "snapshot.registered", "snapshot.deleted", "version.created",
                            "rollback.committed", "version.created", "versions.pruned", "rollback.disabled",
                            "rollback.enabled"});
    for (std::size_t i = 0; i < all.events.size(); ++i) {
        INFO("event " << i << ": " << all.events[i].type);
        CHECK(all.events[i].seq == static_cast<std::int64_t>(i + 1));
        CHECK(!all.events[i].at.empty());
    }
    CHECK(all.next == static_cast<std::int64_t>(all.events.size()));
    const Event &created = all.events[1];
    CHECK(created.spinner == "shop");
    CHECK(created.version == 2);
    const auto data = json::parse(created.data_json).as_object();
    CHECK(data.at("reason").as_string() == "deploy");
    CHECK(data.at("digest").as_string() == store->get("shop", 2).version.digest);
    CHECK(all.events[6].spinner.empty()); // snapshot events are store-wide
    CHECK(json::parse(all.events[9].data_json).at("target").as_int64() == 1);
    CHECK(json::parse(all.events[11].data_json).at("numbers").as_array() == json::array{1});
    const std::string text = all.to_json();
    CHECK(text.find("SECRET") == std::string::npos);
    CHECK(text.find(kSecretValue) == std::string::npos);
    CHECK(text.find("\"spinner\":null") != std::string::npos);
    CHECK(all.store_id == store->info().store_id);
    CHECK(text.find("\"storeId\":\"" + all.store_id + "\"") == 1);

    // pages
    const EventPage first = store->events(0, 5);
    CHECK(first.events.size() == 5);
    CHECK(first.next == 5);
    CHECK(store->events(first.next, 1000).events.front().seq == 6);
    CHECK(store->events(all.next).events.empty());
    CHECK(store->events(all.next).next == all.next);
    CHECK(error_of([&] { store->events(-1); }).path() == "after");
    CHECK(error_of([&] { store->events(0, 0); }).path() == "limit");
    CHECK(error_of([&] { store->wait_events(0, -1); }).path() == "timeout_ms");
}

TEST_CASE("eventsLimit keeps the newest events; seq goes on", "[store][events]") {
    TempDir dir;
    StoreOptions o = keyed();
    o.events_limit = 3;
    auto store = VersionStore::open(dir.store(), o);
    for (int i = 1; i <= 6; ++i) store->record("shop", state(i));
    const EventPage p = store->events(0);
    REQUIRE(p.events.size() == 3);
    CHECK(p.events.front().seq == 4);
    CHECK(p.events.back().seq == 6);
    CHECK(StoreOptions::from_json(R"({"eventsLimit":7})").events_limit == 7);
    CHECK(error_of([&] { StoreOptions::from_json(R"({"eventsLimit":0})"); }).path() == "options.eventsLimit");
}

TEST_CASE("wait_events returns when another handle commits, or empty at the timeout", "[store][events]") {
    TempDir dir;
    auto reader = VersionStore::open(dir.store(), keyed());
    auto writer = VersionStore::open(dir.store(), keyed());
    writer->record("shop", state(1));
    const std::int64_t after = reader->events(0).next;

    const auto t0 = std::chrono::steady_clock::now();
    CHECK(reader->wait_events(after, 120).events.empty());
    CHECK(std::chrono::steady_clock::now() - t0 >= std::chrono::milliseconds(120));

    std::chrono::steady_clock::time_point committed;
    std::thread w([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        writer->record("shop", state(2));
        committed = std::chrono::steady_clock::now();
    });
    const EventPage p = reader->wait_events(after, 10000);
    const auto woke = std::chrono::steady_clock::now();
    w.join();
    REQUIRE(p.events.size() == 1);
    CHECK(p.events[0].type == "version.created");
    const auto lag = std::chrono::duration_cast<std::chrono::milliseconds>(woke - committed).count();
    INFO("woke " << lag << " ms after the commit returned");
    CHECK(lag < 1000); // SQLite ~25 ms polling, PostgreSQL a NOTIFY; generous for sanitizer builds
    if (spr_backend::on_postgres()) {
        // the wait listened on a connection of its own (LISTEN/NOTIFY, no polling)
        CHECK(spr_backend::query_int(dir.store(), "SELECT count(*) FROM pg_stat_activity WHERE application_name = "
                                                  "'spinner_rollback-listener' AND query LIKE 'LISTEN%'") >= 1);
    }
}
