// Power loss on SQLite (docs/faults.md, "Power loss"). A writer
// (crash_writer.cpp built with powercut_vfs.cpp) runs the store through the
// test VFS "powercut" (`file:PATH?vfs=powercut`), which at a random I/O
// operation drops, reorders and tears at sector granularity everything not
// yet synced, and kills the process. Then the store is reopened through the
// ordinary library and checked:
//
//   - SQLite's integrity_check is ok;
//   - every check of fault_check.hpp: gap-free numbering, one current
//     version, every version reads back and verifies (digests, secrets),
//     no duplicate, the event outbox gap-free with one event per version;
//   - durability "full": every write the writer was told succeeded is there;
//   - durability "normal": what is missing is only a suffix of the newest
//     acknowledged writes of that writer (never anything an earlier check
//     saw, never a hole), and is counted.
//
// Environment: SPR_POWER_CUTS (cuts in all, three in four at full; default
// 1000, 200 in sanitizer builds), SPR_CRASH_SEED, SPR_FAULT_SUMMARY.
#include "fault_check.hpp"
#include "multiprocess/sqlite_check.hpp"

#include <spawn.h>

#include <cstring>

using namespace spr_test;

namespace {

// The cut falls on one of the writer's first max_ops I/O operations. At
// durability full that is an open and about a dozen writes. At normal, SQLite
// syncs the WAL only when it checkpoints (every 1000 WAL pages, some hundred
// writes): everything after the last checkpoint is at risk, so the rounds are
// long enough to pass one now and then, and the loss is a true suffix.
// A fresh store file every rounds_per_file rounds keeps each check short.
struct Pace {
    long long max_ops;
    int rounds_per_file;
};
Pace pace_of(const std::string &durability) { return durability == "full" ? Pace{240, 10} : Pace{6000, 3}; }

pid_t start_powercut_writer(const std::string &location, const std::string &options, const std::string &report,
                            const std::string &tag, long long at, std::uint64_t seed) {
    std::vector<std::string> args{SPR_POWERCUT_WRITER, location, options, report, tag};
    std::vector<std::string> env{"SPR_POWERCUT_AT=" + std::to_string(at), "SPR_POWERCUT_SEED=" + std::to_string(seed)};
    for (char **e = environ; *e; ++e)
        if (std::strncmp(*e, "SPR_POWERCUT_", 13) != 0) env.emplace_back(*e);
    std::vector<char *> argv, envp;
    for (auto &a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto &e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    pid_t pid = 0;
    REQUIRE(posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), envp.data()) == 0);
    return pid;
}

// One durability mode's store and what its writers were told.
struct Lane {
    std::string durability;
    std::string path;
    int file = 0, rounds = 0, cuts = 0;
    Confirmed confirmed;
    std::int64_t verified_upto = 0;
    std::int64_t lost = 0, lost_rounds = 0, lost_max = 0; // acknowledged writes missing after a cut
    Totals totals;
};

// Drops what the writers were told about versions above `newest` (lost by
// the cut: only allowed at durability normal), so later rounds, which
// number from `newest`, are not confused with them. Returns how many.
std::int64_t forget_after(Confirmed &c, std::int64_t newest) {
    std::int64_t n = 0;
    n += static_cast<std::int64_t>(std::erase_if(c.records, [&](const auto &r) { return r.first > newest; }));
    n += static_cast<std::int64_t>(std::erase_if(c.rollbacks, [&](const auto &r) { return r.first > newest; }));
    std::erase_if(c.active, [&](std::int64_t v) { return v > newest; });
    c.max = std::min(c.max, newest);
    return n;
}

void power_cut_round(Lane &lane, TempDir &dir, std::mt19937_64 &rng) {
    const Pace pace = pace_of(lane.durability);
    if (lane.rounds % pace.rounds_per_file == 0) {
        if (lane.rounds > 0) lane.totals.add(lane.confirmed, lane.verified_upto);
        lane.path = dir.file(lane.durability + "-" + std::to_string(lane.file++) + ".db");
        lane.confirmed = Confirmed{};
        lane.verified_upto = 0;
    }
    const std::string options =
        key_options(R"("busyTimeoutMs": 10000, "durability": ")" + lane.durability + "\"");
    const long long at = std::uniform_int_distribution<long long>(1, pace.max_ops)(rng);
    const std::uint64_t seed = rng();
    const std::string tag = lane.durability.substr(0, 1) + std::to_string(lane.rounds);
    const std::string report = dir.file("confirmed." + tag);
    INFO("durability " << lane.durability << ", round " << lane.rounds << ": SPR_POWERCUT_AT=" << at
                       << " SPR_POWERCUT_SEED=" << seed << ", store " << lane.path);
    pid_t pid = start_powercut_writer("file:" + lane.path + "?vfs=powercut", options, report, tag, at, seed);
    auto st = wait_for(pid, 60.0 * kSlowdown);
    if (!st) {
        kill(pid, SIGKILL);
        waitpid(pid, nullptr, 0);
        FAIL("the writer did not reach its power cut within " << 60 * kSlowdown << " s: " << read_file_if_exists(report));
    }
    INFO("writer: " << read_file_if_exists(report));
    REQUIRE((WIFSIGNALED(*st) && WTERMSIG(*st) == SIGKILL)); // the cut, not an error
    ++lane.cuts;
    ++lane.rounds;

    Confirmed &c = lane.confirmed;
    read_report(report, c);
    REQUIRE(c.fatals.empty());
    REQUIRE(c.error_total() == 0); // one writer, no contention: nothing transient either
    const std::string integrity = sqlite_integrity_check(lane.path);
    REQUIRE(integrity == "ok");
    std::int64_t newest = 0;
    std::string newest_status;
    {
        Store store(lane.path, options);
        if (store.version_count("crash") > 0) {
            json::value v = store.versions("crash").front();
            newest = num(v, "number");
            newest_status = str(v, "status");
        }
    }
    std::int64_t missing = c.max > newest ? forget_after(c, newest) : 0;
    // The writer marks a version active right after recording it: when that
    // was the last transaction to survive but one, the mark is the lost suffix.
    if (c.active.count(newest) && newest_status == "pending") {
        c.active.erase(newest);
        ++missing;
    }
    if (lane.durability == "full") {
        INFO("acknowledged versions " << newest + 1 << ".." << c.max << " were lost at durability full");
        REQUIRE(missing == 0);
    }
    if (missing > 0) {
        ++lane.lost_rounds;
        lane.lost += missing;
        lane.lost_max = std::max(lane.lost_max, missing);
    }
    lane.totals.reads += verify_store(lane.path, options, c, lane.verified_upto);
}

} // namespace

TEST_CASE("SQLite: simulated power cuts lose nothing synced (durability full) and only the newest "
          "acknowledged writes (normal); never corruption",
          "[crash][sqlite][powerloss]") {
    const int cuts = env_int("SPR_POWER_CUTS", kSlowdown == 1 ? 1000 : 200);
    const std::uint64_t seed = campaign_seed();
    INFO("SPR_CRASH_SEED=" << seed);
    std::mt19937_64 rng(seed);
    const auto t0 = std::chrono::steady_clock::now();
    TempDir dir;
    Lane full{"full"}, normal{"normal"};
    // Three in four at full (short rounds), one at normal (long ones).
    for (int k = 0; k < cuts; ++k) power_cut_round(k % 4 == 3 ? normal : full, dir, rng);
    std::ostringstream line;
    for (Lane *l : {&full, &normal}) {
        l->totals.add(l->confirmed, l->verified_upto);
        line << "sqlite power cuts, durability " << l->durability << ": " << l->cuts << " cuts on " << l->file
             << " files; acknowledged writes lost: " << l->lost << " (in " << l->lost_rounds << " cuts, at most "
             << l->lost_max << " at once); " << l->totals.text() << "\n";
    }
    line << "sqlite power cuts: " << cuts << " in " << seconds_since(t0) << " s (SPR_CRASH_SEED=" << seed << ")";
    summary(line.str());
    // Not vacuous: the writers got work done between cuts.
    REQUIRE(full.totals.records + normal.totals.records >= static_cast<std::size_t>(cuts / 4));
}
