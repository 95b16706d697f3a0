// VersionStore on real SQLite files and PostgreSQL schemas: numbering, listing, retention, dedup,
// idempotency, secrets at rest, verification, migrations.
#include <catch2/catch.hpp>

#include "db.hpp"
#include "fixtures.hpp"

#include <regex>

#include <fstream>
#include <map>
#include <sstream>

using namespace spinner_rollback;
using namespace fixtures;

namespace {

std::string env_state(int i) {
    return with([i](auto &s) { container(s)["env"].as_array()[0].as_object()["value"] = "v" + std::to_string(i); });
}

using spr_backend::at_rest_bytes;
using spr_backend::on_postgres;
using spr_backend::payload_bytes;
using spr_backend::query_int;

// Direct SQL on the store, as an attacker or a bad disk would.
void sql(const std::string &location, const std::string &statement) {
    INFO(statement);
    REQUIRE_NOTHROW(spr_backend::sql(location, statement));
}

// Take a store back to schema 2: what migrations 3 and 4 added, removed.
void undo_migration_3(const std::string &location) {
    sql(location, "DROP TABLE events; DROP INDEX versions_untagged; DROP INDEX tags_by_number; DROP TABLE tags; "
                  "ALTER TABLE versions DROP COLUMN tags; ALTER TABLE versions DROP COLUMN notes; "
                  "ALTER TABLE versions DROP COLUMN scope; ALTER TABLE versions DROP COLUMN replaced_at; "
                  "ALTER TABLE spinners DROP COLUMN tagged");
}

std::map<int, int> blob_counts(const std::string &location) {
    std::map<int, int> counts;
    for (int kind = 1; kind <= 3; ++kind)
        counts[kind] = static_cast<int>(query_int(location, "SELECT count(*) FROM blobs WHERE kind = " + std::to_string(kind)));
    return counts;
}

template <class F> ErrorCode code_of(F &&f) {
    try {
        f();
    } catch (const Error &e) {
        return e.code();
    }
    return ErrorCode::ok;
}

} // namespace

TEST_CASE("record: first, unchanged, changed; listing newest first with one current", "[store]") {
    TempDir dir;
    auto store = VersionStore::open(dir.store(), keyed());
    ChangeMeta meta;
    meta.author = "alice";
    meta.message = "first deploy";
    auto r1 = store->record("shop", text(base_state()), meta);
    CHECK(r1.outcome == spinner_rollback::Outcome::created);
    REQUIRE(r1.version);
    CHECK(r1.version->number == 1);
    CHECK(r1.version->reason == VersionReason::deploy);
    CHECK(r1.version->author == "alice");
    CHECK(r1.version->summary == "first version: image shop:1.4; 2 instances");
    CHECK(r1.version->digest.rfind("sha256:", 0) == 0);
    CHECK(r1.version->digest.size() == 7 + 64);

    CHECK(store->record("shop", text(base_state())).outcome == spinner_rollback::Outcome::unchanged);
    // Same content, other spelling: still unchanged (canonical form).
    CHECK(store->record("shop", with([](auto &s) { container(s)["resources"].as_object()["memory"] = "0.25Gi"; }))
              .outcome == spinner_rollback::Outcome::unchanged);

    auto r2 = store->record("shop", with([](auto &s) {
                                container(s)["image"].as_object()["reference"] = "registry.example/shop:1.5";
                                container(s)["image"].as_object().erase("digest");
                                s["instances"] = 3;
                            }));
    CHECK(r2.outcome == spinner_rollback::Outcome::created);
    CHECK(r2.version->number == 2);
    CHECK(r2.version->summary == "image shop:1.4 → shop:1.5; instances 2 → 3");

    auto list = store->versions("shop");
    REQUIRE(list.size() == 2);
    CHECK(list[0].number == 2);
    CHECK(list[0].current);
    CHECK(list[1].number == 1);
    CHECK_FALSE(list[1].current);
    CHECK(list[1].author == "alice");
    CHECK(code_of([&] { store->versions("nope"); }) == ErrorCode::not_found);
    CHECK(code_of([&] { store->versions("Bad_Name"); }) == ErrorCode::invalid);
}

TEST_CASE("disabled rollback creates no version but keeps the latest state; re-enabling records at once",
          "[store]") {
    TempDir dir;
    auto store = VersionStore::open(dir.store(), keyed());
    store->record("shop", text(base_state()));
    auto off = [](int instances, bool enabled) {
        return with([=](auto &s) {
            s["settings"].as_object()["rollback"].as_object()["enabled"] = enabled;
            s["instances"] = instances;
        });
    };
    CHECK(store->record("shop", off(5, false)).outcome == spinner_rollback::Outcome::disabled);
    CHECK(store->record("shop", off(6, false)).outcome == spinner_rollback::Outcome::disabled);
    CHECK_FALSE(store->spinner_info("shop").rollback_enabled);
    CHECK(store->versions("shop").size() == 1);
    auto back = store->record("shop", off(6, true));
    CHECK(back.outcome == spinner_rollback::Outcome::created);
    CHECK(back.version->reason == VersionReason::reenabled);
    CHECK(store->spinner_info("shop").rollback_enabled);
    // A spinner created disabled has no versions at all.
    CHECK(store->record("quiet", off(1, false)).outcome == spinner_rollback::Outcome::disabled);
    CHECK(store->versions("quiet").empty());
}

TEST_CASE("recording the latest state again writes nothing: one read, no lock", "[store][reconcile]") {
    TempDir dir;
    auto store = VersionStore::open(dir.store(), keyed());
    const std::string v1 = text(base_state());
    store->record("shop", v1);
    const std::string untracked = with([](auto &s) { s["labels"].as_object()["team"] = "other"; });
    const std::string disabled =
        with([](auto &s) { s["settings"].as_object()["rollback"].as_object()["enabled"] = false; });
    const std::string when = store->spinner_info("shop").last_recorded_at;
    // Writes are observed from outside: SQLite's data_version on a second
    // connection moves when any other connection commits; PostgreSQL counts
    // the round trips of this process.
    sqlite3 *raw = nullptr;
    auto data_version = [&] {
        sqlite3_stmt *st = nullptr;
        REQUIRE(sqlite3_prepare_v2(raw, "PRAGMA data_version", -1, &st, nullptr) == SQLITE_OK);
        REQUIRE(sqlite3_step(st) == SQLITE_ROW);
        const auto v = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        return v;
    };
    if (!on_postgres()) REQUIRE(sqlite3_open(dir.store().c_str(), &raw) == SQLITE_OK);
    auto writes_nothing = [&](const std::string &state, spinner_rollback::Outcome expected, int line) {
        INFO("called from line " << line);
        const auto v0 = raw ? data_version() : 0;
        const auto trips = detail::postgres_round_trips();
        CHECK(store->record("shop", state).outcome == expected);
        if (raw) CHECK(data_version() == v0);
        else CHECK(detail::postgres_round_trips() - trips == 1);
    };
    // The first read on a connection prepares its statement (PostgreSQL: one
    // more round trip, once per connection).
    CHECK(store->record("shop", v1).outcome == spinner_rollback::Outcome::unchanged);
    writes_nothing(v1, spinner_rollback::Outcome::unchanged, __LINE__);
    writes_nothing(v1, spinner_rollback::Outcome::unchanged, __LINE__);
    // An untracked change is stored (the latest state moves), then is the latest state itself.
    const auto v0 = raw ? data_version() : 0;
    CHECK(store->record("shop", untracked).outcome == spinner_rollback::Outcome::unchanged);
    if (raw) CHECK(data_version() != v0); // the observation can fail: a write is seen
    writes_nothing(untracked, spinner_rollback::Outcome::unchanged, __LINE__);
    CHECK(store->record("shop", disabled).outcome == spinner_rollback::Outcome::disabled);
    writes_nothing(disabled, spinner_rollback::Outcome::disabled, __LINE__);
    CHECK(store->versions("shop").size() == 1);
    CHECK(store->spinner_info("shop").last_recorded_at >= when);
    sqlite3_close(raw);
}

TEST_CASE("PostgreSQL round trips: listing, spinner facts and a reconcile record take one each",
          "[store][postgres][roundtrips]") {
    REQUIRE(on_postgres());
    TempDir dir;
    auto store = VersionStore::open(dir.store(), keyed());
    const std::string v1 = text(base_state());
    store->record("shop", v1);
    store->record("shop", env_state(2));
    auto trips = [&](auto f) {
        f(); // the first use of a statement prepares it on this connection
        const auto before = detail::postgres_round_trips();
        f();
        return detail::postgres_round_trips() - before;
    };
    CHECK(trips([&] { CHECK(store->versions("shop").size() == 2); }) == 1);
    CHECK(trips([&] { CHECK(store->versions("shop", 0, 1).size() == 1); }) == 1);
    CHECK(trips([&] { CHECK(store->spinner_info("shop").current_version == 2); }) == 1);
    CHECK(trips([&] { CHECK(store->spinners().size() == 1); }) == 1);
    CHECK(trips([&] { store->record("shop", env_state(2)); }) == 1);
    // Reads of stored content: one round trip once the (immutable, verified)
    // content is cached; revealing secrets reads them in a transaction.
    CHECK(trips([&] { CHECK(store->get("shop", 1).version.number == 1); }) == 1);
    CHECK(trips([&] { CHECK(store->diff("shop", 1, 2).changes.size() == 1); }) == 1);
    CHECK(trips([&] { CHECK(code_of([&] { store->get("shop", 9); }) == ErrorCode::not_found); }) == 1);
    // Errors are one round trip too, and still name what is wrong.
    CHECK(trips([&] { CHECK(code_of([&] { store->versions("ghost"); }) == ErrorCode::not_found); }) == 1);
}

TEST_CASE("PostgreSQL round trips: a record is two (three for a handle new to the spinner), a commit three, a plan one",
          "[store][postgres][roundtrips]") {
    REQUIRE(on_postgres());
    TempDir dir;
    auto store = VersionStore::open(dir.store(), keyed());
    RollbackPlanner planner(*store);
    auto trips = [&](auto f) {
        const auto before = detail::postgres_round_trips();
        f();
        return detail::postgres_round_trips() - before;
    };
    // Every statement is prepared once per connection, in the round trip
    // that first runs it: warm them all up on a spinner of their own.
    auto history_limit = [](int limit, int i) {
        return with([=](auto &s) {
            s["settings"].as_object()["rollback"].as_object()["historyLimit"] = limit;
            container(s)["env"].as_array()[0].as_object()["value"] = "v" + std::to_string(i);
        });
    };
    auto created = [&](const std::string &name, const std::string &state) {
        return trips([&] { CHECK(store->record(name, state).outcome == Outcome::created); });
    };
    for (const std::string name : {"warm", "shop"}) {
        const bool warm = name == "warm";
        // The first record of a new spinner: its row is created in the batch of reads.
        const auto first = created(name, history_limit(3, 1));
        CHECK((first <= 3 || warm));
        for (int i = 2; i <= 6; ++i) { // retention removes a version from the fifth on
            // A change after this handle saw the latest state: no "unchanged?"
            // read; one batch of reads, then the writes with COMMIT.
            const auto n = created(name, history_limit(3, i));
            CHECK((n == 2 || warm));
        }
        const auto same = trips([&] { CHECK(store->record(name, history_limit(3, 6)).outcome == Outcome::unchanged); });
        CHECK((same == 1 || warm));
        ChangeMeta m;
        m.request_id = name + "-r1";
        const auto with_id = trips([&] { store->record(name, history_limit(3, 7), m); });
        const auto replayed = trips([&] { store->record(name, history_limit(3, 7), m); });
        CHECK(((with_id == 2 && replayed == 2) || warm));
        Plan p;
        const auto planned = trips([&] { p = planner.plan(name, 6); });
        const auto committed = trips([&] { CHECK(planner.commit(p).number == 8); });
        CHECK(((planned == 1 && committed == 3) || warm));
    }
    {
        // Another handle changes the spinner: this handle's hint is stale,
        // and its next records are still exact.
        auto other = VersionStore::open(dir.store(), keyed());
        // New to `other` (cold caches: it reads the content it compares with).
        CHECK(other->record("shop", history_limit(3, 20)).outcome == Outcome::created);
        CHECK(trips([&] { CHECK(other->record("shop", history_limit(3, 21)).outcome == Outcome::created); }) == 2);
        // `store` last saw version 8's state: the state `other` recorded is unchanged.
        CHECK(store->record("shop", history_limit(3, 21)).outcome == Outcome::unchanged);
        CHECK(store->record("shop", history_limit(3, 22)).outcome == Outcome::created);
        CHECK(store->spinner_info("shop").current_version == 11);
    }
    // historyLimit 3: the current version and three earlier ones remain.
    CHECK(store->versions("shop").size() == 4);
    CHECK(store->get("shop", 8).version.rollback_of == 6);
    CHECK(store->versions("shop").front().number == 11);
}

TEST_CASE("requestId makes retries idempotent", "[store]") {
    TempDir dir;
    auto store = VersionStore::open(dir.store(), keyed());
    ChangeMeta meta;
    meta.request_id = "req-1";
    auto a = store->record("shop", text(base_state()), meta);
    auto b = store->record("shop", text(base_state()), meta);
    CHECK(a.outcome == spinner_rollback::Outcome::created);
    CHECK(b.outcome == spinner_rollback::Outcome::created);
    CHECK(b.version->number == a.version->number);
    meta.request_id = "req-2";
    auto c = store->record("shop", env_state(2), meta);
    auto d = store->record("shop", env_state(2), meta);
    CHECK(c.version->number == 2);
    CHECK(d.version->number == 2);
    CHECK(store->versions("shop").size() == 2);
    // Requests that created nothing are remembered for a bounded window.
    for (int i = 0; i < 1100; ++i) {
        ChangeMeta again;
        again.request_id = "reconcile-" + std::to_string(i);
        CHECK(store->record("shop", env_state(2), again).outcome == spinner_rollback::Outcome::unchanged);
    }
    CHECK(query_int(dir.store(), "SELECT count(*) FROM requests WHERE number = 0") == 1000);
    // Reusing a requestId for another state is a conflict, not a silent no-op.
    CHECK(code_of([&] { store->record("shop", env_state(3), meta); }) == ErrorCode::conflict);
    CHECK(store->versions("shop").size() == 2);
}

TEST_CASE("a requestId is remembered as long as its version: record and commit replay alike",
          "[store][requests]") {
    TempDir dir;
    auto store = VersionStore::open(dir.store(), keyed());
    auto limited = [](int n) {
        return with([=](auto &s) {
            s["settings"].as_object()["rollback"].as_object()["historyLimit"] = 1;
            s["instances"] = n;
        });
    };
    ChangeMeta first;
    first.request_id = "deploy-1";
    REQUIRE(store->record("shop", limited(1), first).version->number == 1);
    RollbackPlanner planner(*store);
    store->record("shop", limited(2));
    ChangeMeta rb;
    rb.request_id = "rollback-1";
    const Plan plan = planner.plan("shop", 1);
    REQUIRE(planner.commit(plan, rb).number == 3);
    // While retained, both replay their first result.
    CHECK(planner.commit(plan, rb).number == 3);
    store->record("shop", limited(4));
    CHECK(store->record("shop", limited(1), first).outcome == spinner_rollback::Outcome::created); // v1 is gone
    store->record("shop", limited(5)); // version 3 is pruned too
    REQUIRE(store->versions("shop").front().number == 6);
    // After pruning, a retry is a new request: the commit's plan is stale.
    CHECK(code_of([&] { planner.commit(plan, rb); }) == ErrorCode::conflict);
    CHECK(store->versions("shop").front().number == 6);
}

TEST_CASE("retention keeps historyLimit versions besides the current one and collects content",
          "[store][retention]") {
    TempDir dir;
    auto store = VersionStore::open(dir.store(), keyed());
    auto limited = [](int i) {
        return with([i](auto &s) {
            s["settings"].as_object()["rollback"].as_object()["historyLimit"] = 3;
            s["configMaps"].as_object()["shop-config"].as_object()["flags"] = "value-" + std::to_string(i);
        });
    };
    for (int i = 1; i <= 10; ++i) store->record("shop", limited(i));
    auto list = store->versions("shop");
    REQUIRE(list.size() == 4);
    CHECK(list.front().number == 10);
    CHECK(list.back().number == 7);
    CHECK(code_of([&] { store->get("shop", 1); }) == ErrorCode::pruned);
    CHECK(code_of([&] { store->get("shop", 6); }) == ErrorCode::pruned);
    CHECK(code_of([&] { store->get("shop", 11); }) == ErrorCode::not_found);
    CHECK(code_of([&] { store->get("shop", 0); }) == ErrorCode::not_found);
    CHECK(store->get("shop", 7).state_json.find("value-7") != std::string::npos);
    // Numbers are never reused after pruning.
    CHECK(store->record("shop", limited(11)).version->number == 11);
    // Only the content of retained versions (and the latest state) is stored:
    // 4 versions' cores + 4 config maps + 1 secret.
    std::map<int, int> counts = blob_counts(dir.store());
    // Cores of pruned versions may stay as delta bases (bytes only, at most
    // one chain), but their config maps and secrets are collected.
    CHECK(counts[1] >= 4);
    CHECK(counts[1] <= 4 + 17);
    CHECK(counts[2] == 4);
    CHECK(counts[3] == 1);
    // Many more versions: whole old delta chains are collected.
    for (int i = 12; i <= 80; ++i) store->record("shop", limited(i));
    counts = blob_counts(dir.store());
    CHECK(counts[1] <= 4 + 17);
    CHECK(counts[2] == 4);
    for (int n = 77; n <= 80; ++n)
        CHECK(store->get("shop", n).state_json.find("value-" + std::to_string(n)) != std::string::npos);
}

TEST_CASE("content is deduplicated: small changes cost bytes, big unchanged maps are stored once",
          "[store][dedup]") {
    TempDir dir;
    auto store = VersionStore::open(dir.store(), keyed());
    // Warm up the schema and the first version, then measure one-env-var changes.
    store->record("shop", env_state(0));
    store->record("shop", env_state(1));
    std::int64_t before = payload_bytes(dir.store());
    const int n = 50;
    for (int i = 2; i < 2 + n; ++i) store->record("shop", env_state(i));
    std::int64_t per_version = (payload_bytes(dir.store()) - before) / n;
    INFO("bytes per one-env-var version: " << per_version);
    CHECK(per_version < 1024);

    // A 1 MiB config map unchanged across 200 versions is stored once.
    TempDir dir2;
    auto big = VersionStore::open(dir2.store(), keyed());
    // Incompressible-ish text, so compression cannot hide duplication.
    std::string mib(1 << 20, 'x');
    std::mt19937 rng(42);
    for (auto &c : mib) c = static_cast<char>('a' + rng() % 26);
    auto big_state = [&](int i) {
        return with([&](auto &s) {
            s["configMaps"].as_object()["shop-config"].as_object()["app.yaml"] = mib;
            s["settings"].as_object()["rollback"].as_object()["historyLimit"] = 1000;
            container(s)["env"].as_array()[0].as_object()["value"] = "v" + std::to_string(i);
        });
    };
    for (int i = 0; i < 200; ++i) big->record("shop", big_state(i));
    std::int64_t total = payload_bytes(dir2.store());
    INFO("total payload for 200 versions with a 1 MiB map: " << total);
    CHECK(total < (1 << 20) + 200 * 1024);
    CHECK(big->versions("shop").size() == 200);
    CHECK(big->get("shop", 1).state_json.find(mib.substr(0, 200)) != std::string::npos);
    CHECK(big->get("shop", 200).state_json.find(mib.substr(0, 200)) != std::string::npos);
}

TEST_CASE("secrets are encrypted at rest and revealed only on request", "[store][secrets]") {
    TempDir dir;
    {
        auto store = VersionStore::open(dir.store(), keyed());
        store->record("shop", text(base_state()));
        store->record("shop", with([](auto &s) {
                          s["secrets"].as_object()["db"].as_object()["password"] = "NEXT-" + kSecretValue;
                      }));
        auto list = store->versions("shop");
        for (const auto &v : list) CHECK(v.to_json().find(kSecretValue) == std::string::npos);
        CHECK(store->diff("shop", 1, 2).to_json().find(kSecretValue) == std::string::npos);
        CHECK(store->diff("shop", 1, 2).changes.size() == 1);
        auto masked = store->get("shop", 1);
        CHECK(masked.state_json.find(kSecretValue) == std::string::npos);
        CHECK(masked.state_json.find("<redacted>") != std::string::npos);
        auto revealed = store->get("shop", 1, true);
        CHECK(revealed.state_json.find(kSecretValue) != std::string::npos);
        CHECK(store->get("shop", 2, true).state_json.find("NEXT-" + kSecretValue) != std::string::npos);
        // The WAL still holds the data at this point: check it while open.
        CHECK(at_rest_bytes(dir.store()).find(kSecretValue) == std::string::npos);
        // A masked state cannot be fed back by accident.
        CHECK(code_of([&] { store->record("shop", masked.state_json); }) == ErrorCode::invalid);
    }
    CHECK(at_rest_bytes(dir.store()).find(kSecretValue) == std::string::npos);

    // Without a key: listing and masked reads work, revealing does not.
    auto nokey = VersionStore::open(dir.store());
    CHECK(nokey->versions("shop").size() == 2);
    CHECK(nokey->get("shop", 1).state_json.find("<redacted>") != std::string::npos);
    CHECK(code_of([&] { nokey->get("shop", 1, true); }) == ErrorCode::no_key);
    CHECK(code_of([&] { nokey->record("shop", text(base_state())); }) == ErrorCode::no_key);
    // A state without secrets needs no key.
    auto plain = with([](auto &s) {
        s.erase("secrets");
        auto &env = container(s)["env"].as_array();
        env.erase(env.begin() + 1);
        auto &mounts = container(s)["mounts"].as_array();
        mounts.erase(mounts.begin() + 1);
    });
    CHECK(nokey->record("plain", plain).outcome == spinner_rollback::Outcome::created);

    // The wrong key is refused at open, naming the option.
    StoreOptions wrong;
    wrong.key = std::string(64, 'f');
    try {
        VersionStore::open(dir.store(), wrong);
        FAIL("wrong key accepted");
    } catch (const Error &e) {
        CHECK(e.code() == ErrorCode::no_key);
        CHECK(e.path() == "options.key");
    }
    // Key files work, in hex or base64.
    std::ofstream(dir.file("key")) << kKey << "\n";
    StoreOptions from_file;
    from_file.key_file = dir.file("key");
    CHECK(VersionStore::open(dir.store(), from_file)->get("shop", 1, true).state_json.find(kSecretValue) !=
          std::string::npos);
}

TEST_CASE("a host cipher (KMS) wraps the data key", "[store][secrets]") {
    struct Xor final : Cipher {
        int calls = 0;
        std::string encrypt(std::string_view p) override {
            ++calls;
            std::string s(p);
            for (auto &c : s) c ^= 0x5a;
            return "kms:" + s;
        }
        std::string decrypt(std::string_view c) override {
            ++calls;
            if (c.substr(0, 4) != "kms:") throw std::runtime_error("not ours");
            std::string s(c.substr(4));
            for (auto &x : s) x ^= 0x5a;
            return s;
        }
    };
    TempDir dir;
    auto cipher = std::make_shared<Xor>();
    StoreOptions o;
    o.cipher = cipher;
    {
        auto store = VersionStore::open(dir.store(), o);
        store->record("shop", text(base_state()));
        CHECK(store->get("shop", 1, true).state_json.find(kSecretValue) != std::string::npos);
    }
    CHECK(cipher->calls == 1); // one wrap, not one call per secret
    auto again = VersionStore::open(dir.store(), o);
    CHECK(again->get("shop", 1, true).state_json.find(kSecretValue) != std::string::npos);
    CHECK(code_of([&] { VersionStore::open(dir.store(), keyed()); }) == ErrorCode::no_key);
    // One rule with the C API: a cipher and a key together are refused, not silently ranked.
    StoreOptions both = keyed();
    both.cipher = cipher;
    try {
        VersionStore::open(dir.store(), both);
        FAIL("key + cipher was accepted");
    } catch (const Error &e) {
        CHECK(e.code() == ErrorCode::invalid);
        CHECK(e.path() == "cipher");
    }
}

TEST_CASE("stored data is verified on every read", "[store][corrupt]") {
    TempDir dir;
    {
        auto store = VersionStore::open(dir.store(), keyed());
        store->record("shop", text(base_state()));
    }
    SECTION("config map content altered") {
        sql(dir.store(), std::string("UPDATE blobs SET data = ") + (on_postgres() ? "convert_to('{\"flags\":\"evil\"}', 'UTF8')" : "CAST('{\"flags\":\"evil\"}' AS BLOB)") + ", codec = 0, size = 16 WHERE kind = 2");
        auto store = VersionStore::open(dir.store(), keyed());
        CHECK(code_of([&] { store->get("shop", 1); }) == ErrorCode::corrupt);
        CHECK(store->versions("shop").size() == 1); // listing needs no content
    }
    SECTION("core content altered") {
        sql(dir.store(), std::string("UPDATE blobs SET data = ") + (on_postgres() ? "convert_to('{}', 'UTF8')" : "CAST('{}' AS BLOB)") + ", codec = 0, size = 2 WHERE kind = 1");
        auto store = VersionStore::open(dir.store(), keyed());
        CHECK(code_of([&] { store->get("shop", 1); }) == ErrorCode::corrupt);
    }
    SECTION("sealed secret altered") {
        sql(dir.store(), on_postgres() ? "UPDATE blobs SET data = decode(repeat('00', length(data)), 'hex') WHERE kind = 3"
                                   : "UPDATE blobs SET data = zeroblob(length(data)) WHERE kind = 3");
        auto store = VersionStore::open(dir.store(), keyed());
        CHECK(store->get("shop", 1).state_json.find("<redacted>") != std::string::npos);
        CHECK(code_of([&] { store->get("shop", 1, true); }) == ErrorCode::corrupt);
    }
    SECTION("stored reasons altered") {
        sql(dir.store(), "UPDATE versions SET reasons = 'not json'");
        auto store = VersionStore::open(dir.store(), keyed());
        CHECK(code_of([&] { store->versions("shop"); }) == ErrorCode::corrupt);
    }
    SECTION("content missing") {
        sql(dir.store(), "DELETE FROM blobs WHERE kind = 2");
        auto store = VersionStore::open(dir.store(), keyed());
        CHECK(code_of([&] { store->get("shop", 1); }) == ErrorCode::corrupt);
    }
}

TEST_CASE("a store at schema 1 (release 0.1 pre-delta) opens, migrates and keeps its data", "[store][migrations]") {
    TempDir dir;
    std::string id;
    {
        auto store = VersionStore::open(dir.store(), keyed());
        store->record("shop", env_state(1));
        store->record("shop", env_state(2));
        id = store->info().store_id;
    }
    // Turn the file back into schema 1 as 0.1's first schema wrote it: v1
    // only (its core is a full, non-delta blob referenced by the version and
    // the latest-state pointer), no migration-2 columns.
    sql(dir.store(), "DELETE FROM blobs WHERE codec = 2");
    sql(dir.store(), "DELETE FROM versions WHERE number = 2; UPDATE spinners SET current_number = 1, last_number = 1, "
                    "latest_core = (SELECT core FROM versions WHERE number = 1)");
    sql(dir.store(), "UPDATE blobs SET refs = CASE kind WHEN 1 THEN 2 ELSE 1 END, base_refs = 0, children = NULL");
    undo_migration_3(dir.store());
    sql(dir.store(), "ALTER TABLE blobs DROP COLUMN base; ALTER TABLE blobs DROP COLUMN depth; "
                    "ALTER TABLE blobs DROP COLUMN children; ALTER TABLE blobs DROP COLUMN base_refs; "
                    "DROP INDEX requests_by_seq; ALTER TABLE requests DROP COLUMN seq");
    spr_backend::set_schema_version(dir.store(), 1);
    auto store = VersionStore::open(dir.store(), keyed());
    CHECK(store->get("shop", 1, true).state_json.find(kSecretValue) != std::string::npos);
    CHECK(store->record("shop", env_state(3)).version->number == 2);
    CHECK(store->diff("shop", 1, 2).changes.size() == 1);
    RollbackPlanner planner(*store);
    CHECK(planner.commit(planner.plan("shop", 1)).number == 3);
    for (int n = 1; n <= 3; ++n) CHECK(store->get("shop", n, true).state_json.find(kSecretValue) != std::string::npos);
    CHECK(store->info().store_id == id); // the identity survives the migration
    CHECK(store->info().schema_version == 4);
}

TEST_CASE("a store at schema 2 (0.2 before tags) migrates: tags work, replaced_at is filled in", "[store][migrations]") {
    TempDir dir;
    {
        auto store = VersionStore::open(dir.store(), keyed());
        for (int i = 1; i <= 3; ++i) store->record("shop", env_state(i));
    }
    undo_migration_3(dir.store());
    spr_backend::set_schema_version(dir.store(), 2);
    auto store = VersionStore::open(dir.store(), keyed());
    CHECK(store->info().schema_version == 4);
    auto list = store->versions("shop");
    REQUIRE(list.size() == 3);
    CHECK(list[0].tags.empty());
    CHECK(!list[0].scope);
    // when each version stopped being current: the next one's creation time
    CHECK(spr_backend::query_text(dir.store(), "SELECT replaced_at FROM versions WHERE number = 1") ==
          list[1].created_at);
    CHECK(spr_backend::query_text(dir.store(), "SELECT coalesce(replaced_at, 'none') FROM versions WHERE number = 3") ==
          "none");
    TagRequest t;
    t.name = "golden";
    CHECK(store->tag("shop", 1, t).tags.at(0).name == "golden");
    CHECK(store->tagged("shop", "golden") == 1);
}

TEST_CASE("a store has an identity: a UUID made once, reported with its engine", "[store][info]") {
    TempDir dir;
    const std::regex uuid("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
    StoreInfo first;
    {
        auto store = VersionStore::open(dir.store("a"), keyed());
        first = store->info();
        CHECK(std::regex_match(first.store_id, uuid));
        CHECK(first.engine == (on_postgres() ? "postgres" : "sqlite"));
        CHECK(first.library_version == version_string());
        CHECK(first.to_json().find("\"storeId\":\"" + first.store_id + "\"") != std::string::npos);
    }
    auto again = VersionStore::open(dir.store("a"), keyed());
    CHECK(again->info().store_id == first.store_id); // kept across opens
    auto other = VersionStore::open(dir.store("b"), keyed());
    CHECK(other->info().store_id != first.store_id);
}

TEST_CASE("schema migrations: versioned, and newer stores are refused", "[store][migrations]") {
    TempDir dir;
    { VersionStore::open(dir.store()); }
    { VersionStore::open(dir.store())->spinners(); } // reopening is a no-op migration
    spr_backend::set_schema_version(dir.store(), 99);
    try {
        VersionStore::open(dir.store());
        FAIL("opened a newer store");
    } catch (const Error &e) {
        CHECK(e.code() == ErrorCode::io);
        CHECK(std::string(e.what()).find("newer") != std::string::npos);
    }
}

TEST_CASE("a file that is not a database is refused as corrupt", "[store][sqlite]") {
    TempDir dir;
    std::ofstream(dir.file("junk.db")) << std::string(8192, 'j');
    CHECK(code_of([&] { VersionStore::open(dir.file("junk.db")); }) == ErrorCode::corrupt);
}

TEST_CASE("rollout status: active supersedes the previous active version", "[store][status]") {
    TempDir dir;
    auto store = VersionStore::open(dir.store(), keyed());
    store->record("shop", env_state(1));
    store->record("shop", env_state(2));
    store->set_status("shop", 1, RolloutStatus::active);
    store->set_status("shop", 2, RolloutStatus::active);
    auto list = store->versions("shop");
    CHECK(list[0].status == RolloutStatus::active);
    CHECK(list[1].status == RolloutStatus::superseded);
    store->set_status("shop", 2, RolloutStatus::failed);
    CHECK(store->versions("shop")[0].status == RolloutStatus::failed);
    CHECK(code_of([&] { store->set_status("shop", 3, RolloutStatus::active); }) == ErrorCode::not_found);
    CHECK(code_of([] { parse_status("done"); }) == ErrorCode::invalid);
}

TEST_CASE("volume snapshots: register, list per volume, delete", "[store][snapshots]") {
    TempDir dir;
    auto store = VersionStore::open(dir.store());
    store->register_snapshot(Snapshot::from_json(
        R"({"id":"s1","volume":"vol-a","sizeBytes":100,"createdAt":"2026-01-01T00:00:00Z","ready":true,"storageClass":"standard","metadata":{"by":"cron"}})"));
    store->register_snapshot(Snapshot::from_json(
        R"({"id":"s2","volume":"vol-a","sizeBytes":200,"createdAt":"2026-02-01T00:00:00Z","ready":false})"));
    store->register_snapshot(Snapshot::from_json(R"({"id":"s3","volume":"vol-b","sizeBytes":300,"ready":true})"));
    auto a = store->snapshots("vol-a");
    REQUIRE(a.size() == 2);
    CHECK(a[0].id == "s2"); // newest first
    CHECK(a[1].metadata_json == R"({"by":"cron"})");
    CHECK(store->snapshots().size() == 3);
    // Times are normalised to UTC milliseconds, so they sort as instants.
    store->register_snapshot(Snapshot::from_json(
        R"({"id":"tz-old","volume":"vol-t","sizeBytes":1,"ready":true,"createdAt":"2026-01-02T10:00:00+09:00"})"));
    store->register_snapshot(Snapshot::from_json(
        R"({"id":"tz-new","volume":"vol-t","sizeBytes":1,"ready":true,"createdAt":"2026-01-02T02:00:00Z"})"));
    store->register_snapshot(Snapshot::from_json(
        R"({"id":"tz-newest","volume":"vol-t","sizeBytes":1,"ready":true,"createdAt":"2026-01-02T02:00:00.5Z"})"));
    auto t = store->snapshots("vol-t");
    REQUIRE(t.size() == 3);
    CHECK(t[0].id == "tz-newest");
    CHECK(t[0].created_at == "2026-01-02T02:00:00.500Z");
    CHECK(t[1].id == "tz-new");
    CHECK(t[2].id == "tz-old");
    CHECK(t[2].created_at == "2026-01-02T01:00:00.000Z");
    store->delete_snapshot("s2");
    CHECK(store->snapshots("vol-a").size() == 1);
    CHECK(code_of([&] { store->delete_snapshot("s2"); }) == ErrorCode::not_found);
    CHECK(code_of([] { Snapshot::from_json(R"({"id":"x","volume":"v","sizeBytes":-1,"ready":true})"); }) ==
          ErrorCode::invalid);
    CHECK(code_of([] { Snapshot::from_json(R"({"id":"x","volume":"v","sizeBytes":1,"ready":true,"createdAt":"yesterday"})"); }) ==
          ErrorCode::invalid);
}

TEST_CASE("ids and names given as bare strings must be UTF-8: refused as invalid, never sent to the engine",
          "[store][snapshots]") {
    // Found by fuzz_ops on PostgreSQL: an id with byte 0xff reached the
    // server, which refused it (SQLSTATE 22021), and the call failed with
    // SPR_E_INTERNAL. Both engines now refuse it first, naming the argument.
    TempDir dir;
    auto store = VersionStore::open(dir.store(), keyed());
    store->record("shop", text(base_state()));
    const std::string bad = "snap-\xff";
    Error e = error_of([&] { store->delete_snapshot(bad); });
    CHECK(e.code() == ErrorCode::invalid);
    CHECK(e.path() == "id");
    e = error_of([&] { (void)store->snapshots(bad); });
    CHECK(e.code() == ErrorCode::invalid);
    CHECK(e.path() == "volume");
    e = error_of([&] { store->untag("shop", bad); });
    CHECK(e.code() == ErrorCode::invalid);
    CHECK(e.path() == "name");
    e = error_of([&] { (void)store->tagged("shop", bad); });
    CHECK(e.code() == ErrorCode::invalid);
    CHECK(e.path() == "name");
    // Well-formed but unknown: not found, the name quoted in the message.
    e = error_of([&] { store->delete_snapshot("caf\xc3\xa9"); });
    CHECK(e.code() == ErrorCode::not_found);
    CHECK(std::string(e.what()).find("\"caf\xc3\xa9\"") != std::string::npos);
}

TEST_CASE("options are validated naming the field, and never echo the key", "[store][options]") {
    auto refused = [](const char *json, const char *path) {
        try {
            StoreOptions::from_json(json);
            FAIL("accepted " << json);
        } catch (const Error &e) {
            CHECK(e.code() == ErrorCode::invalid);
            CHECK(e.path() == path);
            CHECK(std::string(e.what()).find("not-a-key-XYZ") == std::string::npos);
        }
    };
    refused(R"({"key":"not-a-key-XYZ"})", "options.key");
    refused(R"({"colour":1})", "options.colour");
    refused(R"({"busyTimeoutMs":-5})", "options.busyTimeoutMs");
    refused(R"({"durability":"sometimes"})", "options.durability");
    refused(R"({"pricing":{"perGiBMonth":{"standard":-1}}})", "options.pricing.perGiBMonth.standard");
    refused(R"({"policy":{"triggers":["nope"]}})", "options.policy.triggers[0]");
    auto o = StoreOptions::from_json(R"({"pricing":{"currency":"EUR","perGiBMonth":{"fast":0.3,"*":0.1}},"durability":"normal"})");
    CHECK(o.pricing.currency == "EUR");
    CHECK(o.pricing.price_for("fast") == Approx(0.3));
    CHECK(o.pricing.price_for("other") == Approx(0.1));
    CHECK(o.durability == Durability::normal);
}

