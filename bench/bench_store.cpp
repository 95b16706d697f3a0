// Benchmarks of spinner_rollback's VersionStore and RollbackPlanner, each on a
// real SQLite file in a temporary directory, next to raw SQLite floors
// measured in the same run. See docs/benchmarks.md for how to run and read them.
//
//   ninja -C build-bench bench            # everything, JSON + summary in build-bench/bench/
//   build-bench/bench/spr_bench --benchmark_filter=Record   # a subset
//
// Extra flags (besides Google Benchmark's):
//   --spr_summary_out=FILE   also write the summary table to FILE
//   --spr_dir=DIR            where the temporary stores go (default $TMPDIR or /tmp)
#include <spinner_rollback/spinner_rollback.hpp>

#include "bench_state.hpp"
#include <spinner_rollback.h>

#include <benchmark/benchmark.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <numeric>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace sr = spinner_rollback;
namespace fs = std::filesystem;

namespace {

using spr_bench::json_escape;
using spr_bench::make_state;

// ---- environment ------------------------------------------------------------

std::string g_base_dir; // where temporary directories are made

// 32-byte key as 64 hex digits (a benchmark key, not a secret).
const char *const kKey = "6b1f0c9e2d4a7b3c5e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9011223344ff";

class TempDir {
public:
    TempDir() {
        std::string tmpl = g_base_dir + "/spr-bench-XXXXXX";
        std::vector<char> buf(tmpl.begin(), tmpl.end());
        buf.push_back('\0');
        if (!mkdtemp(buf.data())) throw std::runtime_error("mkdtemp failed in " + g_base_dir);
        path_ = buf.data();
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    TempDir(const TempDir &) = delete;
    TempDir &operator=(const TempDir &) = delete;
    std::string file(const std::string &name) const { return (path_ / name).string(); }

private:
    fs::path path_;
};

// ---- the state document -----------------------------------------------------

// ~1 MiB of config-file-like text: "key_N = <16 random hex>\n" lines (zstd
// compresses it roughly 2-3x; the random values keep it from collapsing).
std::string make_big_config(std::size_t bytes) {
    std::mt19937_64 rng(42);
    std::string out;
    out.reserve(bytes + 64);
    char line[64];
    for (std::size_t i = 0; out.size() < bytes; ++i) {
        int n = std::snprintf(line, sizeof line, "key_%zu = %016llx\n", i,
                              static_cast<unsigned long long>(rng()));
        out.append(line, static_cast<std::size_t>(n));
    }
    out.resize(bytes);
    return out;
}

std::unique_ptr<sr::VersionStore> open_store(const std::string &path, sr::Durability d) {
    sr::StoreOptions o;
    o.key = kKey;
    o.durability = d;
    return sr::VersionStore::open(path, o);
}

const char *dur_name(sr::Durability d) { return d == sr::Durability::full ? "full" : "normal"; }

// ---- raw SQLite helpers -----------------------------------------------------

struct RawDb {
    sqlite3 *db = nullptr;
    explicit RawDb(const std::string &path) {
        if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) throw std::runtime_error("sqlite3_open failed");
        sqlite3_busy_timeout(db, 5000);
    }
    ~RawDb() { sqlite3_close_v2(db); }
    void exec(const std::string &sql) {
        char *err = nullptr;
        if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
            std::string m = err ? err : "?";
            sqlite3_free(err);
            throw std::runtime_error("sqlite: " + m + " in " + sql);
        }
    }
    std::int64_t scalar(const std::string &sql) {
        sqlite3_stmt *st = nullptr;
        if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK)
            throw std::runtime_error(std::string("prepare: ") + sqlite3_errmsg(db));
        std::int64_t v = 0;
        if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        return v;
    }
};

struct DbSize {
    std::int64_t file_bytes = 0;    // page_count * page_size after wal_checkpoint(TRUNCATE)
    std::int64_t payload_bytes = 0; // SELECT sum(payload) FROM dbstat
    std::map<std::string, std::int64_t> payload_by_table;
};

// Measure a store file; the store must be closed.
DbSize measure(const std::string &path) {
    RawDb r(path);
    r.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    DbSize s;
    s.file_bytes = r.scalar("PRAGMA page_count") * r.scalar("PRAGMA page_size");
    s.payload_bytes = r.scalar("SELECT sum(payload) FROM dbstat");
    sqlite3_stmt *st = nullptr;
    sqlite3_prepare_v2(r.db, "SELECT name, sum(payload) FROM dbstat GROUP BY name", -1, &st, nullptr);
    while (sqlite3_step(st) == SQLITE_ROW)
        s.payload_by_table[reinterpret_cast<const char *>(sqlite3_column_text(st, 0))] = sqlite3_column_int64(st, 1);
    sqlite3_finalize(st);
    return s;
}

// Per-iteration latency percentiles as counters (µs).
void latency_counters(benchmark::State &state, std::vector<double> &ns) {
    if (ns.empty()) return;
    std::sort(ns.begin(), ns.end());
    auto pct = [&](double p) { return ns[std::min(ns.size() - 1, static_cast<std::size_t>(p * ns.size()))] / 1e3; };
    state.counters["p50_us"] = pct(0.50);
    state.counters["p99_us"] = pct(0.99);
}

using Clock = std::chrono::steady_clock;

// Payload bytes of one stored version of the realistic state (measured at
// start-up, before the benchmarks run): the raw baseline inserts rows of this size.
std::int64_t g_version_bytes = 1024;

// ---- 1. record latency vs. a raw SQLite commit ------------------------------

// Each iteration records the other of two states that differ in one env var
// (REV=a / REV=b), so every record creates a version (content already stored:
// dedup hit). historyLimit 20 (the default), so pruning runs as in production.
void BM_Record_Alternating(benchmark::State &state, sr::Durability d) {
    try {
        TempDir dir;
        auto store = open_store(dir.file("store.db"), d);
        const std::string a = make_state("a", 20), b = make_state("b", 20);
        store->record("shop", a);
        std::vector<double> ns;
        std::size_t i = 0;
        for (auto _ : state) {
            auto t0 = Clock::now();
            auto r = store->record("shop", (i++ & 1) ? a : b);
            ns.push_back(std::chrono::duration<double, std::nano>(Clock::now() - t0).count());
            if (r.outcome != spinner_rollback::Outcome::created) {
                state.SkipWithError(("record did not create a version: " + std::string(sr::to_string(r.outcome))).c_str());
                break;
            }
        }
        latency_counters(state, ns);
    } catch (const std::exception &e) {
        state.SkipWithError(e.what());
    }
}

// Each iteration records a state whose REV is new (r1, r2, ...): a new core
// blob every time — a real deploy. The state text is built inside the timed
// loop (≈1 µs).
void BM_Record_NewValue(benchmark::State &state, sr::Durability d) {
    try {
        TempDir dir;
        auto store = open_store(dir.file("store.db"), d);
        store->record("shop", make_state("r0", 20));
        std::vector<double> ns;
        std::size_t i = 0;
        for (auto _ : state) {
            auto t0 = Clock::now();
            auto r = store->record("shop", make_state("r" + std::to_string(++i), 20));
            ns.push_back(std::chrono::duration<double, std::nano>(Clock::now() - t0).count());
            if (r.outcome != spinner_rollback::Outcome::created) {
                state.SkipWithError(("record did not create a version: " + std::string(sr::to_string(r.outcome))).c_str());
                break;
            }
        }
        latency_counters(state, ns);
    } catch (const std::exception &e) {
        state.SkipWithError(e.what());
    }
}

// ---- 4. the reconcile path --------------------------------------------------

// What a reconcile loop calls every few seconds for every spinner: spr_record
// of the state the spinner already has (through the C API, as hosts call it).
void BM_Record_Unchanged_CApi(benchmark::State &state) {
    try {
        TempDir dir;
        const std::string path = dir.file("store.db");
        const std::string options = std::string("{\"key\":\"") + kKey + "\"}";
        spr_store *store = nullptr;
        if (spr_open(path.c_str(), options.c_str(), &store) != SPR_OK) throw std::runtime_error(spr_last_error());
        const std::string a = make_state("a", 20);
        char *out = nullptr;
        if (spr_record(store, "shop", a.c_str(), nullptr, &out) != SPR_OK) throw std::runtime_error(spr_last_error());
        spr_free(out);
        std::vector<double> ns;
        for (auto _ : state) {
            auto t0 = Clock::now();
            const int rc = spr_record(store, "shop", a.c_str(), nullptr, &out);
            ns.push_back(std::chrono::duration<double, std::nano>(Clock::now() - t0).count());
            const bool unchanged = rc == SPR_OK && std::string_view(out).find("\"unchanged\"") != std::string_view::npos;
            spr_free(out);
            if (!unchanged) {
                state.SkipWithError("record of the same state was not unchanged");
                break;
            }
        }
        spr_close(store);
        latency_counters(state, ns);
    } catch (const std::exception &e) {
        state.SkipWithError(e.what());
    }
}

// Its floor: the pure decision on the same document, spr_policy_evaluate(same, same).
void BM_PolicyEvaluate_Same_CApi(benchmark::State &state) {
    const std::string a = make_state("a", 20);
    std::vector<double> ns;
    for (auto _ : state) {
        char *out = nullptr;
        auto t0 = Clock::now();
        const int rc = spr_policy_evaluate(nullptr, a.c_str(), a.c_str(), &out);
        ns.push_back(std::chrono::duration<double, std::nano>(Clock::now() - t0).count());
        spr_free(out);
        if (rc != SPR_OK) {
            state.SkipWithError(spr_last_error());
            break;
        }
    }
    latency_counters(state, ns);
}

// The floor: WAL-mode table, one row of g_version_bytes random bytes per
// transaction (BEGIN IMMEDIATE; INSERT; COMMIT), synchronous FULL or NORMAL.
void BM_RawSqlite_Insert(benchmark::State &state, sr::Durability d) {
    try {
        TempDir dir;
        RawDb r(dir.file("raw.db"));
        r.exec("PRAGMA journal_mode=WAL");
        r.exec(d == sr::Durability::full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
        r.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, data BLOB NOT NULL)");
        std::string row(static_cast<std::size_t>(g_version_bytes), '\0');
        std::mt19937 rng(7);
        for (auto &c : row) c = static_cast<char>(rng());
        sqlite3_stmt *ins = nullptr;
        sqlite3_prepare_v2(r.db, "INSERT INTO t(data) VALUES(?)", -1, &ins, nullptr);
        std::vector<double> ns;
        for (auto _ : state) {
            auto t0 = Clock::now();
            r.exec("BEGIN IMMEDIATE");
            row[0] = static_cast<char>(ns.size()); // not byte-identical rows
            sqlite3_bind_blob(ins, 1, row.data(), static_cast<int>(row.size()), SQLITE_STATIC);
            if (sqlite3_step(ins) != SQLITE_DONE) {
                state.SkipWithError(sqlite3_errmsg(r.db));
                break;
            }
            sqlite3_reset(ins);
            r.exec("COMMIT");
            ns.push_back(std::chrono::duration<double, std::nano>(Clock::now() - t0).count());
        }
        sqlite3_finalize(ins);
        state.counters["row_bytes"] = static_cast<double>(g_version_bytes);
        latency_counters(state, ns);
    } catch (const std::exception &e) {
        state.SkipWithError(e.what());
    }
}

// ---- 2. reads on a long history ---------------------------------------------

// Floor for point reads: a raw WAL table of 10,000 rows of g_version_bytes each.
struct RawTable {
    TempDir dir;
    std::unique_ptr<RawDb> db;
};
RawTable &raw_table_10k() {
    static std::unique_ptr<RawTable> t = [] {
        auto t = std::make_unique<RawTable>();
        t->db = std::make_unique<RawDb>(t->dir.file("raw.db"));
        t->db->exec("PRAGMA journal_mode=WAL");
        t->db->exec("CREATE TABLE t(id INTEGER PRIMARY KEY, data BLOB NOT NULL)");
        t->db->exec("BEGIN");
        sqlite3_stmt *ins = nullptr;
        sqlite3_prepare_v2(t->db->db, "INSERT INTO t(id, data) VALUES(?, randomblob(?))", -1, &ins, nullptr);
        for (int i = 1; i <= 10000; ++i) {
            sqlite3_bind_int(ins, 1, i);
            sqlite3_bind_int64(ins, 2, g_version_bytes);
            sqlite3_step(ins);
            sqlite3_reset(ins);
        }
        sqlite3_finalize(ins);
        t->db->exec("COMMIT");
        return t;
    }();
    return *t;
}

// One read transaction reading one row by key into memory (prepared once).
void BM_RawSqlite_PointRead(benchmark::State &state) {
    RawTable &t = raw_table_10k();
    sqlite3_stmt *sel = nullptr;
    sqlite3_prepare_v2(t.db->db, "SELECT data FROM t WHERE id=?", -1, &sel, nullptr);
    int id = 0;
    for (auto _ : state) {
        t.db->exec("BEGIN");
        sqlite3_bind_int(sel, 1, 1 + (id++ * 7919) % 10000);
        if (sqlite3_step(sel) == SQLITE_ROW) {
            std::string data(static_cast<const char *>(sqlite3_column_blob(sel, 0)),
                             static_cast<std::size_t>(sqlite3_column_bytes(sel, 0)));
            benchmark::DoNotOptimize(data.data());
        }
        sqlite3_reset(sel);
        t.db->exec("COMMIT");
    }
    sqlite3_finalize(sel);
}


struct History {
    TempDir dir;
    std::unique_ptr<sr::VersionStore> store;
    std::int64_t current = 0, oldest = 0;
    double build_seconds = 0;
};

// `records` records of one-env-var changes (new value each time), durability
// normal, then the store is reopened with durability full (the default).
std::unique_ptr<History> build_history(int records, long history_limit) {
    auto h = std::make_unique<History>();
    auto t0 = Clock::now();
    {
        auto s = open_store(h->dir.file("store.db"), sr::Durability::normal);
        for (int i = 1; i <= records; ++i) s->record("shop", make_state("r" + std::to_string(i), history_limit));
    }
    h->build_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    h->store = open_store(h->dir.file("store.db"), sr::Durability::full);
    auto vs = h->store->versions("shop");
    h->current = vs.front().number;
    h->oldest = vs.back().number;
    return h;
}

History &history_10k() {
    static std::unique_ptr<History> h = build_history(10000, 100000);
    return *h;
}
History &history_10k_limit20() {
    static std::unique_ptr<History> h = build_history(10000, 20);
    return *h;
}

template <class F>
void read_bench(benchmark::State &state, History &(*fixture)(), F op) {
    try {
        History &h = fixture();
        std::vector<double> ns;
        for (auto _ : state) {
            auto t0 = Clock::now();
            op(h, state);
            ns.push_back(std::chrono::duration<double, std::nano>(Clock::now() - t0).count());
        }
        latency_counters(state, ns);
        state.counters["retained"] = static_cast<double>(h.current - h.oldest + 1);
        state.counters["build_s"] = h.build_seconds;
    } catch (const std::exception &e) {
        state.SkipWithError(e.what());
    }
}

// The floor for listing: one read transaction that reads every row of the
// store's own `versions` table (10,000 rows) into memory, through a second,
// raw connection on the same file. It depends only on that table's name.
void BM_RawSqlite_ScanVersionsTable_10k(benchmark::State &state) {
    try {
        History &h = history_10k();
        RawDb r(h.dir.file("store.db"));
        sqlite3_stmt *sel = nullptr;
        if (sqlite3_prepare_v2(r.db, "SELECT * FROM versions", -1, &sel, nullptr) != SQLITE_OK)
            throw std::runtime_error(sqlite3_errmsg(r.db));
        std::size_t n = 0;
        for (auto _ : state) {
            std::vector<std::vector<std::string>> rows;
            r.exec("BEGIN");
            while (sqlite3_step(sel) == SQLITE_ROW) {
                auto &row = rows.emplace_back();
                for (int c = 0, nc = sqlite3_column_count(sel); c < nc; ++c)
                    row.emplace_back(static_cast<const char *>(sqlite3_column_blob(sel, c)),
                                     static_cast<std::size_t>(sqlite3_column_bytes(sel, c)));
            }
            sqlite3_reset(sel);
            r.exec("COMMIT");
            n = rows.size();
            benchmark::DoNotOptimize(rows.data());
        }
        sqlite3_finalize(sel);
        state.counters["rows"] = static_cast<double>(n);
    } catch (const std::exception &e) {
        state.SkipWithError(e.what());
    }
}

void BM_Versions_10k(benchmark::State &state) {
    read_bench(state, history_10k, [](History &h, benchmark::State &) {
        auto v = h.store->versions("shop");
        benchmark::DoNotOptimize(v.data());
    });
}
void BM_Versions_10k_Limit20(benchmark::State &state) {
    read_bench(state, history_10k_limit20, [](History &h, benchmark::State &) {
        auto v = h.store->versions("shop");
        benchmark::DoNotOptimize(v.data());
    });
}
// The newest page of 20 from all 10,000 retained versions (versions paging).
void BM_VersionsPage20_10k(benchmark::State &state) {
    read_bench(state, history_10k, [](History &h, benchmark::State &) {
        auto v = h.store->versions("shop", 0, 20);
        benchmark::DoNotOptimize(v.data());
    });
}
// A page of 20 from the middle of the history.
void BM_VersionsPage20_10k_Middle(benchmark::State &state) {
    read_bench(state, history_10k, [](History &h, benchmark::State &) {
        auto v = h.store->versions("shop", (h.current + h.oldest) / 2, 20);
        benchmark::DoNotOptimize(v.data());
    });
}
void BM_Diff_10k_CurrentVsOldest(benchmark::State &state) {
    read_bench(state, history_10k, [](History &h, benchmark::State &) {
        auto d = h.store->diff("shop", h.current, h.oldest);
        benchmark::DoNotOptimize(d.changes.data());
    });
}
void BM_Plan_10k_ToOldest(benchmark::State &state) {
    read_bench(state, history_10k, [](History &h, benchmark::State &) {
        sr::RollbackPlanner planner(*h.store);
        auto p = planner.plan("shop", h.oldest);
        const std::string j = p.to_json(); // what the C API returns (was built inside plan())
        benchmark::DoNotOptimize(j.data());
    });
}
void BM_Get_10k_Oldest(benchmark::State &state) {
    read_bench(state, history_10k, [](History &h, benchmark::State &) {
        auto d = h.store->get("shop", h.oldest, false);
        benchmark::DoNotOptimize(d.state_json.data());
    });
}
void BM_Get_10k_Oldest_Reveal(benchmark::State &state) {
    read_bench(state, history_10k, [](History &h, benchmark::State &) {
        auto d = h.store->get("shop", h.oldest, true);
        benchmark::DoNotOptimize(d.state_json.data());
    });
}

// ---- 3. bytes per version ---------------------------------------------------

struct GrowthResult {
    DbSize v1, end;
    int versions = 0;
    double record_mean_us = 0;
    std::size_t canonical_bytes = 0; // canonical form of one state: what a full copy would cost
};

// Record v1, measure; record `n` more one-env-var changes, measure.
GrowthResult growth(int n, const std::string *big_file_raw) {
    const std::string escaped = big_file_raw ? json_escape(*big_file_raw) : std::string();
    const std::string *big_file = big_file_raw ? &escaped : nullptr;
    TempDir dir;
    const std::string path = dir.file("store.db");
    GrowthResult g;
    g.canonical_bytes = sr::canonical_state(make_state("r1", 100000, big_file)).size();
    {
        auto s = open_store(path, sr::Durability::normal);
        s->record("shop", make_state("r0", 100000, big_file));
    }
    g.v1 = measure(path);
    {
        auto s = open_store(path, sr::Durability::normal);
        auto t0 = Clock::now();
        for (int i = 1; i <= n; ++i) {
            auto r = s->record("shop", make_state("r" + std::to_string(i), 100000, big_file));
            if (r.outcome != spinner_rollback::Outcome::created) throw std::runtime_error("record did not create a version");
        }
        g.record_mean_us = std::chrono::duration<double, std::micro>(Clock::now() - t0).count() / n;
        g.versions = static_cast<int>(s->versions("shop").size());
    }
    g.end = measure(path);
    return g;
}

void growth_counters(benchmark::State &state, const GrowthResult &g, int n) {
    state.counters["versions"] = g.versions;
    state.counters["v1_file_bytes"] = static_cast<double>(g.v1.file_bytes);
    state.counters["v1_payload_bytes"] = static_cast<double>(g.v1.payload_bytes);
    state.counters["total_file_bytes"] = static_cast<double>(g.end.file_bytes);
    state.counters["total_payload_bytes"] = static_cast<double>(g.end.payload_bytes);
    state.counters["file_B_per_version"] = static_cast<double>(g.end.file_bytes - g.v1.file_bytes) / n;
    state.counters["payload_B_per_version"] = static_cast<double>(g.end.payload_bytes - g.v1.payload_bytes) / n;
    state.counters["record_mean_us"] = g.record_mean_us;
    state.counters["canonical_state_bytes"] = static_cast<double>(g.canonical_bytes);
    // Where the bytes of a version go, per table/index (dbstat payload).
    for (const auto &[table, end] : g.end.payload_by_table) {
        auto it = g.v1.payload_by_table.find(table);
        double d = static_cast<double>(end - (it == g.v1.payload_by_table.end() ? 0 : it->second)) / n;
        if (d != 0) state.counters["per_version:" + table] = d;
    }
}

constexpr int kGrowthVersions = 1000;

void BM_Bytes_OneEnvChange(benchmark::State &state) {
    try {
        for (auto _ : state) {
            GrowthResult g = growth(kGrowthVersions, nullptr);
            growth_counters(state, g, kGrowthVersions);
        }
    } catch (const std::exception &e) {
        state.SkipWithError(e.what());
    }
}

void BM_Bytes_1MiBConfigMapUnchanged(benchmark::State &state) {
    try {
        const std::string big = make_big_config(1 << 20);
        for (auto _ : state) {
            GrowthResult g = growth(kGrowthVersions, &big);
            growth_counters(state, g, kGrowthVersions);
            state.counters["map_raw_bytes"] = static_cast<double>(big.size());
            state.counters["blobs_payload_bytes"] = static_cast<double>(g.end.payload_by_table["blobs"]);
            // total / (what v1 cost + n × what a small version costs). ≈ 1 means
            // the map is stored once; ≈ n would mean a copy per version.
            GrowthResult small = growth(100, nullptr);
            double small_per_version =
                static_cast<double>(small.end.payload_bytes - small.v1.payload_bytes) / 100;
            state.counters["dedup_ratio"] =
                static_cast<double>(g.end.payload_bytes) /
                (static_cast<double>(g.v1.payload_bytes) + kGrowthVersions * small_per_version);
        }
    } catch (const std::exception &e) {
        state.SkipWithError(e.what());
    }
}

// ---- summary ----------------------------------------------------------------

struct Result {
    double real_ns = 0; // mean wall time per iteration
    double cpu_ns = 0;  // mean CPU time of the benchmark thread per iteration
    std::map<std::string, double> counters;
};
std::map<std::string, Result> g_results;

class CapturingReporter : public benchmark::ConsoleReporter {
public:
    using benchmark::ConsoleReporter::ConsoleReporter;
    void ReportRuns(const std::vector<Run> &runs) override {
        for (const auto &run : runs) {
            if (run.error_occurred || run.iterations == 0) continue;
            Result r;
            r.real_ns = run.real_accumulated_time * 1e9 / static_cast<double>(run.iterations);
            r.cpu_ns = run.cpu_accumulated_time * 1e9 / static_cast<double>(run.iterations);
            for (const auto &[k, c] : run.counters) r.counters[k] = c.value;
            g_results[run.benchmark_name()] = r;
        }
        ConsoleReporter::ReportRuns(runs);
    }
};

// Run names carry suffixes such as "/min_time:2.000/real_time": match by prefix.
const Result *find(const std::string &name) {
    for (const auto &[k, r] : g_results)
        if (k == name || k.rfind(name + "/", 0) == 0) return &r;
    return nullptr;
}

std::string fmt(const char *f, double v) {
    char b[64];
    std::snprintf(b, sizeof b, f, v);
    return b;
}

std::string loadavg() {
    std::ifstream f("/proc/loadavg");
    std::string l;
    std::getline(f, l);
    return l;
}
std::string g_load_start;

std::string summary() {
    std::ostringstream o;
    o << "\n==== spinner_rollback benchmark summary (floors measured in this run) ====\n";
    o << "load average at start: " << g_load_start << "; at end: " << loadavg()
      << " (2 cores; other work on the machine inflates wall times)\n";
    o << "raw SQLite row size = " << g_version_bytes << " B (payload bytes of one stored version)\n\n";
    o << "1. record latency vs raw SQLite WAL insert+COMMIT (target ratio <= 1.5x)\n";
    o << "   variant              record mean    p50      (cpu)      raw mean     p50     (cpu)   ratio(mean) ratio(p50) ratio(cpu)\n";
    for (const char *dur : {"full", "normal"}) {
        const Result *raw = find(std::string("RawSqlite_Insert/") + dur);
        for (const char *kind : {"Alternating", "NewValue"}) {
            const Result *rec = find(std::string("Record_") + kind + "/" + dur);
            if (!rec || !raw) continue;
            double ratio = rec->real_ns / raw->real_ns;
            double ratio50 = rec->counters.at("p50_us") / raw->counters.at("p50_us");
            char line[256];
            std::snprintf(line, sizeof line,
                          "   %-20s %8.1f us %8.1f %8.1f   %8.1f us %8.1f %8.1f   %6.2fx %s %6.2fx %6.2fx\n",
                          (std::string(kind) + "/" + dur).c_str(), rec->real_ns / 1e3,
                          rec->counters.at("p50_us"), rec->cpu_ns / 1e3, raw->real_ns / 1e3,
                          raw->counters.at("p50_us"), raw->cpu_ns / 1e3, ratio, ratio <= 1.5 ? "ok  " : "MISS",
                          ratio50, rec->cpu_ns / raw->cpu_ns);
            o << line;
        }
    }
    o << "\n2. reads on a 10,000-version history (target < 1 ms each)\n";
    const Result *point = find("RawSqlite_PointRead"), *scan = find("RawSqlite_ScanVersionsTable_10k");
    if (point)
        o << "   floor RawSqlite_PointRead (1 row, 1 read tx): " << fmt("%.1f us", point->real_ns / 1e3)
          << fmt(" (cpu %.1f us)", point->cpu_ns / 1e3) << "\n";
    if (scan)
        o << "   floor RawSqlite_ScanVersionsTable_10k (its 10,000 rows, 1 read tx): " << fmt("%.1f us", scan->real_ns / 1e3)
          << fmt(" (cpu %.1f us)", scan->cpu_ns / 1e3) << "\n";
    for (const char *name : {"Versions_10k", "Versions_10k_Limit20", "VersionsPage20_10k",
                             "VersionsPage20_10k_Middle", "Diff_10k_CurrentVsOldest",
                             "Plan_10k_ToOldest", "Get_10k_Oldest", "Get_10k_Oldest_Reveal"}) {
        const Result *r = find(name);
        if (!r) continue;
        const bool is_scan = std::string(name) == "Versions_10k";
        const Result *floor = is_scan ? scan : point;
        char line[256];
        std::snprintf(line, sizeof line, "   %-26s %9.1f us (cpu %9.1f) %5.0f retained  %s = %6.1fx %s\n", name,
                      r->real_ns / 1e3, r->cpu_ns / 1e3, r->counters.count("retained") ? r->counters.at("retained") : 0.0,
                      r->real_ns < 1e6 ? "ok  " : "MISS", floor ? r->real_ns / floor->real_ns : 0.0,
                      is_scan ? "the versions-table scan" : "a point read");
        o << line;
    }
    o << "\n3. bytes per version (1,000 versions after v1)\n";
    for (const char *name : {"Bytes_OneEnvChange", "Bytes_1MiBConfigMapUnchanged"}) {
        const Result *r = find(name);
        if (!r) continue;
        const auto &c = r->counters;
        o << "   " << name << ": payload " << fmt("%.0f", c.at("payload_B_per_version")) << " B/version, file "
          << fmt("%.0f", c.at("file_B_per_version")) << " B/version"
          << (c.at("file_B_per_version") < 1024 ? " (ok, < 1 KiB)" : " (MISS, >= 1 KiB)") << "; v1 payload "
          << fmt("%.0f", c.at("v1_payload_bytes")) << " B; total payload "
          << fmt("%.0f", c.at("total_payload_bytes")) << " B, file " << fmt("%.0f", c.at("total_file_bytes"))
          << " B; record " << fmt("%.0f", c.at("record_mean_us")) << " us";
        o << "\n      per version = " << fmt("%.4f", c.at("payload_B_per_version") / c.at("canonical_state_bytes"))
          << "x a full uncompressed copy of the state (" << fmt("%.0f", c.at("canonical_state_bytes"))
          << " B); total = " << fmt("%.4f", c.at("total_payload_bytes") / (c.at("versions") * c.at("canonical_state_bytes")))
          << "x " << fmt("%.0f", c.at("versions")) << " full copies";
        if (c.count("dedup_ratio"))
            o << "; total/(v1 + 1000 x one-env-change version) = " << fmt("%.3f", c.at("dedup_ratio"))
              << " (1.0 = the map is stored once)";
        o << "\n";
    }
    o << "\n4. the reconcile path: spr_record of the latest state vs the pure decision (target <= 1.0x)\n";
    const Result *rec = find("Record_Unchanged_CApi"), *eval = find("PolicyEvaluate_Same_CApi");
    if (rec && eval) {
        const double ratio = rec->real_ns / eval->real_ns;
        o << "   Record_Unchanged_CApi " << fmt("%.1f us", rec->real_ns / 1e3) << fmt(" (p50 %.1f)", rec->counters.at("p50_us"))
          << "; PolicyEvaluate_Same_CApi " << fmt("%.1f us", eval->real_ns / 1e3)
          << fmt(" (p50 %.1f)", eval->counters.at("p50_us")) << "; ratio " << fmt("%.2fx", ratio)
          << (ratio <= 1.0 ? " ok" : " MISS") << "\n";
    }
    return o.str();
}

// Payload bytes per stored version of the realistic state (one env var change).
std::int64_t measure_version_bytes() {
    GrowthResult g = growth(100, nullptr);
    return std::max<std::int64_t>(64, (g.end.payload_bytes - g.v1.payload_bytes) / 100);
}

void register_all() {
    using benchmark::RegisterBenchmark;
    for (auto d : {sr::Durability::full, sr::Durability::normal}) {
        std::string n = dur_name(d);
        RegisterBenchmark(("RawSqlite_Insert/" + n).c_str(), BM_RawSqlite_Insert, d)
            ->UseRealTime()->MinTime(2.0)->Unit(benchmark::kMicrosecond);
        RegisterBenchmark(("Record_Alternating/" + n).c_str(), BM_Record_Alternating, d)
            ->UseRealTime()->MinTime(2.0)->Unit(benchmark::kMicrosecond);
        RegisterBenchmark(("Record_NewValue/" + n).c_str(), BM_Record_NewValue, d)
            ->UseRealTime()->MinTime(2.0)->Unit(benchmark::kMicrosecond);
    }
    for (auto [name, fn] : std::initializer_list<std::pair<const char *, void (*)(benchmark::State &)>>{
             {"RawSqlite_PointRead", BM_RawSqlite_PointRead},
             {"RawSqlite_ScanVersionsTable_10k", BM_RawSqlite_ScanVersionsTable_10k},
             {"Versions_10k", BM_Versions_10k},
             {"Versions_10k_Limit20", BM_Versions_10k_Limit20},
             {"VersionsPage20_10k", BM_VersionsPage20_10k},
             {"VersionsPage20_10k_Middle", BM_VersionsPage20_10k_Middle},
             {"Diff_10k_CurrentVsOldest", BM_Diff_10k_CurrentVsOldest},
             {"Plan_10k_ToOldest", BM_Plan_10k_ToOldest},
             {"Get_10k_Oldest", BM_Get_10k_Oldest},
             {"Get_10k_Oldest_Reveal", BM_Get_10k_Oldest_Reveal}})
        RegisterBenchmark(name, fn)->UseRealTime()->MinTime(1.0)->Unit(benchmark::kMicrosecond);
    RegisterBenchmark("Record_Unchanged_CApi", BM_Record_Unchanged_CApi)
        ->UseRealTime()->MinTime(1.0)->Unit(benchmark::kMicrosecond);
    RegisterBenchmark("PolicyEvaluate_Same_CApi", BM_PolicyEvaluate_Same_CApi)
        ->UseRealTime()->MinTime(1.0)->Unit(benchmark::kMicrosecond);
    RegisterBenchmark("Bytes_OneEnvChange", BM_Bytes_OneEnvChange)->Iterations(1)->Unit(benchmark::kMillisecond);
    RegisterBenchmark("Bytes_1MiBConfigMapUnchanged", BM_Bytes_1MiBConfigMapUnchanged)
        ->Iterations(1)->Unit(benchmark::kMillisecond);
}

} // namespace

int main(int argc, char **argv) {
    std::string summary_out;
    const char *tmp = std::getenv("TMPDIR");
    g_base_dir = tmp && *tmp ? tmp : "/tmp";
    std::vector<char *> args;
    for (int i = 0; i < argc; ++i) {
        std::string a = argv[i];
        if (a.rfind("--spr_summary_out=", 0) == 0) summary_out = a.substr(18);
        else if (a.rfind("--spr_dir=", 0) == 0) g_base_dir = a.substr(10);
        else args.push_back(argv[i]);
    }
    int n = static_cast<int>(args.size());
    benchmark::Initialize(&n, args.data());
    if (benchmark::ReportUnrecognizedArguments(n, args.data())) return 1;

    g_load_start = loadavg();
    try {
        g_version_bytes = measure_version_bytes();
    } catch (const std::exception &e) {
        std::cerr << "spr_bench: cannot measure the size of a version (" << e.what()
                  << "); raw baseline uses 1024-byte rows\n";
        g_version_bytes = 1024;
    }
    std::cout << "spinner_rollback " << sr::version_string() << ", SQLite " << sqlite3_libversion()
              << ", stores in " << g_base_dir << "\n";
    register_all();
    CapturingReporter reporter;
    benchmark::RunSpecifiedBenchmarks(&reporter);
    benchmark::Shutdown();

    std::string s = summary();
    std::cout << s << std::flush;
    if (!summary_out.empty()) {
        std::ofstream f(summary_out);
        f << s;
    }
    return 0;
}
