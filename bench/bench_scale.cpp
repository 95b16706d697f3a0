// Benchmarks of spinner_rollback at scale (docs/benchmarks.md, "At scale"):
// N spinners x M versions in one store (SQLite file or PostgreSQL URI), then
//
//   ops          p50/p99 of record, versions, get, diff, plan and commit on
//                random spinners and versions, each sample interleaved with a
//                raw floor operation on the same database (a durable one-row
//                INSERT, a one-row SELECT by key, a read of the spinner's rows
//                of the store's own `versions` table);
//   concurrency  records/s of 8 threads and of 4 processes writing at once
//                (different spinners / the same spinner) vs one writer, and
//                the raw floor's own 1-vs-8-connection insert throughput;
//   bigmap       record/get/plan/commit with a 1 MiB config map unchanged
//                across versions, and the bytes it adds to the store.
//
// Everything is measured in one run and reported as ratios to what the same
// run measured; see `--help` and docs/benchmarks.md.
//
//   spr_bench_scale --store /tmp/scale.db
//   spr_bench_scale --store 'postgresql:///postgres?host=/tmp/pg&port=5442&user=postgres&options=-csearch_path%3Dbench1'
#include <spinner_rollback/spinner_rollback.hpp>

#include <sqlite3.h>
#ifdef SPR_BENCH_HAVE_LIBPQ
#include <libpq-fe.h>
#endif

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <climits>
#include <cstdint>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char **environ;

namespace sr = spinner_rollback;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

// 32-byte key as 64 hex digits (a benchmark key, not a secret).
const char *const kKey = "6b1f0c9e2d4a7b3c5e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9011223344ff";

// ---- options ----------------------------------------------------------------

struct Options {
    std::string store;              // SQLite file path or postgresql:// URI
    int spinners = 1000;
    int versions = 1000;            // retained versions per spinner after populate
    int samples = 2000;             // per operation in "ops"
    int commit_samples = 200;
    std::string populate_durability = "normal";
    int populate_threads = 1;
    double populate_budget = 0;     // seconds; 0 = none
    double seconds = 10;            // per concurrency case
    int threads = 8;
    int procs = 4;
    int rounds = 3;                 // concurrency rounds
    int bigmap_versions = 100;
    int bigmap_samples = 20;
    std::string phases = "populate,ops,concurrency,bigmap";
    std::string report;             // also write the report here
    std::string floor_file;         // SQLite floor database (default STORE.floor.db)
    std::uint64_t seed = 1;
    // worker mode (a child process of the concurrency phase)
    bool worker = false;
    std::string worker_mode;
    int worker_id = 0, workers = 0;
    long long start_at_ns = 0;
    std::string nonce;
};

bool is_pg(const std::string &loc) {
    return loc.rfind("postgresql:", 0) == 0 || loc.rfind("postgres:", 0) == 0;
}

bool has_phase(const Options &o, const std::string &p) {
    std::stringstream ss(o.phases);
    std::string x;
    while (std::getline(ss, x, ','))
        if (x == p) return true;
    return false;
}

// ---- the state document -----------------------------------------------------

std::string json_escape(const std::string &s) {
    std::string o;
    o.reserve(s.size() + s.size() / 8 + 8);
    for (char c : s) {
        switch (c) {
        case '"': o += "\\\""; break;
        case '\\': o += "\\\\"; break;
        case '\n': o += "\\n"; break;
        case '\t': o += "\\t"; break;
        default: o += c;
        }
    }
    return o;
}

// The realistic state of bench_store.cpp (product.md §1), made distinct per
// spinner (image, description, config values, secret, labels) so that 1,000
// spinners do not share their content. `rev` is the value of env var REV, the
// one thing that changes between versions. `big_escaped` (already
// JSON-escaped) is added to the config map as "big.txt".
std::string make_state(const std::string &spinner, const std::string &rev, long history_limit,
                       const std::string *big_escaped = nullptr) {
    std::string s;
    s.reserve(2300 + (big_escaped ? big_escaped->size() : 0));
    s += R"({"schemaVersion":1,)";
    s += R"("settings":{"rollback":{"enabled":true,"historyLimit":)" + std::to_string(history_limit) +
         R"(},"description":")" + spinner + R"( front"},)";
    s += R"("instances":2,)";
    s += R"("containers":[{"name":"web",)";
    s += R"("image":{"reference":"registry.example/)" + spinner + R"(:1.4",)"
         R"("digest":"sha256:4f2a9c0d1e3b5a7c9e1f3a5b7c9d1e3f5a7b9c1d3e5f7a9b1c3d5e7f9a1b3c5d"},)";
    s += R"("codeVersion":"9f3c2e1",)";
    s += R"("command":["/app/shop"],"args":["--listen",":8080","--name",")" + spinner + R"("],"workingDir":"/app",)";
    s += R"("env":[{"name":"MODE","value":"prod"},)";
    s += R"({"name":"REV","value":")" + json_escape(rev) + R"("},)";
    s += R"({"name":"LOG_LEVEL","value":"info"},)";
    s += R"({"name":"DB_HOST","value":")" + spinner + R"(-db.internal:5432"},)";
    s += R"({"name":"DB_PASSWORD","secretRef":{"name":"db","key":"password"}},)";
    s += R"({"name":"FLAGS","configMapRef":{"name":"shop-config","key":"flags"}}],)";
    s += R"("ports":[{"name":"http","containerPort":8080,"protocol":"TCP","expose":true},)"
         R"({"name":"metrics","containerPort":9090,"protocol":"TCP","expose":false}],)";
    s += R"("resources":{"cpu":"500m","memory":"256Mi"},)";
    s += R"("securityContext":{"runAsUser":1000,"runAsNonRoot":true,"readOnlyRootFilesystem":true,)"
         R"("allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]}},)";
    s += R"("mounts":[{"path":"/etc/shop","configMap":"shop-config"},)"
         R"({"path":"/run/secrets/db","secret":"db"},)"
         R"({"path":"/var/lib/shop","volume":"data"}],)";
    s += R"("probes":{"readiness":{"httpGet":{"path":"/healthz","port":8080}}}}],)";
    s += R"("volumes":[{"name":"data","mode":"shared","size":"1Gi","storageClass":"standard",)"
         R"("volumeId":"vol-)" + spinner + R"("}],)";
    s += R"("configMaps":{"shop-config":{"flags":"a,b",)"
         R"("app.yaml":"name: )" + spinner + R"(\nlisten: 8080\ncache:\n  size: 64Mi\n  ttl: 30s\nfeatures:\n  checkout: true\n")";
    if (big_escaped) s += R"(,"big.txt":")" + *big_escaped + "\"";
    s += "}},";
    s += R"("secrets":{"db":{"password":"s3cr3t-)" + spinner + R"(-Pa55w0rd"}},)";
    s += R"("labels":{"team":"shop","tier":"frontend","app":")" + spinner + R"("},)";
    s += R"("extensions":{}})";
    return s;
}

// ~1 MiB of config-file-like text, as in bench_store.cpp.
std::string make_big_config(std::size_t bytes) {
    std::mt19937_64 rng(42);
    std::string out;
    out.reserve(bytes + 64);
    char line[64];
    for (std::size_t i = 0; out.size() < bytes; ++i) {
        int n = std::snprintf(line, sizeof line, "key_%zu = %016llx\n", i, static_cast<unsigned long long>(rng()));
        out.append(line, static_cast<std::size_t>(n));
    }
    out.resize(bytes);
    return out;
}

std::string spinner_name(int i) {
    char b[16];
    std::snprintf(b, sizeof b, "s%04d", i);
    return b;
}

long history_limit_for(const Options &o) { return std::max(1, o.versions - 1); }

std::unique_ptr<sr::VersionStore> open_store(const std::string &loc, sr::Durability d) {
    sr::StoreOptions o;
    o.key = kKey;
    o.durability = d;
    o.busy_timeout_ms = 30000;
    return sr::VersionStore::open(loc, o);
}

// ---- statistics -------------------------------------------------------------

struct Stats {
    std::vector<double> us;
    void add(Clock::duration d) { us.push_back(std::chrono::duration<double, std::micro>(d).count()); }
    double pct(double p) {
        if (us.empty()) return std::nan("");
        std::sort(us.begin(), us.end());
        return us[std::min(us.size() - 1, static_cast<std::size_t>(p * static_cast<double>(us.size())))];
    }
    double p50() { return pct(0.50); }
    double p99() { return pct(0.99); }
    double mean() const {
        double s = 0;
        for (double x : us) s += x;
        return us.empty() ? std::nan("") : s / static_cast<double>(us.size());
    }
};

template <class F> Clock::duration timed(F &&f) {
    auto t0 = Clock::now();
    f();
    return Clock::now() - t0;
}

std::string fmt(const char *f, double v) {
    char b[64];
    std::snprintf(b, sizeof b, f, v);
    return b;
}
std::string us_str(double us) {
    if (std::isnan(us)) return "–";
    if (us >= 100000) return fmt("%.0f ms", us / 1000);
    if (us >= 10000) return fmt("%.1f ms", us / 1000);
    if (us >= 1000) return fmt("%.2f ms", us / 1000);
    return fmt("%.0f µs", us);
}
std::string ratio_str(double r) {
    if (std::isnan(r) || std::isinf(r)) return "–";
    if (r >= 100) return fmt("%.0f×", r);
    if (r >= 10) return fmt("%.1f×", r);
    return fmt("%.2f×", r);
}
std::string thousands(double v) {
    char b[64];
    std::snprintf(b, sizeof b, "%.0f", v);
    std::string s = b, o;
    int n = 0;
    for (auto it = s.rbegin(); it != s.rend(); ++it) {
        if (n && n % 3 == 0 && *it != '-') o.insert(o.begin(), ',');
        o.insert(o.begin(), *it);
        ++n;
    }
    return o;
}

std::string loadavg() {
    std::ifstream f("/proc/loadavg");
    std::string l;
    std::getline(f, l);
    return l.substr(0, l.find(' ', l.find(' ', l.find(' ') + 1) + 1));
}

std::string now_utc() {
    std::time_t t = std::time(nullptr);
    char b[32];
    std::strftime(b, sizeof b, "%Y-%m-%d %H:%M:%S UTC", std::gmtime(&t));
    return b;
}

// The report: printed as it is built, and written to --report at the end.
std::ostringstream g_report;
void out(const std::string &s) {
    std::cout << s << std::flush;
    g_report << s;
}
void log(const std::string &s) { std::cerr << "[" << now_utc().substr(11, 8) << "] " << s << std::endl; }

// ---- raw floors ---------------------------------------------------------------

// The database underneath the store, used directly: the same SQLite file
// system / the same PostgreSQL server, schema and socket.
class Floor {
public:
    virtual ~Floor() = default;
    virtual std::string describe() const = 0;
    /// Create the floor tables; fill the read table with `rows` rows of `row_bytes`.
    virtual void setup(std::int64_t row_bytes, std::int64_t rows) = 0;
    /// One durable one-row INSERT of `data` into the write table (as the
    /// store's default durability: fsync per commit); returns its id.
    virtual std::int64_t insert(std::string_view data) = 0;
    /// Read one row of the write table by id (in a read transaction).
    virtual std::size_t read_written(std::int64_t id) = 0;
    /// Read one row of the read table by key (in a read transaction).
    virtual std::size_t point_read(std::int64_t id) = 0;
    /// Read every row of the store's `versions` table of one spinner, every
    /// column copied out (in a read transaction); returns the row count.
    virtual std::size_t scan_versions(const std::string &spinner) = 0;
    /// The same for at most `limit` rows numbered below `before` (0 = from
    /// the newest): the floor of one page of versions(spinner, before, limit).
    virtual std::size_t scan_versions_page(const std::string &spinner, std::int64_t before, std::int64_t limit) = 0;
    /// A new connection for concurrent inserts.
    virtual std::unique_ptr<Floor> writer() = 0;
    /// Bytes the store takes on disk (floor tables excluded).
    virtual std::int64_t store_bytes() = 0;
    /// Payload bytes of the store (SQLite: dbstat), or -1 when not available.
    virtual std::int64_t store_payload_bytes() { return -1; }
    /// Empty the write table and flush what the floor's writes left behind
    /// (SQLite: WAL checkpoint; PostgreSQL: TRUNCATE + CHECKPOINT), so that
    /// the next case does not pay for them.
    virtual void settle() = 0;
    /// Drop the floor tables.
    virtual void teardown() = 0;
};

class SqliteConn {
public:
    explicit SqliteConn(const std::string &path, bool readonly = false) {
        int fl = readonly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
        if (sqlite3_open_v2(path.c_str(), &db, fl | SQLITE_OPEN_URI, nullptr) != SQLITE_OK)
            throw std::runtime_error("sqlite3_open " + path + ": " + sqlite3_errmsg(db));
        sqlite3_busy_timeout(db, 30000);
    }
    ~SqliteConn() {
        for (auto &[k, st] : stmts) sqlite3_finalize(st);
        sqlite3_close_v2(db);
    }
    SqliteConn(const SqliteConn &) = delete;
    SqliteConn &operator=(const SqliteConn &) = delete;
    void exec(const std::string &sql) {
        char *err = nullptr;
        if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
            std::string m = err ? err : "?";
            sqlite3_free(err);
            throw std::runtime_error("sqlite: " + m + " in " + sql);
        }
    }
    sqlite3_stmt *stmt(const std::string &sql) {
        auto it = stmts.find(sql);
        if (it != stmts.end()) {
            sqlite3_reset(it->second);
            sqlite3_clear_bindings(it->second);
            return it->second;
        }
        sqlite3_stmt *st = nullptr;
        if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK)
            throw std::runtime_error(std::string("sqlite prepare: ") + sqlite3_errmsg(db) + " in " + sql);
        stmts[sql] = st;
        return st;
    }
    std::int64_t scalar(const std::string &sql) {
        sqlite3_stmt *st = stmt(sql);
        std::int64_t v = 0;
        if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
        sqlite3_reset(st);
        return v;
    }
    sqlite3 *db = nullptr;
    std::map<std::string, sqlite3_stmt *> stmts;
};

std::size_t copy_sqlite_row(sqlite3_stmt *st) {
    std::size_t bytes = 0;
    int n = sqlite3_column_count(st);
    for (int c = 0; c < n; ++c) {
        const void *p = sqlite3_column_blob(st, c);
        std::string v(static_cast<const char *>(p), static_cast<std::size_t>(sqlite3_column_bytes(st, c)));
        bytes += v.size();
    }
    return bytes;
}

class SqliteFloor : public Floor {
public:
    SqliteFloor(std::string store_path, std::string floor_path)
        : store_path_(std::move(store_path)), floor_path_(std::move(floor_path)),
          rawp_(std::make_unique<SqliteConn>(floor_path_)), raw_(*rawp_) {
        raw_.exec("PRAGMA journal_mode=WAL");
        raw_.exec("PRAGMA synchronous=FULL");
        raw_.exec("CREATE TABLE IF NOT EXISTS w(id INTEGER PRIMARY KEY, data BLOB NOT NULL)");
    }
    std::string describe() const override {
        return "raw SQLite " + std::string(sqlite3_libversion()) + " file " + floor_path_ +
               " (WAL, synchronous=FULL)";
    }
    void setup(std::int64_t row_bytes, std::int64_t rows) override {
        raw_.exec("DROP TABLE IF EXISTS r");
        raw_.exec("CREATE TABLE r(id INTEGER PRIMARY KEY, data BLOB NOT NULL)");
        raw_.exec("BEGIN");
        sqlite3_stmt *ins = raw_.stmt("INSERT INTO r(id, data) VALUES(?, randomblob(?))");
        for (std::int64_t i = 1; i <= rows; ++i) {
            sqlite3_reset(ins);
            sqlite3_bind_int64(ins, 1, i);
            sqlite3_bind_int64(ins, 2, row_bytes);
            if (sqlite3_step(ins) != SQLITE_DONE) throw std::runtime_error(sqlite3_errmsg(raw_.db));
        }
        sqlite3_reset(ins);
        raw_.exec("COMMIT");
        raw_.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    }
    std::int64_t insert(std::string_view data) override {
        raw_.exec("BEGIN IMMEDIATE");
        sqlite3_stmt *st = raw_.stmt("INSERT INTO w(data) VALUES(?)");
        sqlite3_bind_blob(st, 1, data.data(), static_cast<int>(data.size()), SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE) {
            std::string m = sqlite3_errmsg(raw_.db);
            raw_.exec("ROLLBACK");
            throw std::runtime_error("floor insert: " + m);
        }
        sqlite3_reset(st);
        raw_.exec("COMMIT");
        return sqlite3_last_insert_rowid(raw_.db);
    }
    std::size_t read_by(const char *sql, std::int64_t id) {
        raw_.exec("BEGIN");
        sqlite3_stmt *st = raw_.stmt(sql);
        sqlite3_bind_int64(st, 1, id);
        std::size_t n = 0;
        if (sqlite3_step(st) == SQLITE_ROW) n = copy_sqlite_row(st);
        sqlite3_reset(st);
        raw_.exec("COMMIT");
        return n;
    }
    std::size_t read_written(std::int64_t id) override { return read_by("SELECT data FROM w WHERE id=?", id); }
    std::size_t point_read(std::int64_t id) override { return read_by("SELECT data FROM r WHERE id=?", id); }
    std::size_t scan_versions(const std::string &spinner) override {
        SqliteConn &s = store_conn();
        s.exec("BEGIN");
        sqlite3_stmt *st = s.stmt("SELECT v.* FROM versions v WHERE v.spinner_id=(SELECT id FROM spinners WHERE "
                                  "name=?) ORDER BY v.number DESC");
        sqlite3_bind_text(st, 1, spinner.data(), static_cast<int>(spinner.size()), SQLITE_STATIC);
        std::size_t rows = 0;
        while (sqlite3_step(st) == SQLITE_ROW) {
            copy_sqlite_row(st);
            ++rows;
        }
        sqlite3_reset(st);
        s.exec("COMMIT");
        return rows;
    }
    std::size_t scan_versions_page(const std::string &spinner, std::int64_t before, std::int64_t limit) override {
        SqliteConn &s = store_conn();
        s.exec("BEGIN");
        sqlite3_stmt *st = s.stmt("SELECT v.* FROM versions v WHERE v.spinner_id=(SELECT id FROM spinners WHERE "
                                  "name=?) AND v.number<? ORDER BY v.number DESC LIMIT ?");
        sqlite3_bind_text(st, 1, spinner.data(), static_cast<int>(spinner.size()), SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, before > 0 ? before : INT64_MAX);
        sqlite3_bind_int64(st, 3, limit);
        std::size_t rows = 0;
        while (sqlite3_step(st) == SQLITE_ROW) {
            copy_sqlite_row(st);
            ++rows;
        }
        sqlite3_reset(st);
        s.exec("COMMIT");
        return rows;
    }
    std::unique_ptr<Floor> writer() override { return std::make_unique<SqliteFloor>(store_path_, floor_path_); }
    std::int64_t store_bytes() override {
        SqliteConn &s = store_conn();
        s.exec("PRAGMA wal_checkpoint(PASSIVE)");
        return s.scalar("PRAGMA page_count") * s.scalar("PRAGMA page_size");
    }
    std::int64_t store_payload_bytes() override {
        SqliteConn &s = store_conn();
        s.exec("BEGIN");
        std::int64_t v = s.scalar("SELECT sum(payload) FROM dbstat");
        s.exec("COMMIT");
        return v;
    }
    void settle() override {
        raw_.exec("DELETE FROM w");
        raw_.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    }
    void teardown() override {
        store_.reset();
        rawp_.reset();
        for (const char *suffix : {"", "-wal", "-shm"}) {
            std::error_code ec;
            fs::remove(floor_path_ + suffix, ec);
        }
    }

private:
    SqliteConn &store_conn() {
        if (!store_) store_ = std::make_unique<SqliteConn>(store_path_);
        return *store_;
    }
    std::string store_path_, floor_path_;
    std::unique_ptr<SqliteConn> rawp_;
    SqliteConn &raw_;
    std::unique_ptr<SqliteConn> store_;
};

#ifdef SPR_BENCH_HAVE_LIBPQ
class PgConn {
public:
    explicit PgConn(const std::string &uri) {
        c = PQconnectdb(uri.c_str());
        if (PQstatus(c) != CONNECTION_OK) {
            std::string m = PQerrorMessage(c);
            PQfinish(c);
            throw std::runtime_error("libpq connect: " + m);
        }
    }
    ~PgConn() { PQfinish(c); }
    PgConn(const PgConn &) = delete;
    PgConn &operator=(const PgConn &) = delete;
    struct Res {
        PGresult *r;
        ~Res() { PQclear(r); }
    };
    void check(PGresult *r, const std::string &what) {
        auto st = PQresultStatus(r);
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
            std::string m = PQresultErrorMessage(r);
            PQclear(r);
            throw std::runtime_error("libpq: " + m + " in " + what);
        }
    }
    void exec(const std::string &sql) {
        PGresult *r = PQexec(c, sql.c_str());
        check(r, sql);
        PQclear(r);
    }
    std::string scalar(const std::string &sql) {
        PGresult *r = PQexec(c, sql.c_str());
        check(r, sql);
        Res h{r};
        return PQntuples(r) && !PQgetisnull(r, 0, 0) ? PQgetvalue(r, 0, 0) : "";
    }
    void prepare(const std::string &name, const std::string &sql, int nparams) {
        PGresult *r = PQprepare(c, name.c_str(), sql.c_str(), nparams, nullptr);
        check(r, sql);
        PQclear(r);
    }
    // Run a prepared statement with binary parameters; results in binary.
    PGresult *run(const std::string &name, const std::vector<std::string> &params, bool binary_params) {
        std::vector<const char *> v;
        std::vector<int> len, fmtv;
        for (const auto &p : params) {
            v.push_back(p.data());
            len.push_back(static_cast<int>(p.size()));
            fmtv.push_back(binary_params ? 1 : 0);
        }
        PGresult *r = PQexecPrepared(c, name.c_str(), static_cast<int>(params.size()), v.data(), len.data(),
                                     fmtv.data(), 1);
        check(r, name);
        return r;
    }
    PGconn *c = nullptr;
};

std::size_t copy_pg_rows(PGresult *r) {
    std::size_t rows = static_cast<std::size_t>(PQntuples(r));
    int nf = PQnfields(r);
    for (std::size_t i = 0; i < rows; ++i)
        for (int f = 0; f < nf; ++f) {
            std::string v(PQgetvalue(r, static_cast<int>(i), f),
                          static_cast<std::size_t>(PQgetlength(r, static_cast<int>(i), f)));
            (void)v;
        }
    return rows;
}

std::string be64(std::int64_t v) {
    std::string s(8, '\0');
    for (int i = 7; i >= 0; --i) {
        s[static_cast<std::size_t>(i)] = static_cast<char>(v & 0xff);
        v >>= 8;
    }
    return s;
}

class PgFloor : public Floor {
public:
    explicit PgFloor(std::string uri) : uri_(std::move(uri)), pg_(uri_) {
        schema_ = pg_.scalar("SELECT current_schema()");
        if (schema_.empty()) throw std::runtime_error("PostgreSQL: no current schema (search_path)");
        server_ = pg_.scalar("SHOW server_version");
        sync_ = pg_.scalar("SHOW synchronous_commit");
        fsync_ = pg_.scalar("SHOW fsync");
        pg_.exec("SET client_min_messages=warning");
        pg_.exec("CREATE TABLE IF NOT EXISTS spr_bench_floor_w(id bigserial PRIMARY KEY, data bytea NOT NULL)");
        // No pglz attempt on big rows: the floor is the cheapest durable write.
        pg_.exec("ALTER TABLE spr_bench_floor_w ALTER COLUMN data SET STORAGE EXTERNAL");
        pg_.exec("CREATE TABLE IF NOT EXISTS spr_bench_floor_r(id bigint PRIMARY KEY, data bytea NOT NULL)");
    }
    std::string describe() const override {
        return "raw libpq on the same server (PostgreSQL " + server_ + ", schema " + schema_ + ", fsync=" + fsync_ +
               ", synchronous_commit=" + sync_ + "), prepared statements, binary, bytea STORAGE EXTERNAL";
    }
    void setup(std::int64_t row_bytes, std::int64_t rows) override {
        pg_.exec("TRUNCATE spr_bench_floor_r");
        // Incompressible-looking bytes (chained md5), row_bytes per row; below
        // the TOAST threshold for version-sized rows, as the store's rows are.
        const std::int64_t reps = (row_bytes + 15) / 16;
        pg_.exec("INSERT INTO spr_bench_floor_r SELECT g, substring(decode(repeat(md5(g::text), " +
                 std::to_string(reps) + "), 'hex') || decode(md5((g*7)::text), 'hex') FROM 1 FOR " +
                 std::to_string(row_bytes) + ") FROM generate_series(1, " + std::to_string(rows) + ") g");
        pg_.exec("VACUUM ANALYZE spr_bench_floor_r");
    }
    // Prepared on first use.
    PGresult *run(const char *name, const std::vector<std::string> &params, bool binary_params) {
        static const std::map<std::string, std::string> sql = {
            {"ins", "INSERT INTO spr_bench_floor_w(data) VALUES($1) RETURNING id"},
            {"readw", "SELECT data FROM spr_bench_floor_w WHERE id=$1::bigint"},
            {"readr", "SELECT data FROM spr_bench_floor_r WHERE id=$1::bigint"},
            {"scan", "SELECT v.* FROM versions v WHERE v.spinner_id=(SELECT id FROM spinners WHERE name=$1) "
                     "ORDER BY v.number DESC"},
            {"page", "SELECT v.* FROM versions v WHERE v.spinner_id=(SELECT id FROM spinners WHERE name=$1) "
                     "AND v.number<$2::bigint ORDER BY v.number DESC LIMIT $3::bigint"}};
        if (!prepared_.count(name)) {
            pg_.prepare(name, sql.at(name), static_cast<int>(params.size()));
            prepared_.insert(name);
        }
        return pg_.run(name, params, binary_params);
    }
    std::int64_t insert(std::string_view data) override {
        PGresult *r = run("ins", {std::string(data)}, true);
        PgConn::Res h{r};
        std::int64_t id = 0;
        const unsigned char *p = reinterpret_cast<const unsigned char *>(PQgetvalue(r, 0, 0));
        for (int i = 0; i < 8; ++i) id = (id << 8) | p[i];
        return id;
    }
    std::size_t read_written(std::int64_t id) override {
        PgConn::Res h{run("readw", {be64(id)}, true)};
        return copy_pg_rows(h.r);
    }
    std::size_t point_read(std::int64_t id) override {
        PgConn::Res h{run("readr", {be64(id)}, true)};
        return copy_pg_rows(h.r);
    }
    std::size_t scan_versions(const std::string &spinner) override {
        PgConn::Res h{run("scan", {spinner}, false)};
        return copy_pg_rows(h.r);
    }
    std::size_t scan_versions_page(const std::string &spinner, std::int64_t before, std::int64_t limit) override {
        PgConn::Res h{run("page", {spinner, std::to_string(before > 0 ? before : INT64_MAX), std::to_string(limit)}, false)};
        return copy_pg_rows(h.r);
    }
    std::unique_ptr<Floor> writer() override { return std::make_unique<PgFloor>(uri_); }
    std::int64_t store_bytes() override {
        std::string v = pg_.scalar(
            "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c JOIN pg_namespace n ON "
            "n.oid=c.relnamespace WHERE n.nspname=current_schema() AND c.relkind IN ('r','m') AND c.relname NOT "
            "LIKE 'spr_bench_floor%'");
        return std::stoll(v);
    }
    // Sum of pg_column_size over every row of the store's tables (stored
    // column bytes, compressed or TOASTed as stored, plus row headers).
    std::int64_t store_payload_bytes() override {
        PgConn::Res h{PQexec(pg_.c, "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid=c.relnamespace "
                                    "WHERE n.nspname=current_schema() AND c.relkind='r' AND c.relname NOT LIKE "
                                    "'spr_bench_floor%'")};
        if (PQresultStatus(h.r) != PGRES_TUPLES_OK) return -1;
        std::int64_t total = 0;
        for (int i = 0; i < PQntuples(h.r); ++i) {
            char *q = PQescapeIdentifier(pg_.c, PQgetvalue(h.r, i, 0), std::strlen(PQgetvalue(h.r, i, 0)));
            std::string t = q;
            PQfreemem(q);
            total += std::stoll(pg_.scalar("SELECT coalesce(sum(pg_column_size(t.*)), 0) FROM " + t + " t"));
        }
        return total;
    }
    void settle() override {
        pg_.exec("TRUNCATE spr_bench_floor_w");
        pg_.exec("CHECKPOINT");
    }
    void teardown() override {
        pg_.exec("DROP TABLE IF EXISTS spr_bench_floor_r");
        pg_.exec("DROP TABLE IF EXISTS spr_bench_floor_w");
    }

private:
    std::string uri_;
    PgConn pg_;
    std::string schema_, server_, sync_, fsync_;
    std::set<std::string> prepared_;
};
#endif

std::unique_ptr<Floor> make_floor(const Options &o) {
    if (is_pg(o.store)) {
#ifdef SPR_BENCH_HAVE_LIBPQ
        return std::make_unique<PgFloor>(o.store);
#else
        throw std::runtime_error("built without libpq: no PostgreSQL floor");
#endif
    }
    std::string path = o.store;
    if (path.rfind("file:", 0) == 0) path = path.substr(5, path.find('?') == std::string::npos ? std::string::npos
                                                                                                 : path.find('?') - 5);
    return std::make_unique<SqliteFloor>(path, o.floor_file.empty() ? path + ".floor.db" : o.floor_file);
}

// Payload bytes of one stored version of the realistic state (one env var
// change), measured on a temporary SQLite store: the floor rows have this size
// on both backends.
std::int64_t measure_version_bytes() {
    std::string tmpl = (fs::temp_directory_path() / "spr-scale-XXXXXX").string();
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (!mkdtemp(buf.data())) throw std::runtime_error("mkdtemp");
    fs::path dir = buf.data();
    std::string path = (dir / "v.db").string();
    auto payload = [&] {
        SqliteConn c(path);
        c.exec("PRAGMA wal_checkpoint(TRUNCATE)");
        return c.scalar("SELECT sum(payload) FROM dbstat");
    };
    {
        auto s = open_store(path, sr::Durability::normal);
        s->record("s0000", make_state("s0000", "v0", 100000));
    }
    std::int64_t p1 = payload();
    {
        auto s = open_store(path, sr::Durability::normal);
        for (int i = 1; i <= 100; ++i) s->record("s0000", make_state("s0000", "v" + std::to_string(i), 100000));
    }
    std::int64_t p2 = payload();
    fs::remove_all(dir);
    return std::max<std::int64_t>(64, (p2 - p1) / 100);
}

std::string random_bytes(std::size_t n, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::string s(n, '\0');
    for (auto &c : s) c = static_cast<char>(rng());
    return s;
}

// ---- populate -------------------------------------------------------------------

struct World {
    Options opt;
    std::unique_ptr<sr::VersionStore> store; // durability full
    std::unique_ptr<Floor> floor;
    std::vector<std::int64_t> current;       // per spinner, as far as this process knows
    std::int64_t row_bytes = 0;
    std::string nonce;
    int case_seq = 0;
    std::map<std::string, double> small_p50; // ops phase: p50 per operation (µs)
    std::mt19937_64 rng;
    std::int64_t total_versions() const {
        std::int64_t t = 0;
        for (auto c : current) t += std::min<std::int64_t>(c, history_limit_for(opt) + 1);
        return t;
    }
    std::int64_t oldest(int s) const { return std::max<std::int64_t>(1, current[static_cast<std::size_t>(s)] - history_limit_for(opt)); }
};

void refresh_current(World &w) {
    w.current.assign(static_cast<std::size_t>(w.opt.spinners), 0);
    for (int i = 0; i < w.opt.spinners; ++i) {
        try {
            w.current[static_cast<std::size_t>(i)] = w.store->spinner_info(spinner_name(i)).current_version;
        } catch (const sr::Error &e) {
            if (e.code() != sr::ErrorCode::not_found) throw;
        }
    }
}

struct PopulateResult {
    double seconds = 0;
    std::int64_t records = 0;
    int requested_versions = 0; // when the budget cut the populate short
};

// Records v1 of every spinner, then v2, ... (versions interleaved on disk as in
// production). With a budget, stops at the end of the round in progress when
// the budget is spent, and the run continues with that many versions.
PopulateResult populate(World &w) {
    Options &o = w.opt;
    PopulateResult res;
    refresh_current(w);
    std::int64_t have = 0, want = static_cast<std::int64_t>(o.spinners) * o.versions;
    for (auto c : w.current) have += std::min<std::int64_t>(c, o.versions);
    if (have >= want) {
        log("populate: the store already holds " + thousands(static_cast<double>(have)) + " versions; skipped");
        return res;
    }
    const auto dur = o.populate_durability == "full" ? sr::Durability::full : sr::Durability::normal;
    log("populate: " + std::to_string(o.spinners) + " spinners x " + std::to_string(o.versions) +
        " versions, durability " + o.populate_durability + ", " + std::to_string(o.populate_threads) +
        " writer(s), round-robin over spinners" +
        (o.populate_budget > 0 ? ", budget " + fmt("%.0f", o.populate_budget) + " s" : std::string()));
    std::atomic<std::int64_t> done{have};
    std::atomic<bool> failed{false};
    std::atomic<int> stop_round{o.versions}; // last round to finish
    std::atomic<int> max_round{0};           // highest round any writer started
    std::string failure;
    std::mutex fm;
    const auto t0 = Clock::now();
    std::vector<std::thread> ths;
    const std::vector<std::int64_t> start = w.current;
    const long limit = history_limit_for(o);
    for (int t = 0; t < o.populate_threads; ++t) {
        ths.emplace_back([&, t] {
            try {
                auto s = open_store(o.store, dur);
                for (int v = 1; v <= stop_round.load() && !failed; ++v) {
                    int m = max_round.load();
                    while (m < v && !max_round.compare_exchange_weak(m, v)) {
                    }
                    for (int i = t; i < o.spinners && !failed; i += o.populate_threads) {
                        if (start[static_cast<std::size_t>(i)] >= v) continue;
                        const std::string name = spinner_name(i);
                        auto r = s->record(name, make_state(name, "v" + std::to_string(v), limit));
                        if (r.outcome != sr::Outcome::created) throw std::runtime_error("populate: record " + std::string(sr::to_string(r.outcome)));
                        done.fetch_add(1, std::memory_order_relaxed);
                    }
                }
            } catch (const std::exception &e) {
                std::lock_guard l(fm);
                failure = e.what();
                failed = true;
            }
        });
    }
    std::int64_t last = have;
    auto tl = Clock::now();
    std::atomic<int> finished{0};
    std::thread joiner([&] {
        for (auto &th : ths) th.join();
        finished = 1;
    });
    while (true) {
        bool all_done = false;
        for (int k = 0; k < 50 && !all_done; ++k) {
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
            all_done = finished.load() != 0;
        }
        const auto now = Clock::now();
        const std::int64_t d = done.load();
        const double el = std::chrono::duration<double>(now - t0).count();
        const double rate = static_cast<double>(d - last) / std::chrono::duration<double>(now - tl).count();
        log("populate: " + thousands(static_cast<double>(d)) + " / " + thousands(static_cast<double>(want)) + " (" +
            fmt("%.1f", 100.0 * static_cast<double>(d) / static_cast<double>(want)) + " %), " + fmt("%.0f", rate) +
            " records/s now, " + fmt("%.0f", el) + " s, load " + loadavg());
        if (o.populate_budget > 0 && el > o.populate_budget && stop_round.load() == o.versions) {
            stop_round = std::max(2, max_round.load());
            log("populate: budget spent; stopping after round " + std::to_string(stop_round.load()));
        }
        last = d;
        tl = now;
        if (all_done) break;
    }
    joiner.join();
    if (failed) throw std::runtime_error(failure);
    res.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    res.records = done.load() - have;
    if (stop_round.load() < o.versions) {
        res.requested_versions = o.versions;
        o.versions = stop_round.load(); // history limit of later records: versions - 1
    }
    return res;
}

// ---- ops ----------------------------------------------------------------------

struct OpRow {
    std::string op, what, floor_name;
    Stats op_stats, floor_stats;
    std::string note;
};

void print_ops(std::vector<OpRow> &rows) {
    out("| operation | what one sample does | p50 | p99 | floor (same run, interleaved) | floor p50 | floor p99 | "
        "**ratio p50** | **ratio p99** |\n");
    out("|---|---|---:|---:|---|---:|---:|---:|---:|\n");
    for (auto &r : rows) {
        const double a50 = r.op_stats.p50(), a99 = r.op_stats.p99(), f50 = r.floor_stats.p50(),
                     f99 = r.floor_stats.p99();
        out("| `" + r.op + "` | " + r.what + " | " + us_str(a50) + " | " + us_str(a99) + " | " + r.floor_name + " | " +
            us_str(f50) + " | " + us_str(f99) + " | **" + ratio_str(a50 / f50) + "** | **" + ratio_str(a99 / f99) +
            "** |\n");
    }
}

void phase_ops(World &w, std::vector<OpRow> &rows) {
    const Options &o = w.opt;
    refresh_current(w);
    const long limit = history_limit_for(o);
    std::uniform_int_distribution<int> pick(0, o.spinners - 1);
    const std::int64_t read_rows = std::max<std::int64_t>(1, w.total_versions());
    std::uniform_int_distribution<std::int64_t> pick_row(1, read_rows);
    log("ops: floor tables (" + thousands(static_cast<double>(read_rows)) + " rows of " +
        std::to_string(w.row_bytes) + " B)");
    auto tf = Clock::now();
    w.floor->setup(w.row_bytes, read_rows);
    log("ops: floor tables filled in " + fmt("%.1f", std::chrono::duration<double>(Clock::now() - tf).count()) + " s");
    const std::string row = random_bytes(static_cast<std::size_t>(w.row_bytes), 7);
    std::string wrow = row;

    // Check the retention the benchmark assumes on one spinner.
    {
        auto v = w.store->versions(spinner_name(0));
        std::int64_t expect = std::min<std::int64_t>(w.current[0], limit + 1);
        if (static_cast<std::int64_t>(v.size()) != expect)
            log("ops: WARNING: " + spinner_name(0) + " retains " + std::to_string(v.size()) + " versions, expected " +
                std::to_string(expect));
    }

    OpRow rec{"record", "one-env-var change of a random spinner (creates a version, prunes the oldest)",
              "durable 1-row INSERT", {}, {}, {}};
    OpRow ver{"versions", "all retained versions of a random spinner", "read of the spinner's rows of `versions`", {}, {}, {}};
    OpRow pg0{"versions(…, 0, 20)", "newest page of 20 versions of a random spinner",
              "read of those 20 rows of `versions`", {}, {}, {}};
    OpRow pgm{"versions(…, before, 20)", "page of 20 below a random retained version", "read of those 20 rows",
              {}, {}, {}};
    OpRow get{"get", "a random retained version (secrets masked)", "1-row SELECT by key", {}, {}, {}};
    OpRow dif{"diff", "two random retained versions of a random spinner", "1-row SELECT by key", {}, {}, {}};
    OpRow pln{"plan", "rollback of a random spinner to a random retained version", "1-row SELECT by key", {}, {}, {}};
    OpRow com{"commit", "plan + commit of such a rollback (commit timed)", "durable 1-row INSERT", {}, {}, {}};

    // record, interleaved with a durable raw insert.
    log("ops: record x " + std::to_string(o.samples));
    std::int64_t created_bad = 0;
    for (int i = 0; i < o.samples; ++i) {
        const int s = pick(w.rng);
        const std::string name = spinner_name(s);
        const std::string st = make_state(name, "r" + w.nonce + "-" + std::to_string(i), limit);
        sr::RecordResult r;
        rec.op_stats.add(timed([&] { r = w.store->record(name, st); }));
        if (r.outcome == sr::Outcome::created) w.current[static_cast<std::size_t>(s)] = r.version->number;
        else ++created_bad;
        wrow[0] = static_cast<char>(i);
        rec.floor_stats.add(timed([&] { w.floor->insert(wrow); }));
    }
    if (created_bad) log("ops: WARNING: " + std::to_string(created_bad) + " records created no version");

    std::size_t listed = 0, listed_floor = 0;
    log("ops: versions x " + std::to_string(o.samples));
    for (int i = 0; i < o.samples; ++i) {
        const std::string name = spinner_name(pick(w.rng));
        std::vector<sr::Version> v;
        ver.op_stats.add(timed([&] { v = w.store->versions(name); }));
        listed += v.size();
        ver.floor_stats.add(timed([&] { listed_floor += w.floor->scan_versions(name); }));
    }
    ver.note = fmt("%.0f", static_cast<double>(listed) / o.samples) + " versions per call (floor: " +
               fmt("%.0f", static_cast<double>(listed_floor) / o.samples) + " rows)";

    auto random_version = [&](int s) {
        std::uniform_int_distribution<std::int64_t> d(w.oldest(s), w.current[static_cast<std::size_t>(s)]);
        return d(w.rng);
    };
    log("ops: versions pages x " + std::to_string(o.samples));
    std::size_t paged = 0;
    for (int i = 0; i < o.samples; ++i) {
        const int s = pick(w.rng);
        const std::string name = spinner_name(s);
        std::vector<sr::Version> v;
        pg0.op_stats.add(timed([&] { v = w.store->versions(name, 0, 20); }));
        paged += v.size();
        pg0.floor_stats.add(timed([&] { w.floor->scan_versions_page(name, 0, 20); }));
        const std::int64_t before = random_version(s);
        pgm.op_stats.add(timed([&] { v = w.store->versions(name, before, 20); }));
        pgm.floor_stats.add(timed([&] { w.floor->scan_versions_page(name, before, 20); }));
    }
    pg0.note = fmt("%.1f", static_cast<double>(paged) / o.samples) + " versions per newest page";
    log("ops: get, diff, plan x " + std::to_string(o.samples));
    for (int i = 0; i < o.samples; ++i) {
        const int s = pick(w.rng);
        const std::string name = spinner_name(s);
        const std::int64_t a = random_version(s);
        get.op_stats.add(timed([&] { (void)w.store->get(name, a, false); }));
        get.floor_stats.add(timed([&] { w.floor->point_read(pick_row(w.rng)); }));
        std::int64_t b = random_version(s);
        dif.op_stats.add(timed([&] { (void)w.store->diff(name, a, b); }));
        dif.floor_stats.add(timed([&] { w.floor->point_read(pick_row(w.rng)); }));
        std::int64_t t = random_version(s);
        while (t == w.current[static_cast<std::size_t>(s)]) t = random_version(s);
        sr::RollbackPlanner planner(*w.store);
        pln.op_stats.add(timed([&] { (void)planner.plan(name, t); }));
        pln.floor_stats.add(timed([&] { w.floor->point_read(pick_row(w.rng)); }));
    }

    log("ops: commit x " + std::to_string(o.commit_samples));
    for (int i = 0; i < o.commit_samples; ++i) {
        const int s = pick(w.rng);
        const std::string name = spinner_name(s);
        std::int64_t t = random_version(s);
        while (t == w.current[static_cast<std::size_t>(s)]) t = random_version(s);
        sr::RollbackPlanner planner(*w.store);
        sr::Plan p;
        try {
            p = planner.plan(name, t);
        } catch (const sr::Error &e) {
            if (e.code() == sr::ErrorCode::identical) continue; // an earlier commit restored that content
            throw;
        }
        sr::Version v;
        com.op_stats.add(timed([&] { v = planner.commit(p); }));
        w.current[static_cast<std::size_t>(s)] = v.number;
        wrow[0] = static_cast<char>(i);
        com.floor_stats.add(timed([&] { w.floor->insert(wrow); }));
    }
    for (OpRow *r : {&rec, &ver, &get, &dif, &pln, &com}) w.small_p50[r->op] = r->op_stats.p50();
    rows.push_back(std::move(rec));
    rows.push_back(std::move(ver));
    rows.push_back(std::move(pg0));
    rows.push_back(std::move(pgm));
    rows.push_back(std::move(get));
    rows.push_back(std::move(dif));
    rows.push_back(std::move(pln));
    rows.push_back(std::move(com));
}

// ---- concurrency --------------------------------------------------------------

struct CaseResult {
    std::string name;
    int writers = 0;
    std::int64_t records = 0;
    double seconds = 0;
    std::map<std::string, int> errors;
    std::string check;
    double rate() const { return seconds > 0 ? static_cast<double>(records) / seconds : 0; }
};

// One writer's loop: records for `seconds` from `start`; spinners: mode
// "same" -> s0000, "diff" -> i = id, id + writers, ...
struct WriterOut {
    std::int64_t records = 0;
    std::map<std::string, int> errors;
};

WriterOut writer_loop(sr::VersionStore &store, const Options &o, const std::string &mode, int id, int writers,
                      const std::string &nonce, std::chrono::system_clock::time_point start, double seconds) {
    WriterOut res;
    const long limit = history_limit_for(o);
    std::vector<std::string> names;
    if (mode == "same") names.push_back(spinner_name(0));
    else
        for (int i = id; i < o.spinners; i += writers) names.push_back(spinner_name(i));
    if (names.empty()) names.push_back(spinner_name(id % o.spinners));
    // Prebuilt states: building them is not the store's work.
    std::this_thread::sleep_until(start);
    const auto end = start + std::chrono::duration_cast<std::chrono::system_clock::duration>(
                                 std::chrono::duration<double>(seconds));
    std::size_t k = 0;
    while (std::chrono::system_clock::now() < end) {
        const std::string &name = names[k % names.size()];
        const std::string st = make_state(name, "c" + nonce + "-" + std::to_string(id) + "-" + std::to_string(k), limit);
        ++k;
        try {
            auto r = store.record(name, st);
            if (r.outcome == sr::Outcome::created) ++res.records;
            else ++res.errors["outcome:" + std::string(sr::to_string(r.outcome))];
        } catch (const sr::Error &e) {
            ++res.errors[e.name()];
        } catch (const std::exception &e) {
            ++res.errors[std::string("exception:") + e.what()];
        }
    }
    return res;
}

std::int64_t total_created(sr::VersionStore &s, const Options &o) {
    std::int64_t t = 0;
    for (int i = 0; i < o.spinners; ++i) {
        try {
            t += s.spinner_info(spinner_name(i)).versions_created;
        } catch (const sr::Error &) {
        }
    }
    return t;
}

CaseResult run_threads(World &w, const std::string &name, int n, bool shared, const std::string &mode) {
    const Options &o = w.opt;
    CaseResult c;
    c.name = name;
    c.writers = n;
    std::vector<std::unique_ptr<sr::VersionStore>> handles;
    for (int i = 0; i < (shared ? 1 : n); ++i) handles.push_back(open_store(o.store, sr::Durability::full));
    const std::int64_t before = total_created(*w.store, o);
    std::vector<WriterOut> outs(static_cast<std::size_t>(n));
    const auto start = std::chrono::system_clock::now() + std::chrono::milliseconds(300);
    std::vector<std::thread> ths;
    const std::string nonce = w.nonce + "t" + std::to_string(++w.case_seq);
    for (int i = 0; i < n; ++i)
        ths.emplace_back([&, i] {
            outs[static_cast<std::size_t>(i)] =
                writer_loop(*handles[shared ? 0 : static_cast<std::size_t>(i)], o, mode, i, n, nonce, start, o.seconds);
        });
    for (auto &t : ths) t.join();
    c.seconds = std::chrono::duration<double>(std::chrono::system_clock::now() - start).count();
    for (auto &x : outs) {
        c.records += x.records;
        for (auto &[k, v] : x.errors) c.errors[k] += v;
    }
    const std::int64_t after = total_created(*w.store, o);
    c.check = after - before == c.records ? "numbers gap-free (" + std::to_string(c.records) + " assigned)"
                                          : "MISMATCH: " + std::to_string(after - before) + " numbers assigned for " +
                                                std::to_string(c.records) + " created";
    return c;
}

std::string self_exe() {
    std::error_code ec;
    auto p = fs::read_symlink("/proc/self/exe", ec);
    if (ec) throw std::runtime_error("cannot read /proc/self/exe");
    return p.string();
}

CaseResult run_procs(World &w, const std::string &name, int n, const std::string &mode) {
    const Options &o = w.opt;
    CaseResult c;
    c.name = name;
    c.writers = n;
    const std::int64_t before = total_created(*w.store, o);
    const auto start = std::chrono::system_clock::now() + std::chrono::milliseconds(1500);
    const long long start_ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(start.time_since_epoch()).count();
    const std::string exe = self_exe();
    struct Child {
        pid_t pid;
        int fd;
    };
    std::vector<Child> kids;
    const std::string nonce = w.nonce + "p" + std::to_string(++w.case_seq);
    for (int i = 0; i < n; ++i) {
        int p[2];
        if (pipe(p) != 0) throw std::runtime_error("pipe");
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, p[1], 1);
        posix_spawn_file_actions_addclose(&fa, p[0]);
        std::vector<std::string> args = {exe,
                                         "--worker",
                                         "--store=" + o.store,
                                         "--spinners=" + std::to_string(o.spinners),
                                         "--versions=" + std::to_string(o.versions),
                                         "--worker-mode=" + mode,
                                         "--worker-id=" + std::to_string(i),
                                         "--workers=" + std::to_string(n),
                                         "--seconds=" + fmt("%.3f", o.seconds),
                                         "--start-at-ns=" + std::to_string(start_ns),
                                         "--nonce=" + nonce};
        std::vector<char *> argv;
        for (auto &a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        pid_t pid = 0;
        int rc = posix_spawn(&pid, exe.c_str(), &fa, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&fa);
        close(p[1]);
        if (rc != 0) throw std::runtime_error("posix_spawn failed");
        kids.push_back({pid, p[0]});
    }
    for (auto &k : kids) {
        std::string text;
        char buf[4096];
        ssize_t r;
        while ((r = read(k.fd, buf, sizeof buf)) > 0) text.append(buf, static_cast<std::size_t>(r));
        close(k.fd);
        int status = 0;
        waitpid(k.pid, &status, 0);
        // "records N\nerror NAME COUNT\n..."
        std::istringstream is(text);
        std::string word;
        bool got = false;
        while (is >> word) {
            if (word == "records") {
                std::int64_t x;
                is >> x;
                c.records += x;
                got = true;
            } else if (word == "error") {
                std::string e;
                int x;
                is >> e >> x;
                c.errors[e] += x;
            } else if (word == "late_ms") {
                double x;
                is >> x;
                if (x > 50) c.errors["worker started late (ms): " + fmt("%.0f", x)] += 1;
            }
        }
        if (!got || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
            c.errors["worker failed: " + text.substr(0, 200)] += 1;
    }
    c.seconds = o.seconds;
    const std::int64_t after = total_created(*w.store, o);
    c.check = after - before == c.records ? "numbers gap-free (" + std::to_string(c.records) + " assigned)"
                                          : "MISMATCH: " + std::to_string(after - before) + " numbers assigned for " +
                                                std::to_string(c.records) + " created";
    return c;
}

int worker_main(const Options &o) {
    try {
        auto store = open_store(o.store, sr::Durability::full);
        const auto start = std::chrono::system_clock::time_point(
            std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::nanoseconds(o.start_at_ns)));
        const double late =
            std::chrono::duration<double, std::milli>(std::chrono::system_clock::now() - start).count();
        WriterOut r = writer_loop(*store, o, o.worker_mode, o.worker_id, o.workers, o.nonce, start, o.seconds);
        std::cout << "records " << r.records << "\n";
        std::cout << "late_ms " << std::max(0.0, late) << "\n";
        for (auto &[k, v] : r.errors) {
            std::string key = k;
            std::replace(key.begin(), key.end(), ' ', '_');
            std::cout << "error " << key << " " << v << "\n";
        }
        return 0;
    } catch (const std::exception &e) {
        std::cout << "fatal " << e.what() << "\n";
        return 1;
    }
}

// Raw floor throughput: n connections inserting durable rows for `seconds`.
double floor_throughput(World &w, int n, double seconds) {
    std::vector<std::unique_ptr<Floor>> fl;
    for (int i = 0; i < n; ++i) fl.push_back(w.floor->writer());
    std::atomic<std::int64_t> count{0};
    const auto start = Clock::now() + std::chrono::milliseconds(200);
    const auto end = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    std::vector<std::thread> ths;
    for (int i = 0; i < n; ++i)
        ths.emplace_back([&, i] {
            std::string row = random_bytes(static_cast<std::size_t>(w.row_bytes), 100 + static_cast<unsigned>(i));
            std::this_thread::sleep_until(start);
            std::int64_t k = 0;
            while (Clock::now() < end) {
                row[0] = static_cast<char>(k);
                fl[static_cast<std::size_t>(i)]->insert(row);
                ++k;
            }
            count += k;
        });
    for (auto &t : ths) t.join();
    return static_cast<double>(count) / std::chrono::duration<double>(Clock::now() - start).count();
}

struct CaseSummary {
    std::string name;
    std::vector<CaseResult> rounds;
    double median_rate() const {
        std::vector<double> r;
        for (auto &c : rounds) r.push_back(c.rate());
        std::sort(r.begin(), r.end());
        return r.empty() ? 0 : (r.size() % 2 ? r[r.size() / 2] : (r[r.size() / 2 - 1] + r[r.size() / 2]) / 2);
    }
    double min_rate() const {
        double m = 1e300;
        for (auto &c : rounds) m = std::min(m, c.rate());
        return m;
    }
    double max_rate() const {
        double m = 0;
        for (auto &c : rounds) m = std::max(m, c.rate());
        return m;
    }
};

// Every case runs `rounds` times, the cases interleaved round by round (so a
// change of the machine's load hits all of them), and reports the median.
void phase_concurrency(World &w, std::vector<CaseSummary> &cases, CaseSummary &floor1, CaseSummary &floorN) {
    const Options &o = w.opt;
    const std::string T = std::to_string(o.threads), P = std::to_string(o.procs);
    struct Spec {
        std::string name;
        int n;
        bool procs, shared;
        std::string mode;
    };
    std::vector<Spec> specs = {
        {"1 thread (single writer)", 1, false, false, "diff"},
        {T + " threads, one handle each, different spinners", o.threads, false, false, "diff"},
        {T + " threads, one shared handle, different spinners", o.threads, false, true, "diff"},
        {T + " threads, one handle each, the same spinner", o.threads, false, false, "same"},
        {P + " processes, different spinners", o.procs, true, false, "diff"},
        {P + " processes, the same spinner", o.procs, true, false, "same"},
    };
    cases.clear();
    for (auto &s : specs) cases.push_back({s.name, {}});
    floor1.name = "raw floor: 1 connection, durable 1-row INSERTs";
    floorN.name = "raw floor: " + T + " connections at once";
    // Each round: the single writer first and last (both count towards its
    // median), the other cases between them, then the raw floor, which is
    // cleaned up (settle) before the next round.
    std::vector<std::size_t> order;
    for (std::size_t i = 0; i < specs.size(); ++i) order.push_back(i);
    order.push_back(0);
    for (int round = 1; round <= o.rounds; ++round) {
        for (std::size_t i : order) {
            const Spec &s = specs[i];
            CaseResult c = s.procs ? run_procs(w, s.name, s.n, s.mode)
                                   : run_threads(w, s.name, s.n, s.shared, s.mode);
            log("concurrency: round " + std::to_string(round) + ": " + s.name + ": " + fmt("%.1f", c.rate()) +
                " records/s; " + c.check);
            cases[i].rounds.push_back(std::move(c));
        }
        log("concurrency: round " + std::to_string(round) + ": raw floor, 1 and " + T + " connections");
        CaseResult f;
        f.seconds = 1;
        f.records = static_cast<std::int64_t>(floor_throughput(w, 1, o.seconds));
        floor1.rounds.push_back(f);
        f.records = static_cast<std::int64_t>(floor_throughput(w, o.threads, o.seconds));
        floorN.rounds.push_back(f);
        w.floor->settle();
    }
}

// ---- 1 MiB config map ---------------------------------------------------------

struct BigResult {
    Stats record_v1, record_unchanged, get_cur, get_v1, plan_v1, commit, floor_insert, floor_read;
    std::int64_t bytes_before = 0, bytes_v1 = 0, bytes_after = 0;
    std::int64_t payload_before = -1, payload_v1 = -1, payload_after = -1;
    int versions = 0;
    std::size_t canonical_bytes = 0;
};

void phase_bigmap(World &w, BigResult &b) {
    const Options &o = w.opt;
    const std::string big = make_big_config(1 << 20);
    const std::string esc = json_escape(big);
    const std::string name = "big-" + w.nonce;
    const long limit = std::max<long>(history_limit_for(o), o.bigmap_versions + o.bigmap_samples + 10);
    b.canonical_bytes = sr::canonical_state(make_state(name, "b0", limit, &esc)).size();
    b.bytes_before = w.floor->store_bytes();
    b.payload_before = w.floor->store_payload_bytes();
    log("bigmap: v1 with a 1 MiB config map");
    b.record_v1.add(timed([&] { w.store->record(name, make_state(name, "b0", limit, &esc)); }));
    b.bytes_v1 = w.floor->store_bytes();
    b.payload_v1 = w.floor->store_payload_bytes();
    log("bigmap: " + std::to_string(o.bigmap_versions) + " one-env-var changes, map unchanged");
    for (int i = 1; i <= o.bigmap_versions; ++i) {
        const std::string st = make_state(name, "b" + std::to_string(i), limit, &esc);
        sr::RecordResult r;
        b.record_unchanged.add(timed([&] { r = w.store->record(name, st); }));
        if (r.outcome != sr::Outcome::created) throw std::runtime_error("bigmap: record " + std::string(sr::to_string(r.outcome)));
    }
    b.bytes_after = w.floor->store_bytes();
    b.payload_after = w.floor->store_payload_bytes();
    b.versions = o.bigmap_versions;
    const std::int64_t cur = w.store->spinner_info(name).current_version;
    for (int i = 0; i < o.bigmap_samples; ++i) {
        b.get_cur.add(timed([&] { (void)w.store->get(name, cur, false); }));
        b.get_v1.add(timed([&] { (void)w.store->get(name, 1, true); }));
        sr::RollbackPlanner planner(*w.store);
        b.plan_v1.add(timed([&] { (void)planner.plan(name, 1); }));
    }
    log("bigmap: commits");
    for (int i = 0; i < std::max(3, o.bigmap_samples / 4); ++i) {
        sr::RollbackPlanner planner(*w.store);
        sr::Plan p = planner.plan(name, 1 + i);
        b.commit.add(timed([&] { planner.commit(p); }));
    }
    // Floor: the 1 MiB file as one durable row, and read back.
    std::string raw = big;
    for (int i = 0; i < std::max(5, o.bigmap_samples / 2); ++i) {
        raw[0] = static_cast<char>('a' + i % 26);
        std::int64_t id = 0;
        b.floor_insert.add(timed([&] { id = w.floor->insert(raw); }));
        b.floor_read.add(timed([&] { w.floor->read_written(id); }));
    }
}

// ---- main -----------------------------------------------------------------------

void usage() {
    std::cout << R"(spr_bench_scale --store LOCATION [options]

LOCATION: a SQLite file path, or a PostgreSQL URI (postgresql://...; tables go
in the connection's current schema: create a fresh one, e.g. with
options=-csearch_path%3Dbench1).

  --spinners=N            spinners (default 1000)
  --versions=M            retained versions per spinner (default 1000; historyLimit M-1)
  --samples=K             samples per operation in "ops" (default 2000)
  --commit-samples=K      commits sampled in "ops" (default 200)
  --populate-durability=normal|full   durability of the bulk populate only (default normal)
  --populate-threads=T    writers during populate, one handle each (default 1)
  --populate-budget=S     stop populating at the end of the round in progress after
                          S seconds and measure with that many versions (default: none)
  --seconds=S             duration of each concurrency case (default 10)
  --threads=T --procs=P   concurrency (default 8 threads, 4 processes)
  --rounds=R              rounds of the concurrency cases, interleaved (default 3)
  --bigmap-versions=K     versions recorded with the 1 MiB map (default 100)
  --phases=LIST           populate,ops,concurrency,bigmap (default all)
  --floor-file=PATH       SQLite floor database (default STORE.floor.db)
  --report=FILE           also write the markdown report to FILE
  --seed=N                random seed (default 1)
The store is reused: populate only adds what is missing.
)";
}

Options parse(int argc, char **argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto val = [&](const char *flag) -> std::optional<std::string> {
            std::string f = flag;
            if (a.rfind(f + "=", 0) == 0) return a.substr(f.size() + 1);
            if (a == f && i + 1 < argc) return std::string(argv[++i]);
            return std::nullopt;
        };
        if (a == "--help" || a == "-h") {
            usage();
            std::exit(0);
        } else if (a == "--worker") o.worker = true;
        else if (auto v = val("--store")) o.store = *v;
        else if (auto v = val("--spinners")) o.spinners = std::stoi(*v);
        else if (auto v = val("--versions")) o.versions = std::stoi(*v);
        else if (auto v = val("--samples")) o.samples = std::stoi(*v);
        else if (auto v = val("--commit-samples")) o.commit_samples = std::stoi(*v);
        else if (auto v = val("--populate-durability")) o.populate_durability = *v;
        else if (auto v = val("--populate-threads")) o.populate_threads = std::stoi(*v);
        else if (auto v = val("--populate-budget")) o.populate_budget = std::stod(*v);
        else if (auto v = val("--seconds")) o.seconds = std::stod(*v);
        else if (auto v = val("--threads")) o.threads = std::stoi(*v);
        else if (auto v = val("--procs")) o.procs = std::stoi(*v);
        else if (auto v = val("--rounds")) o.rounds = std::stoi(*v);
        else if (auto v = val("--bigmap-versions")) o.bigmap_versions = std::stoi(*v);
        else if (auto v = val("--phases")) o.phases = *v;
        else if (auto v = val("--floor-file")) o.floor_file = *v;
        else if (auto v = val("--report")) o.report = *v;
        else if (auto v = val("--seed")) o.seed = std::stoull(*v);
        else if (auto v = val("--worker-mode")) o.worker_mode = *v;
        else if (auto v = val("--worker-id")) o.worker_id = std::stoi(*v);
        else if (auto v = val("--workers")) o.workers = std::stoi(*v);
        else if (auto v = val("--start-at-ns")) o.start_at_ns = std::stoll(*v);
        else if (auto v = val("--nonce")) o.nonce = *v;
        else {
            std::cerr << "spr_bench_scale: unknown argument " << a << " (see --help)\n";
            std::exit(2);
        }
    }
    if (o.store.empty()) {
        usage();
        std::exit(2);
    }
    if (o.spinners < 1 || o.versions < 2 || o.samples < 1 || o.populate_threads < 1 ||
        (o.populate_durability != "normal" && o.populate_durability != "full")) {
        std::cerr << "spr_bench_scale: bad option value\n";
        std::exit(2);
    }
    return o;
}

std::string fmt_secs(double s) {
    if (s >= 120) return fmt("%.1f min", s / 60);
    return fmt("%.1f s", s);
}

} // namespace

int main(int argc, char **argv) {
    Options o = parse(argc, argv);
    if (o.worker) return worker_main(o);
    const auto run_t0 = Clock::now();
    World w;
    w.opt = o;
    w.rng.seed(o.seed);
    w.nonce = std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count() %
                             1000000);
    const std::string backend = is_pg(o.store) ? "PostgreSQL" : "SQLite";
    const std::string started = now_utc(), load_start = loadavg();
    try {
        w.row_bytes = measure_version_bytes();
        log("store " + o.store + " (" + backend + "); floor row = " + std::to_string(w.row_bytes) + " B");

        // Opened first with the default durability, so that a new store's
        // schema is created by one connection.
        w.store = open_store(o.store, sr::Durability::full);
        PopulateResult pop;
        if (has_phase(o, "populate")) pop = populate(w);
        o = w.opt; // the populate budget may have lowered the versions
        w.floor = make_floor(o);
        refresh_current(w);

        out("### " + backend + ": " + thousands(o.spinners) + " spinners × " + thousands(o.versions) +
            " versions\n\n");
        out("- run started " + started + "; load average then " + load_start + "; spinner_rollback " +
            sr::version_string() + "\n");
        out("- store: `" + o.store + "`; floor: " + w.floor->describe() + "\n");
        out("- floor rows: " + std::to_string(w.row_bytes) +
            " B (payload of one stored one-env-var version, measured at start-up)\n");
        if (pop.records > 0)
            out("- populate: " + thousands(static_cast<double>(pop.records)) + " records in " + fmt_secs(pop.seconds) +
                " (" + fmt("%.0f", static_cast<double>(pop.records) / pop.seconds) + " records/s, durability `" +
                o.populate_durability + "`, " + std::to_string(o.populate_threads) +
                " writer(s), spinners round-robin); every later write uses durability `full` (the default)\n");
        if (pop.requested_versions)
            out("- **the populate budget (" + fmt("%.0f", o.populate_budget) + " s) stopped the populate after " +
                std::to_string(o.versions) + " of the " + std::to_string(pop.requested_versions) +
                " requested versions per spinner**; everything below is measured at that scale\n");
        out("- historyLimit " + std::to_string(history_limit_for(o)) + " (the current version + " +
            std::to_string(history_limit_for(o)) + " older = " + std::to_string(o.versions) +
            " retained): every later record prunes one version\n");
        {
            const std::int64_t tv = w.total_versions();
            const std::int64_t bytes = w.floor->store_bytes();
            out("- store now holds " + thousands(static_cast<double>(tv)) + " retained versions; " +
                thousands(static_cast<double>(bytes)) + " B on disk (" +
                fmt("%.0f", static_cast<double>(bytes) / static_cast<double>(std::max<std::int64_t>(1, tv))) +
                " B per version)\n\n");
        }

        if (has_phase(o, "ops")) {
            auto t0 = Clock::now();
            std::vector<OpRow> rows;
            phase_ops(w, rows);
            out("#### Operations at scale (" + std::to_string(o.samples) + " samples each; commit " +
                std::to_string(o.commit_samples) + ")\n\n");
            print_ops(rows);
            for (auto &r : rows)
                if (!r.note.empty()) out("\n`" + r.op + "`: " + r.note + ".");
            out("\n\nops phase: " + fmt_secs(std::chrono::duration<double>(Clock::now() - t0).count()) +
                "; load average now " + loadavg() + "\n\n");
        }
        if (has_phase(o, "concurrency")) {
            auto t0 = Clock::now();
            std::vector<CaseSummary> cases;
            CaseSummary f1, fN;
            phase_concurrency(w, cases, f1, fN);
            const double base = cases.empty() ? 0 : cases.front().median_rate();
            out("#### Writers at once (" + fmt("%.0f", o.seconds) + " s per case, " + std::to_string(o.rounds) +
                " rounds, cases interleaved, the single writer first and last in each round; durability `full`)\n\n");
            out("| writers | records/s (median) | min–max | **vs. 1 writer** | errors (all rounds) | numbering (all rounds) "
                "|\n|---|---:|---:|---:|---|---|\n");
            for (auto &c : cases) {
                std::map<std::string, int> errors;
                std::int64_t recs = 0;
                bool gapfree = true;
                for (auto &r : c.rounds) {
                    for (auto &[k, v] : r.errors) errors[k] += v;
                    recs += r.records;
                    gapfree = gapfree && r.check.rfind("numbers gap-free", 0) == 0;
                }
                std::string errs;
                for (auto &[k, v] : errors) errs += (errs.empty() ? "" : ", ") + k + " × " + std::to_string(v);
                std::string check = gapfree ? "gap-free, " + thousands(static_cast<double>(recs)) + " versions"
                                            : "MISMATCH (see log)";
                out("| " + c.name + " | " + fmt("%.1f", c.median_rate()) + " | " + fmt("%.0f", c.min_rate()) + "–" +
                    fmt("%.0f", c.max_rate()) + " | **" + ratio_str(c.median_rate() / base) + "** | " +
                    (errs.empty() ? "none" : errs) + " | " + check + " |\n");
            }
            out("| " + f1.name + " | " + fmt("%.1f", f1.median_rate()) + " | " + fmt("%.0f", f1.min_rate()) + "–" +
                fmt("%.0f", f1.max_rate()) + " | (1 writer = " + ratio_str(base / f1.median_rate()) +
                " of it) | | |\n");
            out("| " + fN.name + " | " + fmt("%.1f", fN.median_rate()) + " | " + fmt("%.0f", fN.min_rate()) + "–" +
                fmt("%.0f", fN.max_rate()) + " | (" + ratio_str(fN.median_rate() / f1.median_rate()) +
                " of 1 raw connection) | | |\n");
            out("\nconcurrency phase: " + fmt_secs(std::chrono::duration<double>(Clock::now() - t0).count()) +
                "; load average now " + loadavg() + "\n\n");
        }
        if (has_phase(o, "bigmap")) {
            auto t0 = Clock::now();
            BigResult b;
            phase_bigmap(w, b);
            const double per_v = static_cast<double>(b.bytes_after - b.bytes_v1) / b.versions;
            auto small = [&](const char *op, double v) {
                auto it = w.small_p50.find(op);
                return it == w.small_p50.end() ? std::string("–") : ratio_str(v / it->second) + " (" + us_str(it->second) + ")";
            };
            out("#### 1 MiB config map, unchanged across versions (spinner `" + std::string("big-…") + "` in the same store)\n\n");
            out("| operation | p50 | max | raw floor (same run) | **ratio to floor** | vs. the small state (ops p50) |\n"
                "|---|---:|---:|---|---:|---:|\n");
            const std::string fi = "durable INSERT of the 1 MiB file as one row: " + us_str(b.floor_insert.p50());
            const std::string fr = "SELECT of that row: " + us_str(b.floor_read.p50());
            out("| `record` v1 (stores the map) | " + us_str(b.record_v1.p50()) + " | | " + fi + " | **" +
                ratio_str(b.record_v1.p50() / b.floor_insert.p50()) + "** | " + small("record", b.record_v1.p50()) + " |\n");
            out("| `record`, map unchanged (" + std::to_string(b.versions) + " samples) | " + us_str(b.record_unchanged.p50()) +
                " | " + us_str(b.record_unchanged.pct(1.0)) + " | same | **" +
                ratio_str(b.record_unchanged.p50() / b.floor_insert.p50()) + "** | " +
                small("record", b.record_unchanged.p50()) + " |\n");
            out("| `get` current (secrets masked) | " + us_str(b.get_cur.p50()) + " | " + us_str(b.get_cur.pct(1.0)) +
                " | " + fr + " | **" + ratio_str(b.get_cur.p50() / b.floor_read.p50()) + "** | " +
                small("get", b.get_cur.p50()) + " |\n");
            out("| `get` v1 (secrets revealed) | " + us_str(b.get_v1.p50()) + " | " + us_str(b.get_v1.pct(1.0)) +
                " | same | **" + ratio_str(b.get_v1.p50() / b.floor_read.p50()) + "** | " + small("get", b.get_v1.p50()) +
                " |\n");
            out("| `plan` to v1 | " + us_str(b.plan_v1.p50()) + " | " + us_str(b.plan_v1.pct(1.0)) + " | same | **" +
                ratio_str(b.plan_v1.p50() / b.floor_read.p50()) + "** | " + small("plan", b.plan_v1.p50()) + " |\n");
            out("| `commit` (" + std::to_string(b.commit.us.size()) + " samples) | " + us_str(b.commit.p50()) + " | " +
                us_str(b.commit.pct(1.0)) + " | durable INSERT of the 1 MiB file | **" +
                ratio_str(b.commit.p50() / b.floor_insert.p50()) + "** | " + small("commit", b.commit.p50()) + " |\n");
            out("\nBytes: the canonical state is " + thousands(static_cast<double>(b.canonical_bytes)) +
                " B. On disk (" + (is_pg(o.store) ? "sum of `pg_total_relation_size` of the store's tables" : "`page_count × page_size`") +
                ") v1 added " + thousands(static_cast<double>(b.bytes_v1 - b.bytes_before)) + " B and the next " +
                std::to_string(b.versions) + " versions " + thousands(static_cast<double>(b.bytes_after - b.bytes_v1)) +
                " B (" + fmt("%.0f", per_v) + " B per version = " +
                fmt("%.5f", per_v / static_cast<double>(b.canonical_bytes)) + "× a full copy).");
            if (b.payload_after >= 0) {
                const double pp = static_cast<double>(b.payload_after - b.payload_v1) / b.versions;
                out(std::string(" Payload (") + (is_pg(o.store) ? "sum of `pg_column_size` of every row" : "`dbstat`") + "): v1 " + thousands(static_cast<double>(b.payload_v1 - b.payload_before)) +
                    " B, then " + fmt("%.0f", pp) + " B per version (" +
                    fmt("%.5f", pp / static_cast<double>(b.canonical_bytes)) + "× a full copy).");
            }
            out("\n\nbigmap phase: " + fmt_secs(std::chrono::duration<double>(Clock::now() - t0).count()) +"\n\n");
        }
        w.floor->teardown();
        out("run took " + fmt_secs(std::chrono::duration<double>(Clock::now() - run_t0).count()) +
            "; load average at end " + loadavg() + "\n");
    } catch (const sr::Error &e) {
        std::cerr << "spr_bench_scale: " << e.name() << ": " << e.what() << " (" << e.path() << ")\n";
        if (!o.report.empty()) std::ofstream(o.report) << g_report.str();
        return 1;
    } catch (const std::exception &e) {
        std::cerr << "spr_bench_scale: " << e.what() << "\n";
        if (!o.report.empty()) std::ofstream(o.report) << g_report.str();
        return 1;
    }
    if (!o.report.empty()) std::ofstream(o.report) << g_report.str();
    return 0;
}
