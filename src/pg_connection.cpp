// One libpq connection of the PostgreSQL engine: see pg_connection.hpp.
#include "pg_connection.hpp"

#include "db.hpp"

#include <spinner_rollback/error.hpp>

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>

namespace spinner_rollback::detail {

namespace {
// Requests sent to any PostgreSQL server by this process (each awaited answer).
std::atomic<std::uint64_t> g_round_trips{0};
} // namespace

std::uint64_t postgres_round_trips() noexcept { return g_round_trips.load(std::memory_order_relaxed); }

void PgConnection::count_round_trip() noexcept { g_round_trips.fetch_add(1, std::memory_order_relaxed); }

std::string first_line(const char *msg) {
    std::string s = msg ? msg : "";
    if (auto nl = s.find('\n'); nl != std::string::npos) s.resize(nl);
    return s.empty() ? "unknown error" : s;
}

PgConnection::PgConnection(const std::string &uri, int busy_timeout_ms)
    : busy_timeout_ms_(busy_timeout_ms), answer_timeout_(static_cast<long long>(busy_timeout_ms) + 10000) {
    // Defaults first: anything the URI names wins (expand_dbname).
    const char *const keys[] = {"connect_timeout", "application_name", "keepalives_idle",
                                "keepalives_interval", "keepalives_count", "dbname", nullptr};
    const char *const values[] = {"10", "spinner_rollback", "15", "5", "3", uri.c_str(), nullptr};
    conn_ = PQconnectdbParams(keys, values, 1);
    if (!conn_) throw Error(ErrorCode::io, "cannot connect to PostgreSQL: out of memory", "path");
    PQsetNoticeProcessor(conn_, [](void *, const char *) {}, nullptr);
    if (PQstatus(conn_) != CONNECTION_OK) {
        // libpq's message names host and port, never the password.
        std::string msg = first_line(PQerrorMessage(conn_));
        PQfinish(conn_);
        conn_ = nullptr;
        throw Error(ErrorCode::io, "cannot connect to PostgreSQL: " + msg, "path");
    }
    configure();
}

PgConnection::~PgConnection() { PQfinish(conn_); }

void PgConnection::release_inherited() noexcept {
    prepared_.clear();
    if (conn_ && PQsocket(conn_) >= 0) ::close(PQsocket(conn_));
    conn_ = nullptr;
}

void PgConnection::remember_session(const std::string &sql) {
    if (std::find(session_.begin(), session_.end(), sql) == session_.end()) session_.push_back(sql);
}

void PgConnection::probe_idle() {
    for (int i = 0; i < 4 && PQstatus(conn_) == CONNECTION_OK; ++i) {
        pollfd p{PQsocket(conn_), POLLIN, 0};
        if (::poll(&p, 1, 0) <= 0 || !PQconsumeInput(conn_)) break;
    }
}

void PgConnection::ensure_connected() {
    if (PQstatus(conn_) == CONNECTION_OK && !read_only_) return;
    read_only_ = false;
    prepared_.clear();
    PQreset(conn_);
    if (PQstatus(conn_) == CONNECTION_OK && PQpipelineStatus(conn_) != PQ_PIPELINE_OFF) PQexitPipelineMode(conn_);
    if (PQstatus(conn_) != CONNECTION_OK)
        throw Error(ErrorCode::io,
                    "lost the connection to PostgreSQL and cannot reconnect: " + first_line(PQerrorMessage(conn_)));
    configure();
}

void PgConnection::drop() noexcept {
    ::shutdown(PQsocket(conn_), SHUT_RDWR);
    PQconsumeInput(conn_);
    while (PGresult *r = PQgetResult(conn_)) PQclear(r);
    prepared_.clear();
}

// Session settings, again after every reconnect.
void PgConnection::configure() {
    // busyTimeoutMs bounds lock waits, as it does for SQLite (0 = do not wait).
    std::string wait = std::to_string(busy_timeout_ms_ > 0 ? busy_timeout_ms_ : 1) + "ms";
    PQsetnonblocking(conn_, 1); // every request waits in await() with a deadline
    // jit off: our statements are short index lookups, but a recursive
    // statement's row estimate can pass jit_above_cost once ANALYZE has
    // seen a large store, and compiling it then costs ~18 ms a call
    // (measured at 1,000 x 1,000: records fell from 650/s to 50/s).
    PGresult *r =
        query(("SET client_min_messages = warning; SET jit = off; SET lock_timeout = '" + wait + "'").c_str());
    check(r, "postgres session");
    PQclear(r);
    for (const auto &s : session_) {
        r = query(s.c_str());
        check(r, "postgres session");
        PQclear(r);
    }
}

PGresult *PgConnection::query(const char *sql) { return PQsendQuery(conn_, sql) ? await() : nullptr; }

bool PgConnection::wait_socket(short events, Clock::time_point deadline) {
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) return false;
        pollfd p{PQsocket(conn_), events, 0};
        const int n = ::poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 1000)));
        if (n > 0) return true;
        if (n < 0 && errno != EINTR) return true; // let libpq report the socket error
    }
}

// No answer in time: the connection's state is unknown, so end it (the next
// call reconnects).
void PgConnection::answer_timed_out() {
    timed_out_ = true;
    drop();
    throw Error(ErrorCode::io, "PostgreSQL did not answer within " + std::to_string(answer_timeout_.count()) +
                                   " ms; the connection was closed (retry; a write may have been applied, "
                                   "so retry it with its requestId)");
}

bool PgConnection::flush_output(Clock::time_point deadline) {
    for (int f; (f = PQflush(conn_)) != 0;) {
        if (f < 0) return false;
        if (!wait_socket(POLLIN | POLLOUT, deadline)) answer_timed_out();
        if (!PQconsumeInput(conn_)) return false;
    }
    return true;
}

PGresult *PgConnection::next_result(Clock::time_point deadline) {
    while (PQisBusy(conn_)) {
        if (!wait_socket(POLLIN, deadline)) answer_timed_out();
        if (!PQconsumeInput(conn_)) break;
    }
    return PQgetResult(conn_);
}

PGresult *PgConnection::await() {
    count_round_trip();
    const auto deadline = answer_deadline();
    PGresult *keep = nullptr;
    try {
        flush_output(deadline); // a failure shows in the results
        while (PGresult *r = next_result(deadline)) {
            const ExecStatusType st = PQresultStatus(r);
            const bool failed = st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK;
            const bool kept_failed =
                keep && PQresultStatus(keep) != PGRES_COMMAND_OK && PQresultStatus(keep) != PGRES_TUPLES_OK;
            if (kept_failed && !failed) {
                PQclear(r);
            } else {
                PQclear(keep);
                keep = r;
            }
        }
    } catch (...) {
        PQclear(keep);
        throw;
    }
    return keep;
}

void PgConnection::send_failed() {
    std::string msg = first_line(PQerrorMessage(conn_));
    drop();
    throw Error(ErrorCode::io, "lost the connection to PostgreSQL: " + msg);
}

void PgConnection::check(PGresult *r, std::string_view what) {
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return;
    std::string state, msg;
    if (r) {
        const char *s = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        state = s ? s : "";
        msg = first_line(PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY));
        if (msg == "unknown error") msg = first_line(PQresultErrorMessage(r));
    }
    if (msg.empty() || msg == "unknown error") msg = first_line(PQerrorMessage(conn_));
    PQclear(r);
    const bool lost = PQstatus(conn_) != CONNECTION_OK;
    std::string text = std::string(what) + ": " + msg + (state.empty() ? "" : " (SQLSTATE " + state + ")");
    if (lost) {
        prepared_.clear();
        throw Error(ErrorCode::io, "lost the connection to PostgreSQL: " + msg);
    }
    // No SQLSTATE: libpq failed on this side (sending, memory).
    if (state.empty()) throw Error(ErrorCode::io, text);
    const std::string cls = state.substr(0, 2);
    if (state == "40001" || state == "40P01" || state == "55P03" || state == "57014")
        throw Error(ErrorCode::busy, text);
    if (state == "25006") {
        // Nothing was written: the transaction failed at its first write.
        read_only_ = true; // the next call reconnects (ensure_connected)
        throw Error(ErrorCode::io, text + ": the server is read-only (a standby?); list every node and add "
                                          "target_session_attrs=read-write to the URI (docs/backends.md)");
    }
    if (cls == "08" || cls == "53" || cls == "57" || cls == "58" || state == "3F000" || cls == "28" ||
        state == "42501")
        throw Error(ErrorCode::io, text);
    if (state == "XX001" || state == "XX002") throw Error(ErrorCode::corrupt, text);
    throw Error(ErrorCode::internal, text);
}

} // namespace spinner_rollback::detail
