// Crash safety on SQLite: a writer (or two at once) is killed with SIGKILL at
// random instants; after every kill the file must pass SQLite's
// integrity_check, open, and pass every check of fault_check.hpp (gap-free
// numbering, one current version, every version reads back and verifies,
// nothing confirmed lost, no duplicate).
//
// Environment: SPR_CRASH_KILLS (kills in all, split over the two durability
// modes; default 100, 24 in sanitizer builds), SPR_CRASH_SEED (random seed,
// default: random; printed on failure). The PostgreSQL campaign is in
// test_faults_pg.cpp; docs/faults.md describes both.
#include <boost/json/src.hpp> // Boost.JSON, header-only, once per executable

#include "fault_check.hpp"
#include "multiprocess/sqlite_check.hpp"

using namespace spr_test;

namespace {

void crash_loop(const std::string &durability, int kills) {
    const std::uint64_t seed = campaign_seed();
    INFO("SQLite, durability " << durability << ", SPR_CRASH_SEED=" << seed << ", kills " << kills);
    std::mt19937_64 rng(seed);
    const auto t0 = std::chrono::steady_clock::now();

    TempDir dir;
    const std::string path = dir.file("crash.db");
    const std::string options = key_options(R"("busyTimeoutMs": 30000, "durability": ")" + durability + "\"");
    Confirmed confirmed;
    std::int64_t verified_upto = 0, reads = 0;
    int done = 0;
    for (int round = 0; done < kills; ++round) {
        // Every third round two writers at once, killed independently.
        const int writers = round % 3 == 2 ? 2 : 1;
        std::vector<Writer> ws;
        for (int w = 0; w < writers; ++w) {
            const std::string tag = "r" + std::to_string(round) + "w" + std::to_string(w);
            ws.push_back(start_writer(path, options, dir.file("confirmed." + tag), tag));
        }
        for (const Writer &w : ws) {
            // Random instant: early ones hit open and schema creation, later ones writes.
            // Sanitizer builds write several times slower: stretch the window so the
            // writers still get work done between kills.
            std::uniform_int_distribution<int> delay_us(0, kSlowdown * (round == 0 ? 20000 : 150000));
            std::this_thread::sleep_for(std::chrono::microseconds(delay_us(rng)));
            int status = 0;
            pid_t r = waitpid(w.pid, &status, WNOHANG);
            INFO("round " << round << ": the writer must still be running (its stderr is above): "
                          << read_file_if_exists(w.report));
            REQUIRE(r == 0);
            REQUIRE(kill(w.pid, SIGKILL) == 0);
            REQUIRE(waitpid(w.pid, &status, 0) == w.pid);
            REQUIRE(WIFSIGNALED(status));
            ++done;
        }
        for (const Writer &w : ws) read_report(w.report, confirmed);
        INFO("after round " << round << " (" << done << " kills), " << confirmed.max << " confirmed");
        INFO("fatal: " << (confirmed.fatals.empty() ? "none" : confirmed.fatals.front()));
        REQUIRE(confirmed.fatals.empty());
        // A killed writer never makes another one fail on SQLite: no error at all.
        INFO("errors: " << errors_text(confirmed.errors));
        REQUIRE(confirmed.errors.empty());
        if (!fs::exists(path)) { // killed before the store file was created
            REQUIRE(confirmed.max == 0);
            continue;
        }
        REQUIRE(sqlite_integrity_check(path) == "ok");
        reads += verify_store(path, options, confirmed, verified_upto);
        REQUIRE(sqlite_integrity_check(path) == "ok");
    }
    // Not vacuous: the writers got real work done between kills.
    REQUIRE(confirmed.records.size() >= static_cast<std::size_t>(kills));
    REQUIRE_FALSE(confirmed.rollbacks.empty());
    WARN("SQLite durability " << durability << ": " << done << " SIGKILLs in " << seconds_since(t0) << " s; "
                              << confirmed.records.size() << " records, " << confirmed.rollbacks.size()
                              << " rollbacks, " << confirmed.active.size() << " statuses confirmed; "
                              << verified_upto << " versions, " << reads
                              << " version reads verified; writer errors: " << errors_text(confirmed.errors));
}

} // namespace

TEST_CASE("SQLite: SIGKILL at random instants loses nothing committed (durability full)",
          "[crash][concurrency][sqlite]") {
    crash_loop("full", (kills_per_backend() + 1) / 2);
}

TEST_CASE("SQLite: SIGKILL at random instants loses nothing committed (durability normal)",
          "[crash][concurrency][sqlite]") {
    crash_loop("normal", std::max(1, kills_per_backend() / 2));
}
