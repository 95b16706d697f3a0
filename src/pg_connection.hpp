// Internal: one libpq connection of the PostgreSQL engine (pg_backend.cpp):
// connecting and reconnecting, the session's settings, requests whose
// answers are awaited until a deadline, the names of the statements
// prepared on it, and the Error a failed result maps to.
#pragma once

#include <libpq-fe.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace spinner_rollback::detail {

/// The first line of a libpq message; "unknown error" when there is none.
std::string first_line(const char *msg);

/// Not thread-safe (its PgDb is used under the store's mutex).
class PgConnection {
public:
    using Clock = std::chrono::steady_clock;

    /// Connect, with defaults the URI may override (connect_timeout 10 s,
    /// keepalives, application_name). Throws io naming host and port, never
    /// the password.
    PgConnection(const std::string &uri, int busy_timeout_ms);
    ~PgConnection();
    PgConnection(const PgConnection &) = delete;
    PgConnection &operator=(const PgConnection &) = delete;

    PGconn *get() const noexcept { return conn_; }
    bool ok() const noexcept { return conn_ && PQstatus(conn_) == CONNECTION_OK; }
    /// In a child of fork(): the socket is the parent's session too. Close
    /// the child's descriptor only (PQfinish would end the parent's session);
    /// the PGconn's memory is left to the process.
    void release_inherited() noexcept;

    /// A session setting to apply again after every reconnect (the caller
    /// runs it now).
    void remember_session(const std::string &sql);
    /// While idle the server speaks only to end the connection (its last
    /// words, then end of file): read what it sent, so libpq notices.
    void probe_idle();
    /// Reconnect if the connection was lost or is on a read-only server (a
    /// standby; after a failover, the old address): with several hosts and
    /// target_session_attrs=read-write libpq picks the current primary.
    /// Throws io when it cannot.
    void ensure_connected();
    /// Close the socket: the next ensure_connected() reconnects from a clean state.
    void drop() noexcept;

    /// One request outside a pipeline (a text may hold several statements):
    /// the first failed result, else the last one; NULL if none. Bounded by
    /// the answer deadline (busyTimeoutMs + 10 s): a server that stalls
    /// mid-request becomes io, not a hang.
    PGresult *query(const char *sql);
    /// When the answers to a request sent now are due.
    Clock::time_point answer_deadline() const { return Clock::now() + answer_timeout_; }
    /// Send what libpq holds; false when the connection failed.
    bool flush_output() { return flush_output(answer_deadline()); }
    /// The next result of a pipeline; NULL after each statement's results
    /// (and when the connection failed). Throws io past the deadline.
    PGresult *next_result(Clock::time_point deadline);
    /// The last request ended because no answer came in time (the
    /// connection was then dropped); cleared by clear_timed_out().
    bool timed_out() const noexcept { return timed_out_; }
    void clear_timed_out() noexcept { timed_out_ = false; }
    /// Count one request whose answer is awaited (postgres_round_trips()).
    static void count_round_trip() noexcept;
    /// Drop the connection and throw io: sending failed.
    [[noreturn]] void send_failed();

    /// Return if `r` succeeded; else free it and throw the matching Error
    /// (`what` prefixes the message): io for a lost connection, a server
    /// gone away, a read-only server (the next call reconnects) or a missing
    /// schema; busy for lock and serialization failures; corrupt for data
    /// corruption; internal otherwise.
    void check(PGresult *r, std::string_view what);

    /// Statements prepared on this connection, by their SQL as given: the
    /// name of `sql`'s, or NULL.
    const std::string *prepared(const std::string &sql) const {
        auto it = prepared_.find(sql);
        return it == prepared_.end() ? nullptr : &it->second;
    }
    /// A new name for `sql`'s statement, whose PREPARE is being sent.
    const std::string &name_prepared(const std::string &sql) {
        return prepared_.emplace(sql, "s" + std::to_string(++next_name_)).first->second;
    }
    /// Forget statements that may not exist (their batch failed; the connection was lost).
    void forget_prepared(const std::string &sql) { prepared_.erase(sql); }
    void forget_all_prepared() noexcept { prepared_.clear(); }

private:
    void configure();
    bool wait_socket(short events, Clock::time_point deadline);
    [[noreturn]] void answer_timed_out();
    bool flush_output(Clock::time_point deadline);
    PGresult *await();

    PGconn *conn_ = nullptr;
    int busy_timeout_ms_ = 0;
    std::chrono::milliseconds answer_timeout_;
    bool timed_out_ = false;
    bool read_only_ = false; // the server refused a write as read-only: reconnect
    long next_name_ = 0;
    std::vector<std::string> session_;
    std::unordered_map<std::string, std::string> prepared_;
};

} // namespace spinner_rollback::detail
