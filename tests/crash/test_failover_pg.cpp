// PostgreSQL failover (docs/faults.md, docs/backends.md): a primary and a
// synchronous streaming-replication standby on this machine
// (scripts/pg-cluster.sh). Writers (crash_writer.cpp) record and commit
// rollbacks through the multi-host URI with target_session_attrs=read-write;
// at a random instant the primary is SIGKILLed, the standby promoted, and the
// old primary rebuilt (pg_rewind) as the new standby. Every writer must then
// go on by itself: reconnect to the new primary, retry what was in flight
// with the same requestId, and confirm new writes within a deadline.
//
// After each failover (writers stopped): every check of fault_check.hpp —
// gap-free, one current version, every version reads back and verifies
// (secrets reveal), every write a writer was told succeeded is present
// (synchronous replication), no requestId produced two versions; the writers
// saw only SPR_E_IO / SPR_E_BUSY; and a write sent to the standby alone is a
// clean SPR_E_IO naming the read-only server, with nothing written.
//
// Environment: SPR_PG_FAILOVERS (default 5), SPR_CRASH_SEED,
// SPR_PG_HA_PORT (the nodes' socket names, default 5451 and 5452),
// SPR_FAULT_SUMMARY.
#include "fault_check.hpp"
#include "pg_cluster.hpp"

#include <libpq-fe.h>

#include <regex>

using namespace spr_test;

namespace {

// The two-node cluster of scripts/pg-cluster.sh in a fresh /tmp directory.
class PgPair : public ScriptedServer {
public:
    PgPair()
        : ScriptedServer("pg-cluster.sh", "spr-ha", std::to_string(env_int("SPR_PG_HA_PORT", 5451)) + " sync",
                         "a two-node PostgreSQL cluster"),
          port_(env_int("SPR_PG_HA_PORT", 5451)) {
        REQUIRE(uri().find("target_session_attrs=read-write") != std::string::npos);
    }
    // A fresh, empty store: a new schema on the primary, and the multi-host
    // URI that makes it current.
    std::string fresh_store(const std::string &schema) {
        exec(uri(), "DROP SCHEMA IF EXISTS " + schema + " CASCADE; CREATE SCHEMA " + schema);
        return uri() + "&options=-csearch_path%3D" + schema;
    }
    // The same store through one node only (no target_session_attrs).
    std::string node_store(const std::string &node, const std::string &schema) const {
        return "postgresql:///postgres?host=" + dir() + "/" + node + "&port=" +
               std::to_string(node == "a" ? port_ : port_ + 1) + "&user=postgres&options=-csearch_path%3D" + schema;
    }
    std::string primary() {
        std::string out;
        REQUIRE(script("primary", out) == 0);
        return last_line(out);
    }

    struct Failover {
        double seconds = 0;  // kill to a streaming standby again (commits return)
        double writable = 0; // kill to the promoted node accepting writes
        std::string line;
    };
    Failover failover() {
        std::string out;
        int rc = script("failover", out);
        INFO("pg-cluster.sh failover: " << out);
        REQUIRE(rc == 0);
        Failover f;
        std::smatch m;
        REQUIRE(std::regex_search(out, m, std::regex(R"(failover: (\d+) ms \(writes possible after (\d+) ms\)[^\n]*)")));
        f.line = m[0];
        f.seconds = std::stod(m[1]) / 1000.0;
        f.writable = std::stod(m[2]) / 1000.0;
        return f;
    }

private:
    static void exec(const std::string &uri, const std::string &sql) {
        PGconn *c = PQconnectdb(uri.c_str());
        INFO("connect " << uri << ": " << PQerrorMessage(c));
        REQUIRE(PQstatus(c) == CONNECTION_OK);
        PGresult *r = PQexec(c, sql.c_str());
        const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
        INFO(sql << ": " << PQresultErrorMessage(r));
        PQclear(r);
        PQfinish(c);
        REQUIRE(ok);
    }
    int port_ = 0;
};

// A write through the standby alone is refused cleanly: SPR_E_IO naming the
// read-only server (or, if even opening needs a write, the open fails so),
// and nothing is written.
void require_standby_refuses(PgPair &pg, const std::string &schema, const std::string &options,
                             const std::string &location) {
    const std::string standby = pg.primary() == "a" ? "b" : "a";
    const std::int64_t before = Store(location, options).version_count("crash");
    spr_store *h = nullptr;
    int rc = spr_open(pg.node_store(standby, schema).c_str(), options.c_str(), &h);
    if (rc == SPR_OK) {
        char *out = nullptr;
        rc = spr_record(h, "crash", data("shop_v1.json").c_str(), nullptr, &out);
        spr_free(out);
    }
    const std::string error = spr_last_error();
    spr_close(h);
    INFO("a write through the standby (" << standby << "): " << error);
    REQUIRE(rc == SPR_E_IO);
    REQUIRE(contains(error, "read-only"));
    REQUIRE(Store(location, options).version_count("crash") == before);
}

} // namespace

TEST_CASE("PostgreSQL: primary failover to a synchronous standby under writers loses nothing acknowledged",
          "[failover][concurrency]") {
    const int failovers = env_int("SPR_PG_FAILOVERS", 5);
    const std::uint64_t seed = campaign_seed();
    INFO("SPR_CRASH_SEED=" << seed << ", failovers " << failovers);
    std::mt19937_64 rng(seed);
    const auto t0 = std::chrono::steady_clock::now();
    PgPair pg;
    TempDir dir;
    const std::string options = key_options(R"("busyTimeoutMs": 10000, "durability": "full")");
    const std::string schema = "ha";
    const std::string location = pg.fresh_store(schema);
    Confirmed confirmed;
    std::int64_t verified_upto = 0;
    Totals t;
    double slowest = 0, slowest_writable = 0;
    for (int round = 0; round < failovers; ++round) {
        std::vector<Writer> ws;
        ReapOnExit reap(ws);
        for (int w = 0; w < 4; ++w) {
            const std::string tag = "ha" + std::to_string(round) + "w" + std::to_string(w);
            ws.push_back(start_writer(location, options, dir.file("confirmed." + tag), tag));
        }
        require_progress(ws, std::vector<int>(ws.size(), 0), 1, 30.0 * kSlowdown, "start");
        std::uniform_int_distribution<int> delay_ms(0, 500);
        std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
        const std::string old = pg.primary();
        PgPair::Failover f = pg.failover();
        INFO("round " << round << ": " << f.line);
        REQUIRE(pg.primary() != old);
        slowest = std::max(slowest, f.seconds);
        slowest_writable = std::max(slowest_writable, f.writable);
        // Every writer goes on by itself: two more confirmed writes each.
        require_progress(ws, progress(ws), 2, 60.0 * kSlowdown, "failover");
        stop_writers(ws);
        for (const Writer &w : ws) read_report(w.report, confirmed);
        INFO("after failover " << round << ": " << confirmed.max << " confirmed; errors: "
                               << errors_text(confirmed.errors));
        REQUIRE(confirmed.fatals.empty());
        require_only_transient(confirmed);
        t.reads += verify_store(location, options, confirmed, verified_upto);
        require_standby_refuses(pg, schema, options, location);
    }
    t.add(confirmed, verified_upto);
    // Not vacuous: the failovers hit the writers, and they recovered.
    if (failovers > 0) {
        REQUIRE(t.error_total() > 0);
        REQUIRE(t.recovered > 0);
    }
    std::ostringstream line;
    line << "postgres failover (synchronous standby): " << failovers << " failovers, " << seconds_since(t0)
         << " s; slowest failover " << slowest << " s (writable after " << slowest_writable
         << " s at worst); longest a writer waited " << t.recovery_ms_max << " ms; " << t.text();
    summary(line.str());
}
