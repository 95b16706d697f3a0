// The fault campaign on PostgreSQL (docs/faults.md). The test starts its own
// throwaway cluster (scripts/pg-server.sh in a fresh /tmp directory,
// destroyed at exit); without the PostgreSQL server binaries it fails.
//
//   kills     writers (one, or two at once) killed with SIGKILL at random
//             instants, durability full and normal (fault_check.hpp);
//   cuts      three writers; all their connections cut with
//             pg_terminate_backend() the moment one of them is inside a
//             write transaction that has written (holds an xid), twice per round;
//   restarts  two writers; the server stopped immediately (no checkpoint:
//             recovery replays WAL, as after a crash) and started again;
//   backend   two writers; the server process of one inside a write
//   kills     transaction killed with SIGKILL: the postmaster ends every
//             connection and recovers from WAL while the writers retry.
//
// During cuts, restarts and backend kills the writers must see only clean
// codes (SPR_E_IO, SPR_E_BUSY: retried with the same requestId), recover,
// and stop on SIGTERM within a deadline (no hang, no crash). After every
// round: no client backend, advisory lock or prepared transaction left
// behind, every check of fault_check.hpp, and amcheck over the store's
// tables and indexes.
//
// Environment: SPR_CRASH_KILLS (kills in all, split over the two durability
// modes; default 100, 24 in sanitizer builds), SPR_PG_CUTS (cut rounds,
// default 10), SPR_PG_RESTARTS (restart rounds, default 5),
// SPR_PG_BACKEND_KILLS (default 5), SPR_CRASH_SEED, SPR_PG_PORT (the
// socket's name, default 5441; the socket lives in the test's own
// directory, so parallel runs do not collide), SPR_FAULT_SUMMARY.
#include "fault_check.hpp"
#include "pg_cluster.hpp"

#include <memory>

using namespace spr_test;

namespace {

PgCluster &cluster() {
    static std::unique_ptr<PgCluster> c;
    if (!c) c = std::make_unique<PgCluster>();
    return *c;
}

std::string pg_options(const std::string &durability) {
    return key_options(R"("busyTimeoutMs": 10000, "durability": ")" + durability + "\"");
}

// After a round, with every writer gone.
std::int64_t check_round(PgCluster &pg, const std::string &schema, const std::string &location,
                         const std::string &options, const Confirmed &c, std::int64_t &verified_upto) {
    INFO("fatal: " << (c.fatals.empty() ? "none" : c.fatals.front()));
    REQUIRE(c.fatals.empty());
    {
        INFO("a killed or stopped writer's backend is still connected after " << 10 * kSlowdown << " s");
        REQUIRE(pg.wait_no_clients(10.0 * kSlowdown));
    }
    REQUIRE(pg.query_int("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'") == 0);
    REQUIRE(pg.query_int("SELECT count(*) FROM pg_prepared_xacts") == 0);
    std::int64_t reads = verify_store(location, options, c, verified_upto);
    REQUIRE(pg.amcheck(schema) == "");
    return reads;
}

void pg_kills(const std::string &durability, int kills) {
    if (kills == 0) return; // SPR_CRASH_KILLS=0 (other faults only) or 1
    PgCluster &pg = cluster();
    const auto t0 = std::chrono::steady_clock::now();
    TempDir dir;
    const std::string options = pg_options(durability);
    std::map<std::string, std::string> schemas; // location -> schema
    auto new_store = [&](const std::string &name) {
        const std::string schema = "kill_" + durability + "_" + name;
        std::string location = pg.fresh_store(schema);
        schemas[location] = schema;
        return location;
    };
    auto check = [&](const std::string &location, const Confirmed &confirmed, std::int64_t &verified_upto) {
        return check_round(pg, schemas.at(location), location, options, confirmed, verified_upto);
    };
    int rounds = 0;
    Totals t = kill_campaign("PostgreSQL, durability " + durability, kills, options, dir, new_store, check, rounds);
    std::ostringstream line;
    line << "postgres kill durability=" << durability << ": " << kills << " SIGKILLs in " << rounds << " rounds, "
         << seconds_since(t0) << " s; " << t.text();
    summary(line.str());
}

// What one fault did.
struct Injected {
    int connections = 0;  // connections it ended
    bool in_write = false; // it hit a transaction that had written
    double seconds = 0;    // how long the injection took (a restart: the downtime)
};

// Rounds of `writers` writers on a store (a fresh one every kRoundsPerStore
// rounds): writers up and writing (every fourth round: just started), then
// `faults` times: a random instant (0-max_delay_ms), inject(), every writer
// confirms two more writes within `recover_s`. Then SIGTERM, and the checks.
template <class Inject>
void fault_rounds(const std::string &kind, int rounds, int writers, int faults, int max_delay_ms, double recover_s,
                  Inject inject) {
    PgCluster &pg = cluster();
    const std::uint64_t seed = campaign_seed();
    INFO("PostgreSQL " << kind << ", SPR_CRASH_SEED=" << seed << ", rounds " << rounds);
    std::mt19937_64 rng(seed);
    const auto t0 = std::chrono::steady_clock::now();
    TempDir dir;
    const std::string options = pg_options("full");
    Totals t;
    std::string schema, location;
    Confirmed confirmed;
    std::int64_t verified_upto = 0;
    int injected = 0, connections = 0, in_write = 0;
    double slowest = 0;
    for (int round = 0; round < rounds; ++round) {
        if (round % kRoundsPerStore == 0) {
            if (round > 0) t.add(confirmed, verified_upto);
            schema = kind + "_" + std::to_string(round);
            location = pg.fresh_store(schema);
            confirmed = Confirmed{};
            verified_upto = 0;
        }
        std::vector<Writer> ws;
        ReapOnExit reap(ws);
        for (int w = 0; w < writers; ++w) {
            const std::string tag = kind + std::to_string(round) + "w" + std::to_string(w);
            ws.push_back(start_writer(location, options, dir.file("confirmed." + tag), tag));
        }
        // Every fourth round the first fault may land in connection and open;
        // the others wait until every writer is writing.
        if (round % 4 != 3) require_progress(ws, std::vector<int>(ws.size(), 0), 1, 30.0 * kSlowdown, "start");
        for (int k = 0; k < faults; ++k) {
            std::uniform_int_distribution<int> delay_us(0, kSlowdown * max_delay_ms * 1000);
            std::this_thread::sleep_for(std::chrono::microseconds(delay_us(rng)));
            Injected f = inject(pg);
            ++injected;
            connections += f.connections;
            in_write += f.in_write ? 1 : 0;
            slowest = std::max(slowest, f.seconds);
            // Every writer recovers: reconnects and confirms new writes.
            require_progress(ws, progress(ws), 2, recover_s * kSlowdown, ("fault " + kind).c_str());
        }
        stop_writers(ws);
        for (const Writer &w : ws) read_report(w.report, confirmed);
        INFO("after " << kind << " round " << round << ", " << confirmed.max << " confirmed; errors: "
                      << errors_text(confirmed.errors));
        require_only_transient(confirmed);
        t.reads += check_round(pg, schema, location, options, confirmed, verified_upto);
    }
    t.add(confirmed, verified_upto);
    // Not vacuous: the faults hit the writers, and they recovered.
    REQUIRE(injected == rounds * faults);
    if (rounds > 0) {
        REQUIRE(t.error_total() > 0);
        REQUIRE(t.recovered > 0);
    }
    std::ostringstream line;
    line << "postgres " << kind << ": " << injected << " faults in " << rounds << " rounds, " << seconds_since(t0)
         << " s; " << connections << " connections ended, " << in_write << " faults inside a write transaction, "
         << "slowest injection " << slowest << " s; " << t.text();
    summary(line.str());
    if (rounds >= 5 && kind != "restart") REQUIRE(in_write > 0);
}

// Polls pg_stat_activity for a writer inside a write transaction that has
// written (holds an xid); after 1 s it settles for any writer.
struct Target {
    long long pid = 0;
    bool in_write = false;
};
Target writer_backend(PgCluster &pg) {
    const auto t0 = std::chrono::steady_clock::now();
    for (;;) {
        const bool any = seconds_since(t0) > 1.0;
        long long pid =
            pg.query_int(std::string("SELECT coalesce(min(pid), 0) FROM pg_stat_activity WHERE backend_type = "
                                     "'client backend' AND pid <> pg_backend_pid()") +
                         (any ? "" : " AND backend_xid IS NOT NULL"));
        if (pid > 0) return {pid, !any};
        REQUIRE(seconds_since(t0) < 10.0 * kSlowdown); // the writers stopped connecting?
    }
}

} // namespace

TEST_CASE("PostgreSQL: SIGKILL of writers at random instants loses nothing committed (durability full)",
          "[crash][concurrency][postgres]") {
    pg_kills("full", (kills_per_backend() + 1) / 2);
}

TEST_CASE("PostgreSQL: SIGKILL of writers at random instants loses nothing committed (durability normal)",
          "[crash][concurrency][postgres]") {
    pg_kills("normal", kills_per_backend() / 2);
}

TEST_CASE("PostgreSQL: connections cut in the middle of write transactions", "[crash][concurrency][postgres]") {
    fault_rounds("cut", env_int("SPR_PG_CUTS", 10), 3, 2, 100, 30.0, [](PgCluster &pg) {
        // Every writer's connection, the moment one of them is inside a write
        // transaction that has written; all of them after 1 s at the latest.
        const auto t0 = std::chrono::steady_clock::now();
        for (;;) {
            const bool force = seconds_since(t0) > 1.0;
            std::string r = pg.query(
                "WITH a AS MATERIALIZED (SELECT pid, backend_xid FROM pg_stat_activity "
                "  WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()), "
                "w AS (SELECT count(*) AS n FROM a WHERE backend_xid IS NOT NULL) "
                "SELECT (SELECT n FROM w) || ' ' || count(*) FROM a "
                "WHERE CASE WHEN (SELECT n FROM w) > 0 OR " +
                std::string(force ? "true" : "false") + " THEN pg_terminate_backend(pid) ELSE false END");
            long long writing = 0, ended = 0;
            std::istringstream(r) >> writing >> ended;
            if (ended > 0) return Injected{static_cast<int>(ended), writing > 0, seconds_since(t0)};
            REQUIRE(seconds_since(t0) < 10.0 * kSlowdown); // the writers stopped connecting?
        }
    });
}

TEST_CASE("PostgreSQL: server restarted (immediate stop) under writers", "[crash][concurrency][postgres]") {
    fault_rounds("restart", env_int("SPR_PG_RESTARTS", 5), 2, 1, 200, 60.0, [](PgCluster &pg) {
        int clients = static_cast<int>(pg.client_backends());
        bool writing = pg.query_int("SELECT count(*) FROM pg_stat_activity WHERE backend_xid IS NOT NULL "
                                    "AND backend_type = 'client backend'") > 0;
        double down = pg.restart();
        return Injected{clients, writing, down};
    });
}

TEST_CASE("PostgreSQL: a server process killed inside a write transaction (crash recovery)",
          "[crash][concurrency][postgres]") {
    fault_rounds("backendkill", env_int("SPR_PG_BACKEND_KILLS", 5), 2, 1, 100, 60.0, [](PgCluster &pg) {
        // The postmaster then ends every connection and recovers from WAL.
        Target t = writer_backend(pg);
        int clients = static_cast<int>(pg.client_backends());
        INFO("kill -9 " << t.pid);
        REQUIRE(kill(static_cast<pid_t>(t.pid), SIGKILL) == 0);
        return Injected{clients, t.in_write, 0};
    });
}
