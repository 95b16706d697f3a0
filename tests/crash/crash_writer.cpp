// The process the fault tests kill, cut off and restart the database under:
// it writes to a store (a SQLite file or a PostgreSQL URI) in a loop until
// SIGTERM, and reports every write the library confirmed, flushed at once,
// so the driver knows what must survive a fault at any instant.
//
// usage: spr_crash_writer <location> <options json> <report file> <writer tag>
//
// Built a second time as spr_powercut_writer (SPR_POWERCUT): the same loop,
// with the test VFS of powercut_vfs.cpp registered, for test_powerloss.cpp.
//
// A transient failure (SPR_E_IO: the database cannot be reached, e.g. a cut
// connection or a restarting server; SPR_E_BUSY: the writer lock stayed
// taken) is logged and the same call is retried with the same requestId, as
// a host would, with a growing pause, for at most kRetryFor; the retry must
// return the first result (never a duplicate). Any other unexpected code is
// fatal: the writer logs it and exits 1, and the driver fails the test.
// Every 13th record and every other rollback is sent a second time with the
// same requestId (a host retrying after a lost answer): it must return the
// same version.
//
// Report lines (appended, one write(2) each):
//   "record <number> <codeVersion> <secret>"      spr_record created a version
//                                                 (requestId = message = codeVersion)
//   "rollback <number> <target> <requestId>"      spr_commit_rollback (message = requestId)
//   "status <number>"                             spr_set_status(active)
//   "error <op> <code name> <last error json>"    a transient failure; the call is retried
//   "recovered <op> <failures> <ms>"              the call succeeded after failures; ms
//                                                 from the first failure to success
//   "fatal <op> <code name> <last error json>"    then exit(1)
//   "stopped <iterations>"                        SIGTERM honoured, store closed, exit(0)
#include "spinner_rollback.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#ifndef SPR_TEST_DATA_DIR
#error "SPR_TEST_DATA_DIR must be defined"
#endif

namespace {

constexpr auto kRetryFor = std::chrono::seconds(60);

volatile sig_atomic_t g_stop = 0;
int g_report = -1;
std::string g_tag;

void on_term(int) { g_stop = 1; }

// One line per write(2), O_APPEND: a SIGKILL leaves whole lines or a torn
// last line without its newline (which the driver ignores).
void report(const std::string &line) {
    std::string l = line + "\n";
    const char *p = l.data();
    std::size_t left = l.size();
    while (left > 0) {
        ssize_t n = ::write(g_report, p, left);
        if (n < 0) {
            if (errno == EINTR) continue;
            std::_Exit(4);
        }
        p += n;
        left -= static_cast<std::size_t>(n);
    }
}

std::string read_file(const std::string &p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string replace_once(std::string s, const std::string &from, const std::string &to) {
    auto p = s.find(from);
    if (p == std::string::npos) {
        std::fprintf(stderr, "writer: \"%s\" not found in the template\n", from.c_str());
        std::exit(3);
    }
    return s.replace(p, from.size(), to);
}

long long number_in(const char *json, const char *key) {
    std::string k = std::string("\"") + key + "\":";
    const char *p = std::strstr(json, k.c_str());
    return p ? std::atoll(p + k.size()) : -1;
}

[[noreturn]] void fatal(const std::string &op, int rc) {
    report("fatal " + op + " " + spr_error_name(rc) + " " + spr_last_error());
    std::fprintf(stderr, "writer %s: %s failed: %s\n", g_tag.c_str(), op.c_str(), spr_last_error());
    std::exit(1);
}

[[noreturn]] void fatal_mismatch(const std::string &op, long long want, const char *got) {
    report("fatal " + op + " duplicate: the retried requestId returned another version than " +
           std::to_string(want) + ": " + got);
    std::exit(1);
}

// Runs `call` until it returns something else than a transient code; logs
// every transient failure. `accepted` are codes returned to the caller
// (everything else but SPR_OK is fatal). `retried` tells whether a transient
// failure came first (so the first attempt may have committed).
int with_retries(const std::string &op, const std::function<int()> &call, const std::set<int> &accepted = {},
                 bool *retried = nullptr) {
    int failures = 0;
    std::chrono::steady_clock::time_point first{};
    int pause_ms = 2;
    for (;;) {
        int rc = call();
        if (rc == SPR_E_IO || rc == SPR_E_BUSY) {
            if (failures++ == 0) first = std::chrono::steady_clock::now();
            report("error " + op + " " + spr_error_name(rc) + " " + spr_last_error());
            if (std::chrono::steady_clock::now() - first > kRetryFor) fatal(op + "-gave-up", rc);
            if (g_stop) {
                report("stopped-in-retry " + op);
                std::exit(0);
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms));
            pause_ms = std::min(pause_ms * 2, 200);
            continue;
        }
        if (failures > 0) {
            auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - first);
            report("recovered " + op + " " + std::to_string(failures) + " " + std::to_string(ms.count()));
        }
        if (retried) *retried = failures > 0;
        if (rc != SPR_OK && !accepted.count(rc)) fatal(op, rc);
        return rc;
    }
}

} // namespace

#ifdef SPR_POWERCUT
extern "C" void spr_test_register_powercut_vfs(); // powercut_vfs.cpp
#endif

int main(int argc, char **argv) {
#ifdef SPR_POWERCUT
    spr_test_register_powercut_vfs(); // locations may then name ?vfs=powercut
#endif
    if (argc != 5) {
        std::fprintf(stderr, "usage: %s <location> <options json> <report> <tag>\n", argv[0]);
        return 2;
    }
    const std::string location = argv[1], options = argv[2];
    g_tag = argv[4];
    g_report = ::open(argv[3], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (g_report < 0) return 2;
    struct sigaction sa {};
    sa.sa_handler = on_term;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, nullptr);

    std::string tmpl = read_file(std::string(SPR_TEST_DATA_DIR) + "/shop_v1.json");
    tmpl = replace_once(tmpl, "\"historyLimit\": 20", "\"historyLimit\": 100000");

    spr_store *store = nullptr;
    with_retries("open", [&] { return spr_open(location.c_str(), options.c_str(), &store); });

    const std::string &tag = g_tag;
    std::string secret = "crash-secret-" + tag + "-0";
    std::string flags = "a,b";
    long long current = 0;
    long long i = 0;
    for (; !g_stop; ++i) {
        char *out = nullptr;
        if (i % 7 == 6 && current >= 2) {
            // A rollback to the previous version (may race with another writer).
            char *plan = nullptr;
            const std::set<int> races{SPR_E_CONFLICT, SPR_E_IDENTICAL, SPR_E_CURRENT_VERSION};
            int rc = with_retries(
                "plan", [&] { return spr_plan_rollback(store, "crash", current - 1, nullptr, &plan); }, races);
            if (rc == SPR_OK) {
                const std::string rid = tag + "-rb-" + std::to_string(i);
                const std::string meta = "{\"requestId\":\"" + rid + "\",\"message\":\"" + rid + "\"}";
                rc = with_retries(
                    "commit", [&] { return spr_commit_rollback(store, plan, meta.c_str(), &out); }, races);
                if (rc == SPR_OK) {
                    current = number_in(out, "number");
                    const long long target = number_in(out, "rollbackOf");
                    spr_free(out);
                    if (i % 2 == 0) { // a host retrying after a lost answer: the same version, never a new one
                        with_retries("commit-again", [&] { return spr_commit_rollback(store, plan, meta.c_str(), &out); });
                        if (number_in(out, "number") != current) fatal_mismatch("commit-again", current, out);
                        spr_free(out);
                    }
                    spr_free(plan);
                    report("rollback " + std::to_string(current) + " " + std::to_string(target) +
                           " " + rid);
                    continue;
                }
                spr_free(plan);
            }
        }
        if (i % 4 == 3) secret = "crash-secret-" + tag + "-" + std::to_string(i);
        if (i % 3 == 2) flags = "f-" + tag + "-" + std::to_string(i);
        const std::string code = tag + "-" + std::to_string(i);
        std::string state = replace_once(tmpl, "\"9f3c2e1\"", "\"" + code + "\"");
        state = replace_once(state, "\"S3cr3t-Valu3-7f1e\"", "\"" + secret + "\"");
        state = replace_once(state, "\"flags\": \"a,b\"", "\"flags\": \"" + flags + "\"");
        const std::string meta =
            "{\"requestId\":\"" + code + "\",\"author\":\"crash-writer\",\"message\":\"" + code + "\"}";
        with_retries("record", [&] { return spr_record(store, "crash", state.c_str(), meta.c_str(), &out); });
        if (std::strstr(out, "\"outcome\":\"created\"") == nullptr) {
            report("fatal record-outcome - " + std::string(out));
            return 1;
        }
        current = number_in(out, "number");
        spr_free(out);
        if (i % 13 == 12) { // a host retrying after a lost answer: the first result, never a new version
            with_retries("record-again", [&] { return spr_record(store, "crash", state.c_str(), meta.c_str(), &out); });
            if (number_in(out, "number") != current) fatal_mismatch("record-again", current, out);
            spr_free(out);
        }
        report("record " + std::to_string(current) + " " + code + " " + secret);
        if (i % 5 == 4) {
            with_retries("status", [&] { return spr_set_status(store, "crash", current, "active"); });
            report("status " + std::to_string(current));
        }
        if (i % 11 == 10) {
            const std::string id = "snap-" + code;
            const std::string snap =
                "{\"id\":\"" + id + "\",\"volume\":\"vol-data-1\",\"sizeBytes\":1024,\"ready\":true}";
            with_retries("snapshot-register", [&] { return spr_snapshot_register(store, snap.c_str()); });
            if (i % 22 == 21) {
                // After a transient failure the first attempt may have deleted it.
                bool retried = false;
                int rc = with_retries(
                    "snapshot-delete", [&] { return spr_snapshot_delete(store, id.c_str()); }, {SPR_E_NOT_FOUND},
                    &retried);
                if (rc == SPR_E_NOT_FOUND && !retried) fatal("snapshot-delete", rc);
            }
        }
    }
    spr_close(store);
    report("stopped " + std::to_string(i));
    return 0;
}
