// The C API from many threads on one shared handle: thread-local errors,
// gap-free numbering under contention, idempotent retries, one winner when
// several threads commit plans made against the same version, and BUSY when
// another connection holds the write lock.
#include <boost/json/src.hpp> // Boost.JSON, header-only, once per executable

#include "capi/capi_support.hpp"
#include "multiprocess/sqlite_check.hpp"

#include <atomic>
#include <barrier>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <thread>

using namespace spr_test;

namespace {

// Catch2 assertions are not thread-safe: threads collect failures here and
// the main thread checks them.
struct Failures {
    std::mutex mu;
    std::vector<std::string> list;
    void add(std::string s) {
        std::lock_guard lock(mu);
        list.push_back(std::move(s));
    }
};

std::string record_number(spr_store *s, const std::string &spinner, const std::string &state,
                          const std::string &meta, std::int64_t *number, Failures &f) {
    char *out = nullptr;
    int rc = spr_record(s, spinner.c_str(), state.c_str(), meta.c_str(), &out);
    if (rc != SPR_OK) {
        f.add("record " + spinner + " " + meta + ": " + spr_last_error());
        *number = -1;
        return {};
    }
    std::string r = take(out);
    json::value v = json::parse(r);
    const auto &ver = v.at("version");
    *number = ver.is_object() ? ver.at("number").as_int64() : 0;
    return std::string(v.at("outcome").as_string());
}

} // namespace

TEST_CASE("the last error is per thread", "[threads][concurrency]") {
    TempDir dir;
    Store store(dir.store("s"));
    std::barrier sync(2);
    std::string a_error, b_error;
    int a_rc = -1, b_rc = -1;
    std::thread a([&] {
        char *out = nullptr;
        a_rc = spr_versions(nullptr, "shop", &out);
        sync.arrive_and_wait(); // both errors are set
        sync.arrive_and_wait(); // b has made a successful call
        a_error = spr_last_error();
    });
    std::thread b([&] {
        char *out = nullptr;
        b_rc = spr_versions(store, "nope", &out);
        sync.arrive_and_wait();
        b_error = spr_last_error();
        char *ok = nullptr;
        spr_policy_evaluate(nullptr, nullptr, data("minimal.json").c_str(), &ok); // clears b's error only
        spr_free(ok);
        sync.arrive_and_wait();
    });
    a.join();
    b.join();
    REQUIRE(a_rc == SPR_E_INVALID);
    REQUIRE(b_rc == SPR_E_NOT_FOUND);
    INFO(a_error);
    INFO(b_error);
    json::value ae = json::parse(a_error), be = json::parse(b_error);
    REQUIRE(ae.at("name").as_string() == "SPR_E_INVALID");
    REQUIRE(ae.at("path").as_string() == "store");
    REQUIRE(be.at("name").as_string() == "SPR_E_NOT_FOUND");
    // This thread made no failing call.
    REQUIRE(json::parse(spr_last_error()).at("code").as_int64() == 0);
}

TEST_CASE("8 threads on one handle: gap-free numbering, exactly one current", "[threads][concurrency]") {
    TempDir dir;
    const std::string path = dir.store("s");
    Store store(path, key_options(R"("busyTimeoutMs": 60000)"));
    const int threads = 8, per_thread = 15;
    const std::string tmpl = with_history_limit(data("shop_v1.json"), 100000);
    Failures failures;
    std::mutex mu;
    std::map<std::string, std::set<std::int64_t>> shared_numbers; // requestId -> numbers answered
    std::barrier start(threads);
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
        pool.emplace_back([&, t] {
            start.arrive_and_wait();
            for (int j = 0; j < per_thread; ++j) {
                const std::string rid = "t" + std::to_string(t) + "-" + std::to_string(j);
                const std::string state = replace_all(tmpl, "\"9f3c2e1\"", "\"" + rid + "\"");
                std::int64_t n = 0;
                // The same spinner from every thread, then a retry of the same request.
                for (int attempt = 0; attempt < 2; ++attempt) {
                    std::string outcome =
                        record_number(store, "shared", state, "{\"requestId\":\"" + rid + "\"}", &n, failures);
                    if (outcome != "created") failures.add(rid + ": outcome " + outcome);
                    std::lock_guard lock(mu);
                    shared_numbers[rid].insert(n);
                }
                // A spinner of its own, without requestIds.
                std::string own = "own-" + std::to_string(t);
                std::string outcome = record_number(store, own, state, "{}", &n, failures);
                if (outcome != "created" || n != j + 1)
                    failures.add(own + ": expected version " + std::to_string(j + 1) + ", got " + outcome + " " +
                                 std::to_string(n));
                // Reads in between.
                char *out = nullptr;
                if (spr_versions(store, "shared", &out) != SPR_OK) failures.add(std::string("versions: ") + spr_last_error());
                spr_free(out);
                out = nullptr;
                if (j > 0 && spr_diff(store, own.c_str(), j, j + 1, &out) != SPR_OK)
                    failures.add(std::string("diff: ") + spr_last_error());
                spr_free(out);
                out = nullptr;
                if (j > 0) {
                    if (spr_plan_rollback(store, own.c_str(), j, nullptr, &out) != SPR_OK)
                        failures.add(std::string("plan: ") + spr_last_error());
                    spr_free(out);
                }
            }
        });
    for (auto &th : pool) th.join();
    {
        INFO("first failures: " << (failures.list.empty() ? std::string() : failures.list.front()));
        REQUIRE(failures.list.empty());
    }

    const std::int64_t total = threads * per_thread;
    REQUIRE(shared_numbers.size() == static_cast<std::size_t>(total));
    std::set<std::int64_t> all;
    for (const auto &[rid, ns] : shared_numbers) {
        INFO(rid);
        REQUIRE(ns.size() == 1);
        REQUIRE(all.insert(*ns.begin()).second);
    }
    REQUIRE(*all.begin() == 1);
    REQUIRE(*all.rbegin() == total);

    json::array vs = store.versions("shared");
    REQUIRE(vs.size() == static_cast<std::size_t>(total));
    REQUIRE(check_history_shape(vs) == total);
    for (const auto &v : vs) {
        json::value g = store.get("shared", num(v, "number"), true);
        REQUIRE(g.at("state").at("secrets").at("db").at("password").as_string() == kSecretV1);
    }
    for (int t = 0; t < threads; ++t) {
        json::array own = store.versions("own-" + std::to_string(t));
        REQUIRE(check_history_shape(own) == per_thread);
    }
    if (!spr_backend::is_pg(path)) REQUIRE(sqlite_integrity_check(path) == "ok");
}

TEST_CASE("threads committing plans made against the same version: one wins", "[threads][concurrency]") {
    TempDir dir;
    Store store(dir.store("s"));
    store.record_created("shop", data("shop_v1.json"));
    store.record_created("shop", data("shop_v2.json"));
    const int threads = 8;
    std::vector<std::string> plans;
    for (int t = 0; t < threads; ++t) plans.push_back(store.plan_raw("shop", 1));
    std::barrier start(threads);
    std::vector<int> rcs(threads, -1);
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
        pool.emplace_back([&, t] {
            start.arrive_and_wait();
            char *out = nullptr;
            rcs[t] = spr_commit_rollback(store, plans[t].c_str(), nullptr, &out);
            spr_free(out);
        });
    for (auto &th : pool) th.join();
    int ok = 0, conflict = 0;
    for (int rc : rcs) {
        if (rc == SPR_OK) ++ok;
        if (rc == SPR_E_CONFLICT) ++conflict;
    }
    REQUIRE(ok == 1);
    REQUIRE(conflict == threads - 1);
    REQUIRE(check_history_shape(store.versions("shop")) == 3);
}

TEST_CASE("two handles on one file in one process, written from threads", "[threads][concurrency]") {
    TempDir dir;
    const std::string path = dir.store("s");
    Store a(path, key_options(R"("busyTimeoutMs": 60000)"));
    Store b(path, key_options(R"("busyTimeoutMs": 60000)"));
    const std::string tmpl = with_history_limit(data("shop_v1.json"), 100000);
    Failures failures;
    std::vector<std::thread> pool;
    const int per_thread = 10;
    for (int t = 0; t < 4; ++t)
        pool.emplace_back([&, t] {
            spr_store *h = t % 2 ? b.get() : a.get();
            for (int j = 0; j < per_thread; ++j) {
                std::string rid = "h" + std::to_string(t) + "-" + std::to_string(j);
                std::int64_t n = 0;
                record_number(h, "shared", replace_all(tmpl, "\"9f3c2e1\"", "\"" + rid + "\""),
                              "{\"requestId\":\"" + rid + "\"}", &n, failures);
            }
        });
    for (auto &th : pool) th.join();
    INFO((failures.list.empty() ? std::string() : failures.list.front()));
    REQUIRE(failures.list.empty());
    REQUIRE(check_history_shape(a.versions("shared")) == 4 * per_thread);
    REQUIRE(check_history_shape(b.versions("shared")) == 4 * per_thread);
}

TEST_CASE("a write lock held elsewhere longer than busyTimeoutMs gives SPR_E_BUSY", "[threads][concurrency]") {
    TempDir dir;
    const std::string path = dir.store("s");
    Store store(path, key_options(R"("busyTimeoutMs": 200)"));
    store.record_created("shop", data("shop_v1.json"));

    auto lock = std::make_unique<spr_backend::WriterLock>(path);

    auto t0 = std::chrono::steady_clock::now();
    REQUIRE(store.try_record("shop", data("shop_v2.json")) == SPR_E_BUSY);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    REQUIRE(last_error().name == "SPR_E_BUSY");
    REQUIRE(ms >= 150);  // it waited ...
    REQUIRE(ms < 5000);  // ... about busyTimeoutMs, not forever
    // Readers are not blocked by a writer (SQLite WAL; PostgreSQL MVCC).
    REQUIRE(store.version_count("shop") == 1);
    REQUIRE(contains(store.get_raw("shop", 1, true), kSecretV1));

    lock.reset();
    REQUIRE(store.record_created("shop", data("shop_v2.json")) == 2);
}
