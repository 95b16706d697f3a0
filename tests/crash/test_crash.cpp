// Crash safety: a writer (or two at once) is killed with SIGKILL at random
// instants; after every kill the store must open and be consistent, and
// nothing the library confirmed to the writer may be lost.
//
// Environment: SPR_CRASH_KILLS (kills per durability mode, default 30),
// SPR_CRASH_SEED (random seed, default: random; printed on failure).
#include <boost/json/src.hpp> // Boost.JSON, header-only, once per executable

#include "capi/capi_support.hpp"
#include "multiprocess/sqlite_check.hpp"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>

#include <chrono>
#include <map>
#include <random>
#include <set>
#include <thread>

extern char **environ;

using namespace spr_test;

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr int kSlowdown = 8; // sanitizer builds write several times slower
#else
constexpr int kSlowdown = 1;
#endif

namespace {

pid_t spawn(const std::vector<std::string> &args) {
    std::vector<char *> argv;
    for (const auto &a : args) argv.push_back(const_cast<char *>(a.c_str()));
    argv.push_back(nullptr);
    pid_t pid = 0;
    REQUIRE(posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ) == 0);
    return pid;
}

struct Confirmed {
    std::map<std::int64_t, std::pair<std::string, std::string>> records; // number -> code, secret
    std::map<std::int64_t, std::int64_t> rollbacks;                     // number -> target
    std::set<std::int64_t> active;                                      // set_status active confirmed
    std::int64_t max = 0;
};

// Complete lines only: a line without its newline was not confirmed yet.
void read_reports(const std::string &file, Confirmed &c) {
    std::string text = read_file_if_exists(file);
    std::size_t start = 0, nl;
    while ((nl = text.find('\n', start)) != std::string::npos) {
        std::istringstream line(text.substr(start, nl - start));
        start = nl + 1;
        std::int64_t n = 0;
        std::string kind;
        line >> n >> kind;
        if (kind == "record") {
            std::string code, secret;
            line >> code >> secret;
            REQUIRE(c.records.emplace(n, std::make_pair(code, secret)).second);
        } else if (kind == "rollback") {
            std::int64_t target = 0;
            line >> target;
            REQUIRE(c.rollbacks.emplace(n, target).second);
        } else if (kind == "status") {
            c.active.insert(n);
        } else {
            FAIL("bad report line in " << file);
        }
        c.max = std::max(c.max, n);
    }
}

std::string code_of(const json::value &detail) {
    return std::string(detail.at("state").at("containers").at(0).at("codeVersion").as_string());
}
std::string secret_of(const json::value &detail) {
    return std::string(detail.at("state").at("secrets").at("db").at("password").as_string());
}

// Everything the test asserts about the store after a crash.
void verify(const std::string &path, const std::string &durability, const Confirmed &c,
            std::int64_t &verified_upto) {
    Store store(path, key_options(R"("busyTimeoutMs": 10000, "durability": ")" + durability + "\""));
    if (c.max == 0 && store.version_count("crash") == 0) return; // killed before any write
    json::array vs = store.versions("crash");
    const std::int64_t newest = check_history_shape(vs); // gap-free, one current (the newest)
    REQUIRE(num(vs.back(), "number") == 1);               // nothing pruned: history starts at 1
    REQUIRE(num(store.info("crash"), "versionsCreated") == newest);
    REQUIRE(newest >= c.max); // nothing confirmed was lost ...
    REQUIRE(newest >= verified_upto); // ... nor anything seen by an earlier check

    // Every version reads back with its secrets (the digest is verified on read).
    std::map<std::int64_t, json::value> details;
    for (const auto &v : vs) {
        std::int64_t n = num(v, "number");
        std::string raw;
        int rc = store.try_get("crash", n, true, &raw);
        INFO("version " << n << ": " << spr_last_error());
        REQUIRE(rc == SPR_OK);
        json::value d = parse(raw);
        REQUIRE(str(d, "digest") == str(v, "digest"));
        details[n] = std::move(d);
    }
    // ... holding exactly what the writers were told.
    for (const auto &[n, cs] : c.records) {
        INFO("confirmed record " << n);
        REQUIRE(code_of(details.at(n)) == cs.first);
        REQUIRE(secret_of(details.at(n)) == cs.second);
        REQUIRE(str(details.at(n), "reason") != "rollback");
    }
    for (const auto &[n, target] : c.rollbacks) {
        INFO("confirmed rollback " << n << " to " << target);
        REQUIRE(num(details.at(n), "rollbackOf") == target);
        REQUIRE(code_of(details.at(n)) == code_of(details.at(target)));
        REQUIRE(secret_of(details.at(n)) == secret_of(details.at(target)));
    }
    for (std::int64_t n : c.active) {
        INFO("confirmed status of " << n);
        std::string s = str(details.at(n), "status");
        REQUIRE((s == "active" || s == "superseded"));
    }
    verified_upto = newest;
}

void crash_loop(const std::string &durability) {
    int kills = 30;
    if (const char *e = std::getenv("SPR_CRASH_KILLS")) kills = std::max(1, std::atoi(e));
    std::uint64_t seed = std::random_device{}();
    if (const char *e = std::getenv("SPR_CRASH_SEED")) seed = std::strtoull(e, nullptr, 10);
    INFO("durability " << durability << ", SPR_CRASH_SEED=" << seed << ", kills " << kills);
    std::mt19937_64 rng(seed);

    TempDir dir;
    const std::string path = dir.file("crash.db");
    Confirmed confirmed;
    std::int64_t verified_upto = 0;
    int done = 0;
    for (int round = 0; done < kills; ++round) {
        // Every third round two writers at once, killed independently.
        const int writers = round % 3 == 2 ? 2 : 1;
        std::vector<pid_t> pids;
        for (int w = 0; w < writers; ++w)
            pids.push_back(spawn({SPR_CRASH_WRITER, path, durability, dir.file("confirmed.txt." + std::to_string(round) + "." + std::to_string(w)),
                                  "r" + std::to_string(round) + "w" + std::to_string(w)}));
        for (pid_t pid : pids) {
            // Random instant: early ones hit open and schema creation, later ones writes.
            // Sanitizer builds write several times slower: stretch the window so the
            // writers still get work done between kills.
            std::uniform_int_distribution<int> delay_us(0, kSlowdown * (round == 0 ? 20000 : 150000));
            std::this_thread::sleep_for(std::chrono::microseconds(delay_us(rng)));
            int status = 0;
            pid_t r = waitpid(pid, &status, WNOHANG);
            INFO("round " << round << ": the writer must still be running (its stderr is above)");
            REQUIRE(r == 0);
            REQUIRE(kill(pid, SIGKILL) == 0);
            REQUIRE(waitpid(pid, &status, 0) == pid);
            REQUIRE(WIFSIGNALED(status));
            ++done;
        }
        for (int w = 0; w < writers; ++w)
            read_reports(dir.file("confirmed.txt." + std::to_string(round) + "." + std::to_string(w)), confirmed);
        INFO("after round " << round << " (" << done << " kills), " << confirmed.max << " confirmed");
        if (!fs::exists(path)) { // killed before the store file was created
            REQUIRE(confirmed.max == 0);
            continue;
        }
        REQUIRE(sqlite_integrity_check(path) == "ok");
        verify(path, durability, confirmed, verified_upto);
        REQUIRE(sqlite_integrity_check(path) == "ok");
    }
    // Not vacuous: the writers got real work done between kills.
    REQUIRE(confirmed.records.size() >= static_cast<std::size_t>(kills));
    REQUIRE_FALSE(confirmed.rollbacks.empty());
    WARN("durability " << durability << ": " << done << " kills, " << confirmed.records.size() << " records and "
                       << confirmed.rollbacks.size() << " rollbacks confirmed, " << verified_upto
                       << " versions verified");
}

} // namespace

TEST_CASE("SIGKILL at random instants loses nothing committed (durability full)", "[crash][concurrency]") {
    crash_loop("full");
}

TEST_CASE("SIGKILL at random instants loses nothing committed (durability normal)", "[crash][concurrency]") {
    crash_loop("normal");
}
