// fork() while threads are inside the library (docs/architecture.md,
// "Threads and fork"): a child can open the same store anew and write within
// the busy timeout, an inherited handle is refused (and closing it does not
// disturb the parent), and the parent's threads never notice.
#include <boost/json/src.hpp> // Boost.JSON, header-only, once per executable

#include "capi/capi_support.hpp"
#include "multiprocess/children.hpp"
#include "multiprocess/sqlite_check.hpp"

#include <execinfo.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <csignal>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

using namespace spr_test;

namespace {

// The sanitizers' own runtimes (GCC 12's libasan and libtsan) do not lock
// their allocators across fork(): a child forked while another thread is in
// malloc can hang in its first malloc (seen: a stack in libasan's malloc,
// under sqlite3Malloc). Under a sanitizer the parent's threads therefore
// pause around each fork() (between calls: still mid-stream, never in
// malloc); the plain build forks at any instant, which is the real test of
// the library's guard.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kPauseThreadsAtFork = true;
#else
constexpr bool kPauseThreadsAtFork = false;
#endif

constexpr int kForks = 50;
constexpr int kThreads = 4;
constexpr int kBusyTimeoutMs = 30000;
// A child that has not finished by then is hung (waiting on a lock nobody holds).
constexpr auto kChildDeadline = std::chrono::seconds(90);

std::string options() { return key_options("\"busyTimeoutMs\":" + std::to_string(kBusyTimeoutMs)); }

std::string state(const std::string &code_version) { return with_history_limit(shop_variant(code_version), 100000); }

// A child still running after 60 s is stuck: say where (its stack on
// stderr), then exit 99, before the parent's watchdog kills it silently.
void on_child_alarm(int) {
    static const char msg[] = "fork child: stuck for 60 s; its stack:\n";
    (void)!write(2, msg, sizeof msg - 1);
    void *frames[64];
    backtrace_symbols_fd(frames, backtrace(frames, 64), 2);
    _exit(99);
}

// What a child does; its exit status says what failed (0: all good). Only
// the C API and write(2): no Catch2 in a child.
[[noreturn]] void child_main(spr_store *inherited, const std::string &path, int n) {
    std::signal(SIGALRM, on_child_alarm);
    alarm(60);
    auto fail = [](int code, const std::string &what) {
        std::string line = "fork child: " + what + ": " + spr_last_error() + "\n";
        (void)!write(2, line.data(), line.size());
        _exit(code);
    };
    // 1. The parent's handle is refused, with the documented message.
    char *out = nullptr;
    int rc = spr_versions(inherited, "shop", &out);
    if (rc != SPR_E_INVALID || out != nullptr) fail(10, "inherited handle was not refused");
    if (!contains(spr_last_error(), "cannot be used in this one")) fail(11, "wrong message");
    // 2. A new handle on the same store works like in any other process.
    spr_store *mine = nullptr;
    if (spr_open(path.c_str(), options().c_str(), &mine) != SPR_OK) fail(12, "open in the child");
    const std::string spinner = "child-" + std::to_string(n);
    if (spr_record(mine, spinner.c_str(), state("c" + std::to_string(n)).c_str(), nullptr, &out) != SPR_OK)
        fail(13, "record in the child");
    const std::string result = out;
    spr_free(out);
    if (!contains(result, "\"created\"")) fail(14, "record did not create a version: " + result);
    spr_close(mine);
    // 3. Closing the inherited handle is safe (the parent's connection lives on).
    spr_close(inherited);
    _exit(0);
}

} // namespace

TEST_CASE("fork() while 4 threads record and commit: every child opens the same store and records",
          "[fork][concurrency]") {
    void *warm[1];
    backtrace(warm, 1); // loads what backtrace() needs now, not in a child's signal handler
    TempDir dir;
    const std::string path = dir.store("s");
    Store store(path, options());
    const std::int64_t first = store.record_created("shop", state("v0"));

    std::atomic<bool> stop{false};
    std::mutex errors_mu;
    std::vector<std::string> errors;
    std::atomic<int> writes{0};
    // kPauseThreadsAtFork: each iteration of a worker is "busy" from its
    // first to its last instruction (every allocation inside); the forking
    // thread waits until none is, and no new one starts meanwhile.
    std::mutex gate_mu;
    std::condition_variable gate_cv;
    int busy = 0;
    bool pausing = false;
    struct Busy {
        std::mutex &mu;
        std::condition_variable &cv;
        int &busy;
        Busy(std::mutex &m, std::condition_variable &c, int &b, bool &pausing) : mu(m), cv(c), busy(b) {
            std::unique_lock lock(mu);
            cv.wait(lock, [&] { return !pausing; });
            ++busy;
        }
        ~Busy() {
            std::lock_guard lock(mu);
            if (--busy == 0) cv.notify_all();
        }
    };
    auto worker = [&](int t) {
        for (int k = 0; !stop.load(); ++k) {
            std::optional<Busy> in_iteration; // declared first: destroyed last
            if (kPauseThreadsAtFork) in_iteration.emplace(gate_mu, gate_cv, busy, pausing);
            char *out = nullptr;
            const std::string code = "t" + std::to_string(t) + "-" + std::to_string(k);
            int rc = spr_record(store, "shop", state(code).c_str(), nullptr, &out);
            spr_free(out);
            if (rc != SPR_OK) {
                std::lock_guard lock(errors_mu);
                errors.push_back("record: " + std::string(spr_last_error()));
                return;
            }
            ++writes;
            if (k % 4 != 3) continue;
            // A rollback to the first version: plan, then commit (another
            // thread may move the current version in between: a conflict).
            char *plan = nullptr;
            rc = spr_plan_rollback(store, "shop", first, nullptr, &plan);
            if (rc == SPR_OK) {
                rc = spr_commit_rollback(store, plan, nullptr, &out);
                spr_free(out);
                spr_free(plan);
                if (rc == SPR_OK) ++writes;
            }
            if (rc != SPR_OK && rc != SPR_E_CONFLICT && rc != SPR_E_IDENTICAL) {
                std::lock_guard lock(errors_mu);
                errors.push_back("rollback: " + std::string(spr_last_error()));
                return;
            }
        }
    };
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) threads.emplace_back(worker, t);

    std::vector<std::pair<pid_t, std::chrono::steady_clock::time_point>> children;
    for (int n = 0; n < kForks; ++n) {
        std::this_thread::sleep_for(std::chrono::milliseconds(n % 7)); // fork at varied instants
        std::fflush(nullptr);
        const auto at = std::chrono::steady_clock::now();
        if (kPauseThreadsAtFork) {
            std::unique_lock lock(gate_mu);
            pausing = true;
            gate_cv.wait(lock, [&] { return busy == 0; });
        }
        pid_t pid = fork();
        if (pid == 0) child_main(store.get(), path, n);
        if (kPauseThreadsAtFork) {
            std::lock_guard lock(gate_mu);
            pausing = false;
            gate_cv.notify_all();
        }
        REQUIRE(pid >= 0);
        children.emplace_back(pid, at);
    }
    std::vector<ChildExit> outcomes;
    for (const auto &[pid, at] : children) outcomes.push_back(wait_child(pid, at, kChildDeadline));
    stop = true;
    for (auto &t : threads) t.join();

    double slowest = 0;
    for (int n = 0; n < kForks; ++n) {
        INFO("child " << n << " (its stderr is above)");
        REQUIRE_FALSE(outcomes[n].hung);
        REQUIRE(WIFEXITED(outcomes[n].status));
        REQUIRE(WEXITSTATUS(outcomes[n].status) == 0);
        slowest = std::max(slowest, outcomes[n].seconds);
    }
    WARN(kForks << " children all recorded; the slowest finished " << slowest << " s after its fork; the parent's "
                << kThreads << " threads made " << writes.load() << " writes meanwhile");
    {
        std::lock_guard lock(errors_mu);
        INFO((errors.empty() ? std::string() : errors.front()));
        REQUIRE(errors.empty());
    }
    REQUIRE(writes.load() > 0);

    // The parent's handle still works, and the store is whole.
    store.record_created("shop", state("after"));
    const std::int64_t newest = check_history_shape(store.versions("shop"));
    REQUIRE(newest == 1 + writes.load() + 1);
    for (int n = 0; n < kForks; ++n) REQUIRE(check_history_shape(store.versions("child-" + std::to_string(n))) == 1);
    if (!spr_backend::is_pg(path)) REQUIRE(sqlite_integrity_check(path) == "ok");
}

TEST_CASE("an inherited handle is refused in the child; closing it leaves the parent's connection working",
          "[fork][concurrency]") {
    TempDir dir;
    const std::string path = dir.store("s");
    Store store(path, options());
    store.record_created("shop", state("v0"));
    // A thread of the parent waits for events when the fork happens: the
    // wait is not inside the library, so fork() does not wait for it.
    std::thread waiter([&] {
        char *out = nullptr;
        spr_events_wait(store, 1000000, 1500, &out); // nothing comes: times out
        spr_free(out);
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const auto before = std::chrono::steady_clock::now();
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        // Every kind of call is refused, the same way; open and close work.
        char *out = nullptr;
        if (spr_record(store.get(), "shop", state("child").c_str(), nullptr, &out) != SPR_E_INVALID) _exit(20);
        if (!contains(spr_last_error(), "\"path\":\"store\"")) _exit(21);
        if (spr_events_wait(store.get(), 0, 10, &out) != SPR_E_INVALID) _exit(22);
        if (spr_store_info(store.get(), &out) != SPR_E_INVALID) _exit(23);
        spr_close(store.get());
        _exit(0);
    }
    const double fork_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - before).count();
    ChildExit o = wait_child(pid, before, kChildDeadline);
    REQUIRE_FALSE(o.hung);
    REQUIRE(WIFEXITED(o.status));
    REQUIRE(WEXITSTATUS(o.status) == 0);
    CHECK(fork_ms < 1000); // did not wait for the events wait
    // The child closed its copy: the parent's connection is untouched.
    store.record_created("shop", state("v1"));
    REQUIRE(check_history_shape(store.versions("shop")) == 2);
    waiter.join();
}
