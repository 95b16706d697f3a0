// The storage engine under test. By default every store a test opens is a
// SQLite file; when SPR_TEST_POSTGRES names a PostgreSQL server (a libpq
// URI), each store is instead a fresh schema on that server, so the same
// test cases run unchanged against both engines (the conformance suite,
// docs/backends.md). SPR_TEST_POSTGRES_DATA, when set, is the server's data
// directory: at_rest_bytes() then reads what PostgreSQL keeps on disk.
//
// Test cases that inspect engine-specific internals are tagged [sqlite] or
// [postgres]; the other engine's run excludes them.
#pragma once

#include <sqlite3.h>
#include <libpq-fe.h>

#include <atomic>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <unistd.h>

namespace spr_backend {

namespace fs = std::filesystem;

inline const char *pg_base() {
    const char *e = std::getenv("SPR_TEST_POSTGRES");
    return e && *e ? e : nullptr;
}
inline bool on_postgres() { return pg_base() != nullptr; }
inline bool is_pg(const std::string &location) {
    return location.rfind("postgres://", 0) == 0 || location.rfind("postgresql://", 0) == 0;
}

/// Run `statement` (one or more SQL statements) on the server or file.
inline void sql(const std::string &location, const std::string &statement) {
    if (is_pg(location)) {
        PGconn *c = PQconnectdb(location.c_str());
        if (PQstatus(c) != CONNECTION_OK) {
            std::string m = PQerrorMessage(c);
            PQfinish(c);
            throw std::runtime_error("test: cannot connect to PostgreSQL: " + m);
        }
        PGresult *r = PQexec(c, ("SET client_min_messages = warning; " + statement).c_str());
        const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
        std::string m = ok ? "" : PQresultErrorMessage(r);
        PQclear(r);
        PQfinish(c);
        if (!ok) throw std::runtime_error("test SQL failed: " + m + " in: " + statement);
        return;
    }
    sqlite3 *db = nullptr;
    if (sqlite3_open(location.c_str(), &db) != SQLITE_OK) {
        sqlite3_close(db);
        throw std::runtime_error("test: cannot open " + location);
    }
    char *err = nullptr;
    int rc = sqlite3_exec(db, statement.c_str(), nullptr, nullptr, &err);
    std::string m = err ? err : "";
    sqlite3_free(err);
    sqlite3_close(db);
    if (rc != SQLITE_OK) throw std::runtime_error("test SQL failed: " + m + " in: " + statement);
}

/// The text in the first column of the first row of `query` ("" if NULL).
inline std::string query_text(const std::string &location, const std::string &query) {
    if (is_pg(location)) {
        PGconn *c = PQconnectdb(location.c_str());
        PGresult *r = PQexec(c, query.c_str());
        const bool ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0;
        std::string m = ok ? "" : PQresultErrorMessage(r) + std::string(PQerrorMessage(c));
        std::string v = ok && !PQgetisnull(r, 0, 0) ? PQgetvalue(r, 0, 0) : "";
        PQclear(r);
        PQfinish(c);
        if (!ok) throw std::runtime_error("test query failed: " + m + " in: " + query);
        return v;
    }
    sqlite3 *db = nullptr;
    sqlite3_stmt *st = nullptr;
    std::string v;
    bool ok = sqlite3_open(location.c_str(), &db) == SQLITE_OK &&
              sqlite3_prepare_v2(db, query.c_str(), -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW;
    if (ok && sqlite3_column_type(st, 0) != SQLITE_NULL)
        v = reinterpret_cast<const char *>(sqlite3_column_text(st, 0));
    std::string m = db ? sqlite3_errmsg(db) : "";
    sqlite3_finalize(st);
    sqlite3_close(db);
    if (!ok) throw std::runtime_error("test query failed: " + m + " in: " + query);
    return v;
}

/// The integer in the first column of the first row of `query` (0 if NULL).
inline std::int64_t query_int(const std::string &location, const std::string &query) {
    return std::strtoll(query_text(location, query).c_str(), nullptr, 10);
}

/// Set the store's schema version as each engine records it.
inline void set_schema_version(const std::string &location, int v) {
    if (is_pg(location))
        sql(location, "UPDATE meta SET value = convert_to('" + std::to_string(v) + "', 'UTF8') WHERE key = 'schema_version'");
    else
        sql(location, "PRAGMA user_version = " + std::to_string(v));
}

/// Bytes of stored rows (blobs and versions): what retention and dedup save.
inline std::int64_t payload_bytes(const std::string &location) {
    if (is_pg(location))
        return query_int(location, "SELECT (SELECT coalesce(sum(pg_column_size(b.*)), 0) FROM blobs b) + "
                                   "(SELECT coalesce(sum(pg_column_size(v.*)), 0) FROM versions v)");
    return query_int(location, "SELECT sum(payload) FROM dbstat");
}

inline std::string slurp(const fs::path &p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

/// Everything the engine keeps on disk for the store: the SQLite file with
/// its -wal and -shm, or (after a CHECKPOINT) every file of the PostgreSQL
/// data directory, WAL included.
inline std::string at_rest_bytes(const std::string &location) {
    std::string out;
    if (!is_pg(location)) {
        for (const char *suffix : {"", "-wal", "-shm"}) {
            std::error_code ec;
            if (fs::exists(location + suffix, ec)) out += slurp(location + suffix);
        }
        return out;
    }
    const char *data = std::getenv("SPR_TEST_POSTGRES_DATA");
    if (!data || !*data) throw std::runtime_error("SPR_TEST_POSTGRES_DATA must name the server's data directory");
    sql(location, "CHECKPOINT");
    for (const auto &e : fs::recursive_directory_iterator(data, fs::directory_options::skip_permission_denied)) {
        std::error_code ec;
        if (e.is_regular_file(ec)) out += slurp(e.path());
    }
    if (out.size() < 1024 * 1024) throw std::runtime_error("PostgreSQL data directory looks empty");
    return out;
}

/// Holds the store's writer lock, as a writer in another process would
/// (SQLite: BEGIN IMMEDIATE; PostgreSQL: the store's advisory lock), until
/// destroyed.
class WriterLock {
public:
    explicit WriterLock(const std::string &location) {
        if (is_pg(location)) {
            pg_ = PQconnectdb(location.c_str());
            PGresult *r = PQexec(pg_, "BEGIN; SELECT pg_advisory_xact_lock(1936749170, hashtext(current_schema()))");
            const bool ok = PQresultStatus(r) == PGRES_TUPLES_OK;
            PQclear(r);
            if (!ok) throw std::runtime_error("test: cannot take the PostgreSQL writer lock");
            return;
        }
        if (sqlite3_open(location.c_str(), &db_) != SQLITE_OK ||
            sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK)
            throw std::runtime_error("test: cannot take the SQLite writer lock");
    }
    ~WriterLock() {
        if (pg_) PQfinish(pg_); // ends the transaction and its lock
        if (db_) {
            sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
            sqlite3_close(db_);
        }
    }
    WriterLock(const WriterLock &) = delete;
    WriterLock &operator=(const WriterLock &) = delete;

private:
    PGconn *pg_ = nullptr;
    sqlite3 *db_ = nullptr;
};

/// Polls the server (up to 2.5 s) until the one session named `app` waits
/// for the store's writer lock; false if it never does.
inline bool wait_for_writer_lock_wait(const std::string &app) {
    for (int i = 0; i < 500; ++i) {
        if (query_int(pg_base(), "SELECT count(*) FROM pg_stat_activity WHERE application_name = '" + app +
                                     "' AND wait_event = 'advisory'") == 1)
            return true;
        usleep(5000);
    }
    return false;
}

/// Stores for one test: files under `dir`, or fresh schemas dropped at the end.
class Stores {
public:
    explicit Stores(fs::path dir) : dir_(std::move(dir)) {}
    ~Stores() {
        for (const auto &s : schemas_) {
            try {
                sql(pg_base(), "DROP SCHEMA IF EXISTS " + s + " CASCADE");
            } catch (...) {
            }
        }
    }
    Stores(const Stores &) = delete;
    Stores &operator=(const Stores &) = delete;

    /// A new, empty store location named `name` within this test.
    std::string location(const std::string &name) {
        if (!on_postgres()) return (dir_ / (name + ".db")).string();
        static std::atomic<int> counter{0};
        std::string schema = "t" + std::to_string(::getpid()) + "_" + std::to_string(++counter) + "_";
        for (char c : name) schema += (std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::tolower(c)) : '_');
        sql(pg_base(), "DROP SCHEMA IF EXISTS " + schema + " CASCADE; CREATE SCHEMA " + schema);
        schemas_.push_back(schema);
        std::string base = pg_base();
        std::string uri = base + (base.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" + schema;
        locations_.emplace_back(name, uri);
        return uri;
    }
    /// The location made for `name`, or a new one.
    std::string get(const std::string &name) {
        if (!on_postgres()) return location(name);
        for (const auto &[n, uri] : locations_)
            if (n == name) return uri;
        return location(name);
    }

private:
    fs::path dir_;
    std::vector<std::string> schemas_;
    std::vector<std::pair<std::string, std::string>> locations_;
};

} // namespace spr_backend
