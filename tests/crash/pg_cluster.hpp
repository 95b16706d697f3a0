// A throwaway PostgreSQL cluster for the fault tests (scripts/pg-server.sh
// under a fresh /tmp directory, destroyed at the end), and an admin
// connection (libpq) to inject faults and inspect the server.
#pragma once

#include "fault_check.hpp"

#include <libpq-fe.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#ifndef SPR_SOURCE_DIR
#error "SPR_SOURCE_DIR must be defined"
#endif

namespace spr_test {

// Runs a shell command; its exit code and combined output.
inline int run_command(const std::string &cmd, std::string &output) {
    output.clear();
    std::FILE *p = ::popen((cmd + " 2>&1").c_str(), "r");
    if (!p) return -1;
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) output.append(buf, n);
    int status = ::pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

// A throwaway server made by one of the scripts (scripts/pg-server.sh,
// scripts/pg-cluster.sh) in a fresh /tmp directory: started on construction
// (the script's last output line is its URI), destroyed with its directory
// on destruction.
class ScriptedServer {
public:
    ScriptedServer(const ScriptedServer &) = delete;
    ScriptedServer &operator=(const ScriptedServer &) = delete;

    const std::string &uri() const { return uri_; }
    const std::string &dir() const { return dir_; }

protected:
    // Runs `scripts/<script> start <dir> <start_args>`; on failure names
    // what it needs (`needs`) and shows the script's output.
    ScriptedServer(std::string script, const std::string &dir_prefix, const std::string &start_args,
                   const char *needs)
        : script_(std::string(SPR_SOURCE_DIR) + "/scripts/" + std::move(script)) {
        std::string tmpl = "/tmp/" + dir_prefix + "-XXXXXX";
        if (!mkdtemp(tmpl.data())) FAIL("mkdtemp failed");
        dir_ = tmpl;
        std::string out;
        int rc = run_command(script_ + " start " + dir_ + " " + start_args, out);
        if (rc != 0) {
            destroy();
            FAIL("cannot start " << needs << " with " << script_ << " (exit " << rc
                                 << "); it needs the server binaries (Debian: apt-get install postgresql). Output:\n"
                                 << out);
        }
        uri_ = last_line(out);
    }
    ~ScriptedServer() { destroy(); }

    // Runs `scripts/<script> <command> <dir>`; its exit code and output.
    int script(const std::string &command, std::string &out) const {
        return run_command(script_ + " " + command + " " + dir_, out);
    }
    static std::string last_line(std::string s) {
        while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
        if (auto nl = s.rfind('\n'); nl != std::string::npos) s = s.substr(nl + 1);
        return s;
    }

private:
    void destroy() {
        if (dir_.empty()) return;
        std::string out;
        script("destroy", out);
        std::error_code ec;
        fs::remove_all(dir_, ec);
        dir_.clear();
    }

    std::string script_, dir_, uri_;
};

// One PostgreSQL server (scripts/pg-server.sh) and an admin connection.
class PgCluster : public ScriptedServer {
public:
    PgCluster()
        : ScriptedServer("pg-server.sh", "spr-faults", std::to_string(env_int("SPR_PG_PORT", 5441)),
                         "a PostgreSQL cluster for the fault tests") {
        REQUIRE(uri().rfind("postgresql://", 0) == 0);
        exec("CREATE EXTENSION IF NOT EXISTS amcheck");
    }
    ~PgCluster() { close_admin(); }

    // A fresh, empty store: a new schema, and the URI that makes it current.
    std::string fresh_store(const std::string &schema) {
        exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE; CREATE SCHEMA " + schema);
        return uri() + "&options=-csearch_path%3D" + schema;
    }

    // Immediate (crash-like: no checkpoint, recovery from WAL) stop, then start.
    double restart() {
        close_admin();
        const auto t0 = std::chrono::steady_clock::now();
        std::string out;
        int rc = script("restart", out);
        INFO("pg-server.sh restart: " << out);
        REQUIRE(rc == 0);
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }

    // Runs SQL on the admin connection (reconnecting if needed); the first
    // column of the first row, "" when there is none.
    std::string query(const std::string &sql) {
        for (int attempt = 0;; ++attempt) {
            connect_admin();
            PGresult *r = PQexec(admin_, sql.c_str());
            ExecStatusType st = PQresultStatus(r);
            if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
                std::string v = PQntuples(r) > 0 && PQnfields(r) > 0 ? PQgetvalue(r, 0, 0) : "";
                PQclear(r);
                return v;
            }
            std::string msg = PQresultErrorMessage(r);
            const char *sqlstate = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
            const std::string state = sqlstate ? sqlstate : "";
            PQclear(r);
            const bool lost = PQstatus(admin_) != CONNECTION_OK || state.empty() || state.rfind("57", 0) == 0 ||
                              state.rfind("08", 0) == 0;
            if (lost && attempt < 100) { // e.g. after a restart or during crash recovery
                close_admin();
                std::this_thread::sleep_for(std::chrono::milliseconds(100));
                continue;
            }
            FAIL("admin SQL failed: " << msg << " in: " << sql);
        }
    }
    void exec(const std::string &sql) { query(sql); }
    long long query_int(const std::string &sql) { return std::atoll(query(sql).c_str()); }

    // Client backends other than the admin connection.
    long long client_backends() {
        return query_int("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' "
                         "AND pid <> pg_backend_pid()");
    }

    // Waits until no client backend but ours is left (a killed writer's
    // backend ends when it reads end-of-file); false after `seconds`.
    bool wait_no_clients(double seconds) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
        while (client_backends() > 0) {
            if (std::chrono::steady_clock::now() >= deadline) return false;
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
        return true;
    }

    // Structural checks of every table and index in `schema` (amcheck):
    // heap pages and tuples, and each B-tree against its heap (heapallindexed).
    // "" when sound, else the first problems found.
    std::string amcheck(const std::string &schema) {
        std::string heap = query(
            "SELECT string_agg(c.relname || ': ' || v.msg, '; ') FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace, LATERAL verify_heapam(c.oid) v "
            "WHERE n.nspname = '" + schema + "' AND c.relkind = 'r'");
        long long indexes = query_int(
            "SELECT count(bt_index_check(c.oid, true)) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_am a ON a.oid = c.relam "
            "WHERE n.nspname = '" + schema + "' AND a.amname = 'btree'");
        if (indexes < 5) return "only " + std::to_string(indexes) + " B-tree indexes checked";
        return heap;
    }

private:
    void connect_admin() {
        if (admin_ && PQstatus(admin_) == CONNECTION_OK) return;
        close_admin();
        admin_ = PQconnectdb(uri().c_str());
        if (PQstatus(admin_) == CONNECTION_OK) {
            PQclear(PQexec(admin_, "SET client_min_messages = warning"));
        }
    }
    void close_admin() {
        if (admin_) PQfinish(admin_);
        admin_ = nullptr;
    }
    PGconn *admin_ = nullptr;
};

} // namespace spr_test
