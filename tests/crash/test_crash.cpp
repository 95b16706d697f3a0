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
    if (kills == 0) return; // SPR_CRASH_KILLS=0 or 1
    const auto t0 = std::chrono::steady_clock::now();
    TempDir dir;
    const std::string options = key_options(R"("busyTimeoutMs": 30000, "durability": ")" + durability + "\"");
    auto new_store = [&](const std::string &name) { return dir.file(name + ".db"); };
    auto check = [&](const std::string &path, const Confirmed &confirmed, std::int64_t &verified_upto) {
        if (!fs::exists(path)) { // killed before the store file was created
            REQUIRE(confirmed.max == 0);
            return std::int64_t{0};
        }
        REQUIRE(sqlite_integrity_check(path) == "ok");
        std::int64_t reads = verify_store(path, options, confirmed, verified_upto);
        REQUIRE(sqlite_integrity_check(path) == "ok");
        return reads;
    };
    int rounds = 0;
    Totals t = kill_campaign("SQLite, durability " + durability, kills, options, dir, new_store, check, rounds);
    std::ostringstream line;
    line << "sqlite kill durability=" << durability << ": " << kills << " SIGKILLs in " << rounds << " rounds, "
         << seconds_since(t0) << " s; " << t.text();
    summary(line.str());
}

} // namespace

TEST_CASE("SQLite: SIGKILL at random instants loses nothing committed (durability full)",
          "[crash][concurrency][sqlite]") {
    crash_loop("full", (kills_per_backend() + 1) / 2);
}

TEST_CASE("SQLite: SIGKILL at random instants loses nothing committed (durability normal)",
          "[crash][concurrency][sqlite]") {
    crash_loop("normal", kills_per_backend() / 2);
}
