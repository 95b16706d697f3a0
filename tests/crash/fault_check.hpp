// What the fault tests share: starting and stopping writers (crash_writer.cpp),
// reading what they were told, and checking a store — a SQLite file or a
// PostgreSQL schema — after a fault:
//
//   - numbering gap-free from 1, exactly one current version (the newest),
//     versionsCreated equal to the newest number;
//   - every version reads back with its secrets revealed (the library verifies
//     digests and authenticates secrets on every read) and its digest matches
//     the listing;
//   - nothing a writer was told is committed is lost, and holds exactly what
//     the writer wrote (records: codeVersion and secret; rollbacks: target and
//     the target's content; statuses: active or since superseded);
//   - no duplicate: every version carries its requestId as message, and no
//     message appears twice (a retried requestId must return the first
//     result, never write again); each record's codeVersion appears once.
#pragma once

#include "capi/capi_support.hpp"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <thread>

extern char **environ;

namespace spr_test {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr int kSlowdown = 8; // sanitizer builds write several times slower
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr int kSlowdown = 8;
#else
constexpr int kSlowdown = 1;
#endif
#else
constexpr int kSlowdown = 1;
#endif

inline int env_int(const char *name, int fallback) {
    const char *e = std::getenv(name);
    return e && *e ? std::max(0, std::atoi(e)) : fallback;
}

// Kills per backend: SPR_CRASH_KILLS, else 100 (a quarter in sanitizer builds).
inline int kills_per_backend() { return env_int("SPR_CRASH_KILLS", kSlowdown == 1 ? 100 : 24); }

inline std::uint64_t campaign_seed() {
    if (const char *e = std::getenv("SPR_CRASH_SEED")) return std::strtoull(e, nullptr, 10);
    return std::random_device{}();
}

inline double seconds_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// ---- writers ------------------------------------------------------------------

struct Writer {
    pid_t pid = 0;
    std::string report; // its report file
    std::string tag;
};

inline Writer start_writer(const std::string &location, const std::string &options, const std::string &report,
                           const std::string &tag) {
    std::vector<std::string> args{SPR_CRASH_WRITER, location, options, report, tag};
    std::vector<char *> argv;
    for (const auto &a : args) argv.push_back(const_cast<char *>(a.c_str()));
    argv.push_back(nullptr);
    pid_t pid = 0;
    REQUIRE(posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ) == 0);
    return {pid, report, tag};
}

// Kills, when a round ends early (a failed check throws), the writers of
// that round still running, so that they do not outlive it: SIGKILL and
// reap each one that is still our running child (waitpid tells; a writer
// already reaped is not our child any more, whatever its pid became).
class ReapOnExit {
public:
    explicit ReapOnExit(const std::vector<Writer> &ws) : ws_(ws) {}
    ~ReapOnExit() {
        for (const auto &w : ws_) {
            int status = 0;
            if (w.pid > 0 && waitpid(w.pid, &status, WNOHANG) == 0) {
                kill(w.pid, SIGKILL);
                waitpid(w.pid, &status, 0);
            }
        }
    }
    ReapOnExit(const ReapOnExit &) = delete;
    ReapOnExit &operator=(const ReapOnExit &) = delete;

private:
    const std::vector<Writer> &ws_;
};

// waitpid with a deadline: the exit status, or nullopt if still running.
inline std::optional<int> wait_for(pid_t pid, double seconds) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    for (;;) {
        int status = 0;
        pid_t r = waitpid(pid, &status, WNOHANG);
        REQUIRE(r >= 0);
        if (r == pid) return status;
        if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
}

inline std::string describe_status(int status) {
    if (WIFEXITED(status)) return "exit " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) return std::string("signal ") + strsignal(WTERMSIG(status));
    return "status " + std::to_string(status);
}

// ---- what the writers were told ------------------------------------------------------

struct Confirmed {
    std::map<std::int64_t, std::pair<std::string, std::string>> records; // number -> code, secret
    std::map<std::int64_t, std::pair<std::int64_t, std::string>> rollbacks; // number -> target, requestId
    std::set<std::int64_t> active;                                          // set_status active confirmed
    std::int64_t max = 0;
    // Faults as the writers saw them.
    std::map<std::string, int> errors;    // "<op> <code name>" -> count
    std::map<std::string, int> messages;  // their messages (directories elided) -> count
    std::vector<std::string> fatals;      // whole lines
    int recovered = 0;                    // calls that succeeded after transient failures
    long long recovery_ms_max = 0;        // longest time from first failure to success
    int stopped = 0;                      // writers that honoured SIGTERM
    int error_total() const {
        int n = 0;
        for (const auto &[k, c] : errors) n += c;
        return n;
    }
};

// The "message" of a spr_last_error() JSON, with /tmp/... paths elided so
// that equal errors count together.
inline std::string error_message(const std::string &last_error) {
    std::string m;
    try {
        m = std::string(json::parse(last_error).at("message").as_string());
    } catch (const std::exception &) {
        return "(unparsable) " + last_error;
    }
    for (std::size_t p; (p = m.find("/tmp/")) != std::string::npos;) {
        std::size_t e = m.find_first_of("\" ", p);
        m.replace(p, (e == std::string::npos ? m.size() : e) - p, "DIR");
    }
    return m;
}

// Complete lines only: a line without its newline was not confirmed yet.
inline void read_report(const std::string &file, Confirmed &c) {
    std::string text = read_file_if_exists(file);
    std::size_t start = 0, nl;
    while ((nl = text.find('\n', start)) != std::string::npos) {
        const std::string whole = text.substr(start, nl - start);
        std::istringstream line(whole);
        start = nl + 1;
        std::string kind;
        line >> kind;
        std::int64_t n = 0;
        if (kind == "record") {
            std::string code, secret;
            line >> n >> code >> secret;
            INFO(file << ": " << whole);
            REQUIRE(c.records.emplace(n, std::make_pair(code, secret)).second);
        } else if (kind == "rollback") {
            std::int64_t target = 0;
            std::string rid;
            line >> n >> target >> rid;
            INFO(file << ": " << whole);
            REQUIRE(c.rollbacks.emplace(n, std::make_pair(target, rid)).second);
        } else if (kind == "status") {
            line >> n;
            c.active.insert(n);
        } else if (kind == "error") {
            std::string op, code, rest;
            line >> op >> code;
            std::getline(line, rest);
            ++c.errors[op + " " + code];
            ++c.messages[error_message(rest)];
        } else if (kind == "recovered") {
            std::string op;
            int failures = 0;
            long long ms = 0;
            line >> op >> failures >> ms;
            ++c.recovered;
            c.recovery_ms_max = std::max(c.recovery_ms_max, ms);
        } else if (kind == "fatal") {
            c.fatals.push_back(file + ": " + whole);
        } else if (kind == "stopped" || kind == "stopped-in-retry") {
            ++c.stopped;
        } else {
            FAIL("bad report line in " << file << ": " << whole);
        }
        c.max = std::max(c.max, n);
    }
}

// Confirmed writes (record, rollback, status lines) in a report so far.
inline int confirmed_lines(const std::string &file) {
    std::string text = read_file_if_exists(file);
    int n = 0;
    std::size_t start = 0, nl;
    while ((nl = text.find('\n', start)) != std::string::npos) {
        std::string_view l(text.data() + start, nl - start);
        if (l.rfind("record ", 0) == 0 || l.rfind("rollback ", 0) == 0 || l.rfind("status ", 0) == 0) ++n;
        start = nl + 1;
    }
    return n;
}

inline std::string errors_text(const std::map<std::string, int> &errors) {
    std::string s;
    for (const auto &[k, n] : errors) s += (s.empty() ? "" : ", ") + k + " ×" + std::to_string(n);
    return s.empty() ? "none" : s;
}

// Totals over the stores of a campaign.
struct Totals {
    int stores = 0, recovered = 0;
    long long recovery_ms_max = 0;
    std::size_t records = 0, rollbacks = 0, statuses = 0;
    std::int64_t versions = 0, reads = 0;
    std::map<std::string, int> errors, messages;
    void add(const Confirmed &c, std::int64_t verified) {
        ++stores;
        records += c.records.size();
        rollbacks += c.rollbacks.size();
        statuses += c.active.size();
        versions += verified;
        recovered += c.recovered;
        recovery_ms_max = std::max(recovery_ms_max, c.recovery_ms_max);
        for (const auto &[k, n] : c.errors) errors[k] += n;
        for (const auto &[k, n] : c.messages) messages[k] += n;
    }
    int error_total() const {
        int n = 0;
        for (const auto &[k, c] : errors) n += c;
        return n;
    }
    std::string text() const {
        std::ostringstream s;
        s << records << " records, " << rollbacks << " rollbacks, " << statuses << " statuses confirmed; "
          << versions << " versions in " << stores << " stores, " << reads << " version reads verified; "
          << "writer errors: " << errors_text(errors);
        if (recovered > 0) s << "; " << recovered << " calls recovered (slowest " << recovery_ms_max << " ms)";
        if (!messages.empty()) s << "; messages: " << errors_text(messages);
        return s.str();
    }
};

// The figures of one campaign: a Catch warning, and a line appended to the
// file SPR_FAULT_SUMMARY names (scripts/fault-campaign.sh collects them).
inline void summary(const std::string &line) {
    WARN("fault-campaign: " << line);
    if (const char *f = std::getenv("SPR_FAULT_SUMMARY"); f && *f) {
        std::ofstream out(f, std::ios::app);
        out << line << "\n";
    }
}

// A long campaign moves to a fresh store every this many rounds, so that
// checking every version after every round stays affordable.
constexpr int kRoundsPerStore = 60;

// ---- the store after a fault ------------------------------------------------------

inline std::string code_of(const json::value &detail) {
    return std::string(detail.at("state").at("containers").at(0).at("codeVersion").as_string());
}
inline std::string secret_of(const json::value &detail) {
    return std::string(detail.at("state").at("secrets").at("db").at("password").as_string());
}

// Every invariant above; `verified_upto` is the newest version an earlier
// check saw (it must still be there). Returns the number of versions read.
inline std::int64_t verify_store(const std::string &location, const std::string &options, const Confirmed &c,
                                 std::int64_t &verified_upto) {
    Store store(location, options);
    if (c.max == 0 && store.version_count("crash") == 0) { // killed before any version
        REQUIRE(verified_upto == 0);
        return 0;
    }
    json::array vs = store.versions("crash");
    const std::int64_t newest = check_history_shape(vs); // gap-free, one current (the newest)
    REQUIRE(num(vs.back(), "number") == 1);               // nothing pruned: history starts at 1
    REQUIRE(num(store.info("crash"), "versionsCreated") == newest);
    REQUIRE(num(store.info("crash"), "currentVersion") == newest);
    REQUIRE(newest >= c.max);         // nothing confirmed was lost ...
    REQUIRE(newest >= verified_upto); // ... nor anything seen by an earlier check

    // Every version reads back with its secrets (digests and AEAD verified on read).
    std::map<std::int64_t, json::value> details;
    std::map<std::string, std::int64_t> messages, codes;
    for (const auto &v : vs) {
        std::int64_t n = num(v, "number");
        std::string raw;
        int rc = store.try_get("crash", n, true, &raw);
        INFO("version " << n << ": " << spr_last_error());
        REQUIRE(rc == SPR_OK);
        json::value d = parse(raw);
        REQUIRE(str(d, "digest") == str(v, "digest"));
        // No duplicates: one version per requestId (= message), one per recorded codeVersion.
        auto [m, fresh_message] = messages.emplace(str(v, "message"), n);
        INFO("message \"" << m->first << "\" on versions " << m->second << " and " << n);
        REQUIRE(fresh_message);
        if (str(d, "reason") != "rollback") {
            auto [cd, fresh_code] = codes.emplace(code_of(d), n);
            INFO("codeVersion \"" << cd->first << "\" recorded as versions " << cd->second << " and " << n);
            REQUIRE(fresh_code);
            REQUIRE(str(d, "message") == code_of(d));
        }
        details[n] = std::move(d);
    }
    // ... holding exactly what the writers were told.
    for (const auto &[n, cs] : c.records) {
        INFO("confirmed record " << n << " (" << cs.first << ")");
        REQUIRE(details.count(n) == 1);
        REQUIRE(code_of(details.at(n)) == cs.first);
        REQUIRE(secret_of(details.at(n)) == cs.second);
        REQUIRE(str(details.at(n), "message") == cs.first);
        REQUIRE(str(details.at(n), "reason") != "rollback");
    }
    // The outbox: gap-free from 1, and exactly one version.created event per
    // version (none for a transaction the kill rolled back), one
    // rollback.committed per rollback version.
    {
        std::int64_t after = 0, expect_seq = 1;
        std::map<std::int64_t, int> created, committed;
        for (;;) {
            char *out = nullptr;
            INFO("spr_events: " << spr_last_error());
            REQUIRE(spr_events(store.get(), after, 10000, &out) == SPR_OK);
            json::value page = parse(out);
            spr_free(out);
            const auto &evs = page.at("events").as_array();
            if (evs.empty()) break;
            for (const auto &e : evs) {
                REQUIRE(num(e, "seq") == expect_seq++);
                const std::string type = str(e, "type");
                if (type == "version.created") ++created[num(e, "version")];
                if (type == "rollback.committed") ++committed[num(e, "version")];
            }
            after = num(page, "next");
        }
        REQUIRE(created.size() == vs.size());
        for (const auto &v : vs) {
            const std::int64_t n = num(v, "number");
            INFO("events of version " << n);
            REQUIRE(created[n] == 1);
            REQUIRE(committed[n] == (str(v, "reason") == "rollback" ? 1 : 0));
        }
    }
    for (const auto &[n, tr] : c.rollbacks) {
        const auto &[target, rid] = tr;
        INFO("confirmed rollback " << n << " to " << target << " (" << rid << ")");
        REQUIRE(details.count(n) == 1);
        REQUIRE(num(details.at(n), "rollbackOf") == target);
        REQUIRE(str(details.at(n), "message") == rid);
        REQUIRE(code_of(details.at(n)) == code_of(details.at(target)));
        REQUIRE(secret_of(details.at(n)) == secret_of(details.at(target)));
    }
    for (std::int64_t n : c.active) {
        INFO("confirmed status of " << n);
        std::string s = str(details.at(n), "status");
        REQUIRE((s == "active" || s == "superseded"));
    }
    verified_upto = newest;
    return static_cast<std::int64_t>(vs.size());
}

} // namespace spr_test

namespace spr_test {

// ---- the SIGKILL campaign, for either backend ---------------------------------------

// Kills `kills` writers at random instants: one writer per round, two at
// once every third round, each killed 0-150 ms (× kSlowdown) after the
// previous event. Rounds continue one store (a fresh one every
// kRoundsPerStore rounds); every tenth round is on a store of its own and
// kills within 30 ms, so that kills land in connection, schema creation and
// the first writes. After every round: `check(location, confirmed,
// verified_upto)`, which returns the versions it read.
template <class NewStore, class Check>
Totals kill_campaign(const std::string &what, int kills, const std::string &options, const TempDir &dir,
                     NewStore new_store, Check check, int &rounds) {
    const std::uint64_t seed = campaign_seed();
    INFO(what << ", SPR_CRASH_SEED=" << seed << ", kills " << kills);
    std::mt19937_64 rng(seed);
    Totals t;
    int done = 0;
    std::string main_store;
    Confirmed main_confirmed;
    std::int64_t main_verified = 0;
    bool main_had_rollbacks = false;
    for (int round = 0; done < kills; ++round) {
        if (round % kRoundsPerStore == 0) {
            if (round > 0) t.add(main_confirmed, main_verified);
            main_had_rollbacks = main_had_rollbacks || !main_confirmed.rollbacks.empty();
            main_store = new_store("m" + std::to_string(round));
            main_confirmed = Confirmed{};
            main_verified = 0;
        }
        const bool fresh = round % 10 == 9;
        const std::string location = fresh ? new_store("f" + std::to_string(round)) : main_store;
        Confirmed fresh_confirmed;
        std::int64_t fresh_verified = 0;
        Confirmed &confirmed = fresh ? fresh_confirmed : main_confirmed;
        std::int64_t &verified_upto = fresh ? fresh_verified : main_verified;
        const int writers = fresh || round % 3 == 2 ? 2 : 1;
        std::vector<Writer> ws;
        ReapOnExit reap(ws);
        for (int w = 0; w < writers; ++w) {
            const std::string tag = "r" + std::to_string(round) + "w" + std::to_string(w);
            ws.push_back(start_writer(location, options, dir.file("confirmed." + tag), tag));
        }
        for (const Writer &w : ws) {
            // Sanitizer builds write several times slower: stretch the window so
            // the writers still get work done between kills.
            std::uniform_int_distribution<int> delay_us(0, kSlowdown * (fresh || round == 0 ? 30000 : 150000));
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
        INFO("after round " << round << (fresh ? " (own store)" : "") << ", " << done << " kills, "
                            << confirmed.max << " confirmed");
        INFO("fatal: " << (confirmed.fatals.empty() ? "none" : confirmed.fatals.front()));
        REQUIRE(confirmed.fatals.empty());
        // A killed writer never makes another one fail: no error at all.
        INFO("errors: " << errors_text(confirmed.errors));
        REQUIRE(confirmed.errors.empty());
        t.reads += check(location, confirmed, verified_upto);
        if (fresh) t.add(fresh_confirmed, fresh_verified);
        rounds = round + 1;
    }
    t.add(main_confirmed, main_verified);
    main_had_rollbacks = main_had_rollbacks || !main_confirmed.rollbacks.empty();
    // Not vacuous: the writers got real work done between kills.
    REQUIRE(t.records >= static_cast<std::size_t>(kills));
    REQUIRE(main_had_rollbacks);
    return t;
}

// ---- writers under a fault (the PostgreSQL fault and failover tests) -------------

// Errors the writers logged must be transient codes only (a writer exits on
// anything else, which check_round reports).
inline void require_only_transient(const Confirmed &c) {
    for (const auto &[what, n] : c.errors) {
        INFO("writer error: " << what << " ×" << n);
        REQUIRE((what.ends_with(" SPR_E_IO") || what.ends_with(" SPR_E_BUSY")));
    }
}

inline std::vector<int> progress(const std::vector<Writer> &ws) {
    std::vector<int> n;
    for (const auto &w : ws) n.push_back(confirmed_lines(w.report));
    return n;
}

// Waits until every writer confirmed `more` writes beyond `base`; fails when
// one exits or `seconds` pass without it (a hang).
inline void require_progress(const std::vector<Writer> &ws, const std::vector<int> &base, int more, double seconds,
                      const char *after) {
    const auto t0 = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < ws.size(); ++i) {
        for (;;) {
            if (confirmed_lines(ws[i].report) >= base[i] + more) break;
            int status = 0;
            pid_t r = waitpid(ws[i].pid, &status, WNOHANG);
            INFO("writer " << ws[i].tag << " after " << after << ": " << read_file_if_exists(ws[i].report));
            if (r == ws[i].pid) FAIL("the writer ended (" << describe_status(status) << ")");
            if (seconds_since(t0) > seconds) FAIL("the writer made no progress for " << seconds << " s (a hang)");
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
    }
}

// SIGTERM; each must exit 0 within the deadline.
inline void stop_writers(const std::vector<Writer> &ws) {
    for (const auto &w : ws) REQUIRE(kill(w.pid, SIGTERM) == 0);
    for (const auto &w : ws) {
        auto st = wait_for(w.pid, 20.0 * kSlowdown);
        if (!st) {
            kill(w.pid, SIGKILL);
            waitpid(w.pid, nullptr, 0);
            FAIL("writer " << w.tag << " did not stop within " << 20 * kSlowdown << " s of SIGTERM (a hang): "
                           << read_file_if_exists(w.report));
        }
        INFO("writer " << w.tag << ": " << read_file_if_exists(w.report));
        REQUIRE(describe_status(*st) == "exit 0");
    }
}

} // namespace spr_test
