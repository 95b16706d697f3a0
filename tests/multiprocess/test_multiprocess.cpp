// Several processes write one store (a SQLite file or a PostgreSQL schema) at once (same spinner, distinct
// states, retried requestIds across processes). Afterwards the history must be
// gap-free with exactly one current version, every version must read back, no
// retried request may have created a duplicate, and SQLite's integrity check
// must pass.
#include <boost/json/src.hpp> // Boost.JSON, header-only, once per executable

#include "capi/capi_support.hpp"
#include "multiprocess/children.hpp"
#include "multiprocess/sqlite_check.hpp"

#include <spawn.h>
#include <atomic>
#include <thread>
#include <sys/wait.h>

#include <map>
#include <set>

extern char **environ;

using namespace spr_test;

namespace {

struct Report {
    std::string request_id;
    std::int64_t number;
    std::string outcome;
};

pid_t spawn(const std::vector<std::string> &args) {
    std::vector<char *> argv;
    for (const auto &a : args) argv.push_back(const_cast<char *>(a.c_str()));
    argv.push_back(nullptr);
    pid_t pid = 0;
    int rc = posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ);
    REQUIRE(rc == 0);
    return pid;
}

// A worker's exit code; one still running after 10 minutes is hung: killed, and the test fails.
int wait_exit(pid_t pid) {
    const ChildExit e = wait_child(pid, std::chrono::steady_clock::now(), std::chrono::minutes(10));
    REQUIRE_FALSE(e.hung);
    return e.code();
}

struct RoundOptions {
    bool precreate = true; // the store file exists before the workers start
    bool reopen = false;   // workers reopen the store before every request
};

// Runs `workers` processes with `count` own requests each (and a retry of
// each of their neighbour's requests) on one store file, then checks it.
void run_round(TempDir &dir, const std::string &name, int workers, int count, RoundOptions opt) {
    const std::string store_path = dir.store(name);
    if (opt.precreate) Store create(store_path, key_options());
    std::vector<pid_t> pids;
    std::vector<std::string> reports;
    for (int w = 0; w < workers; ++w) {
        reports.push_back(dir.file(name + "-worker-" + std::to_string(w) + ".txt"));
        std::vector<std::string> args{SPR_MP_WORKER, store_path, std::to_string(w), std::to_string(workers),
                                      std::to_string(count), reports.back()};
        if (opt.reopen) args.push_back("reopen");
        pids.push_back(spawn(args));
    }
    for (int w = 0; w < workers; ++w) {
        INFO("worker " << w << " (see its stderr above)");
        REQUIRE(wait_exit(pids[w]) == 0);
    }

    // What the workers were told.
    std::map<std::string, std::set<std::int64_t>> by_request;
    std::set<std::string> rollbacks;
    for (const auto &r : reports) {
        std::istringstream in(read_file(r));
        std::string rid, outcome;
        std::int64_t n;
        while (in >> rid >> n >> outcome) {
            REQUIRE((outcome == "created" || outcome == "rollback"));
            if (outcome == "rollback") rollbacks.insert(rid);
            by_request[rid].insert(n);
        }
    }
    // Every record was answered; each committed rollback is one more version.
    const std::size_t records = static_cast<std::size_t>(workers) * static_cast<std::size_t>(count);
    const std::size_t total = records + rollbacks.size();
    REQUIRE(by_request.size() == total);
    if (count >= 10) REQUIRE(rollbacks.size() >= 1);
    std::set<std::int64_t> numbers;
    std::map<std::int64_t, std::string> request_of;
    for (const auto &[rid, ns] : by_request) {
        INFO("requestId " << rid << " was answered with " << ns.size() << " different numbers");
        REQUIRE(ns.size() == 1); // the retry got the first result
        REQUIRE(numbers.insert(*ns.begin()).second);
        request_of[*ns.begin()] = rid;
    }
    REQUIRE(*numbers.begin() == 1);
    REQUIRE(*numbers.rbegin() == static_cast<std::int64_t>(total));

    // What the store holds.
    Store store(store_path, key_options());
    json::array vs = store.versions("shared");
    REQUIRE(vs.size() == total); // no duplicates
    REQUIRE(check_history_shape(vs) == static_cast<std::int64_t>(total));
    json::value info = store.info("shared");
    REQUIRE(num(info, "versionsCreated") == static_cast<std::int64_t>(total));
    REQUIRE(num(info, "currentVersion") == static_cast<std::int64_t>(total));
    for (const auto &v : vs) {
        std::int64_t n = num(v, "number");
        json::value g = store.get("shared", n, true);
        INFO("version " << n);
        const bool rollback = rollbacks.count(request_of[n]) == 1;
        REQUIRE(str(v, "reason") == (rollback ? "rollback" : "deploy"));
        // A rollback to v1 holds v1's state.
        REQUIRE(g.at("state").at("containers").at(0).at("codeVersion").as_string() ==
                (rollback ? request_of[1] : request_of[n]));
        REQUIRE(g.at("state").at("secrets").at("db").at("password").as_string() == kSecretV1);
        REQUIRE(str(g, "digest") == str(v, "digest"));
    }
    if (!spr_backend::is_pg(store_path)) REQUIRE(sqlite_integrity_check(store_path) == "ok");
}

} // namespace

TEST_CASE("4 processes record on one store file: gap-free, one current, no duplicates",
          "[multiprocess][concurrency]") {
    TempDir dir;
    int count = 25;
    if (const char *e = std::getenv("SPR_MP_COUNT")) count = std::max(1, std::atoi(e));
    run_round(dir, "main", 4, count, {});
}

TEST_CASE("4 processes reopening the store between writes", "[multiprocess][concurrency]") {
    TempDir dir;
    run_round(dir, "reopen", 4, 10, {true, true});
}

// Hosts start together (e.g. after a reboot) and open a store that does not
// exist yet: every open must succeed within busyTimeoutMs.
TEST_CASE("processes opening a fresh store at the same instant", "[multiprocess][concurrency][fresh-open]") {
    TempDir dir;
    for (int round = 0; round < 100; ++round) {
        INFO("round " << round);
        run_round(dir, "fresh-" + std::to_string(round), 4, 1, {false, false});
    }
}

// Compare-and-set across processes: for every expected current version at
// most one write wins (and makes exactly the next number); every other
// attempt for it is a conflict that wrote nothing.
TEST_CASE("expectedCurrent: racing processes, exactly one winner per expected version",
          "[multiprocess][concurrency][cas]") {
    TempDir dir;
    const std::string store_path = dir.store("cas");
    {
        Store first(store_path, key_options());
        first.record("race", data("shop_v1.json"));
        // The rollbacks' target: pinned, so retention (historyLimit 20) keeps it.
        char *out = nullptr;
        SPR_REQUIRE_OK(spr_tag(first.get(), "race", 1, R"({"name":"golden"})", &out));
        spr_free(out);
    }
    const int workers = 4, count = 30;
    std::vector<pid_t> pids;
    std::vector<std::string> reports;
    for (int w = 0; w < workers; ++w) {
        reports.push_back(dir.file("cas-" + std::to_string(w) + ".txt"));
        pids.push_back(spawn({SPR_CAS_WORKER, store_path, std::to_string(w), std::to_string(count), reports.back()}));
    }
    for (int w = 0; w < workers; ++w) {
        INFO("cas worker " << w << " (see its stderr above)");
        REQUIRE(wait_exit(pids[w]) == 0);
    }
    std::map<std::int64_t, int> wins_for;   // expected version -> winners
    std::map<std::int64_t, int> losses_for; // expected version -> conflicts
    std::set<std::int64_t> made;
    for (const auto &r : reports) {
        std::istringstream in(read_file(r));
        std::string word;
        while (in >> word) {
            std::int64_t expected = 0;
            in >> expected;
            if (word == "win") {
                std::int64_t n = 0;
                std::string rid;
                in >> n >> rid;
                INFO("a write expecting version " << expected << " made version " << n);
                REQUIRE(n == expected + 1);
                REQUIRE(made.insert(n).second);
                ++wins_for[expected];
            } else {
                REQUIRE(word == "lose");
                ++losses_for[expected];
            }
        }
    }
    for (const auto &[expected, wins] : wins_for) REQUIRE(wins == 1);
    std::size_t races = 0; // expected versions that more than one process tried
    for (const auto &[expected, losses] : losses_for) {
        INFO("expected " << expected);
        REQUIRE(wins_for.count(expected) == 1); // someone else moved it: it was won
        if (losses > 0) ++races;
    }
    REQUIRE(races > 0); // the processes did race
    REQUIRE(*made.rbegin() == static_cast<std::int64_t>(made.size() + 1)); // gap-free from 2
    Store store(store_path, key_options());
    // Version 1, plus exactly one version per win: the losers wrote nothing.
    json::value info = store.info("race");
    REQUIRE(num(info, "versionsCreated") == static_cast<std::int64_t>(made.size() + 1));
    REQUIRE(num(info, "currentVersion") == static_cast<std::int64_t>(made.size() + 1));
    json::array vs = store.versions("race");
    REQUIRE(num(vs.back(), "number") == 1); // the tagged target outlived retention
    REQUIRE(vs.size() == 22);               // current + historyLimit 20 + the tagged one
}

// The outbox under load: 4 processes write while 2 readers follow with
// spr_events_wait. Every reader sees every event exactly once, in seq order,
// with no gap, and one version.created event per version.
TEST_CASE("events: readers following 4 writing processes see every event once, in order",
          "[multiprocess][concurrency][events]") {
    TempDir dir;
    const std::string store_path = dir.store("events");
    { Store create(store_path, key_options()); }
    std::atomic<bool> writers_done{false};
    std::string errors[2]; // Catch2 assertions are for the main thread: readers record
    auto follow = [&](std::vector<std::int64_t> &seqs, std::vector<std::string> &created, std::string &error) {
        spr_store *reader = nullptr;
        if (spr_open(store_path.c_str(), key_options().c_str(), &reader) != SPR_OK) {
            error = std::string("spr_open: ") + spr_last_error();
            return;
        }
        std::int64_t after = 0;
        for (;;) {
            const bool last_pass = writers_done.load();
            char *out = nullptr;
            if (spr_events_wait(reader, after, 200, &out) != SPR_OK) {
                error = std::string("spr_events_wait: ") + spr_last_error();
                spr_close(reader);
                return;
            }
            json::value page = json::parse(out);
            spr_free(out);
            for (const auto &e : page.at("events").as_array()) {
                seqs.push_back(e.at("seq").to_number<std::int64_t>());
                if (e.at("type").as_string() == "version.created")
                    created.push_back(std::to_string(e.at("version").to_number<std::int64_t>()));
            }
            after = page.at("next").to_number<std::int64_t>();
            if (last_pass && page.at("events").as_array().empty()) break;
        }
        spr_close(reader);
    };
    std::vector<std::int64_t> seqs[2];
    std::vector<std::string> created[2];
    std::thread r0([&] { follow(seqs[0], created[0], errors[0]); });
    std::thread r1([&] { follow(seqs[1], created[1], errors[1]); });
    const int workers = 4, count = 10;
    std::vector<pid_t> pids;
    for (int w = 0; w < workers; ++w)
        pids.push_back(spawn({SPR_MP_WORKER, store_path, std::to_string(w), std::to_string(workers),
                              std::to_string(count), dir.file("events-worker-" + std::to_string(w) + ".txt")}));
    int failed = 0;
    for (pid_t p : pids) failed += wait_exit(p) != 0;
    writers_done = true;
    r0.join();
    r1.join();
    REQUIRE(failed == 0);
    REQUIRE(errors[0].empty());
    REQUIRE(errors[1].empty());

    Store store(store_path, key_options());
    const std::int64_t versions = num(store.info("shared"), "versionsCreated");
    REQUIRE(versions >= workers * count);
    for (int r = 0; r < 2; ++r) {
        INFO("reader " << r);
        REQUIRE(!seqs[r].empty());
        for (std::size_t i = 0; i < seqs[r].size(); ++i) REQUIRE(seqs[r][i] == static_cast<std::int64_t>(i + 1));
        REQUIRE(created[r].size() == static_cast<std::size_t>(versions)); // one per version, none twice
    }
    REQUIRE(seqs[0] == seqs[1]);
}
