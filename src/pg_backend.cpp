// The PostgreSQL engine: a store is the set of tables in the connection's
// current schema (search_path), shared by every process that connects.
//
// - Statements are prepared once per connection (named s1, s2, ...) and run
//   with binary results; integer parameters travel as text, blobs as binary.
// - A write transaction takes a transaction-scoped advisory lock named after
//   the schema, so writers of one store are serialised exactly as SQLite's
//   BEGIN IMMEDIATE serialises them (gap-free numbering, one current
//   version); readers run at REPEATABLE READ and never wait.
// - A connection that was lost is re-established at the start of the next
//   transaction or statement (and a transaction's first batch is sent
//   again when the server closed the connection before answering any of
//   it); any other loss inside a transaction fails it with io.
#include "db.hpp"
#include "pg_listener.hpp"

#include <libpq-fe.h>

#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <unordered_map>
#include <utility>
#include <vector>

namespace spinner_rollback::detail {

namespace {

// Requests sent to any PostgreSQL server by this process (each awaited answer).
std::atomic<std::uint64_t> g_round_trips{0};


// Type OIDs of the integer results we read (pg_type.h).
constexpr Oid kBoolOid = 16, kInt8Oid = 20, kInt2Oid = 21, kInt4Oid = 23;

std::string first_line(const char *msg) {
    std::string s = msg ? msg : "";
    if (auto nl = s.find('\n'); nl != std::string::npos) s.resize(nl);
    return s.empty() ? "unknown error" : s;
}

// `?` placeholders become $1, $2, ... (never inside a quoted literal).
std::string number_placeholders(std::string_view sql, int &count) {
    std::string out;
    out.reserve(sql.size() + 16);
    bool quoted = false;
    count = 0;
    for (char c : sql) {
        if (c == '\'') quoted = !quoted;
        if (c == '?' && !quoted) {
            out += '$';
            out += std::to_string(++count);
        } else {
            out += c;
        }
    }
    return out;
}

class PgDb;

class PgCursor final : public Cursor {
public:
    PgCursor(PgDb &db, std::string sql, int params)
        : db_(db), sql_(std::move(sql)), values_(static_cast<std::size_t>(params)),
          set_(static_cast<std::size_t>(params), false), binary_(static_cast<std::size_t>(params), 0) {}
    ~PgCursor() override {
        reset();
        PQclear(res_);
    }
    PgCursor(const PgCursor &) = delete;
    PgCursor &operator=(const PgCursor &) = delete;

    void bind_i64(int i, std::int64_t v) override { put(i, std::to_string(v), false); }
    void bind_text(int i, std::string_view t) override {
        if (t.find('\0') != std::string_view::npos)
            throw Error(ErrorCode::invalid, "text for PostgreSQL must not contain NUL characters");
        put(i, std::string(t), false);
    }
    void bind_blob(int i, std::string_view b) override { put(i, std::string(b), true); }
    void bind_null(int i) override {
        slot(i);
        set_[static_cast<std::size_t>(i - 1)] = false;
    }
    bool step() override;
    void run() override;
    void send() override;
    void reset() noexcept override;
    /// The answer to this cursor's queued statement (NULL: none; owned now).
    void deliver(PGresult *r) noexcept {
        PQclear(res_);
        res_ = r;
        rows_ = r ? PQntuples(r) : 0;
        row_ = -1;
        awaiting_ = false;
    }
    std::int64_t i64(int c) const override {
        if (is_null(c)) return 0;
        const char *p = PQgetvalue(res_, row_, c);
        switch (PQftype(res_, c)) {
        case kInt8Oid: {
            std::uint32_t hi = 0, lo = 0;
            std::memcpy(&hi, p, 4);
            std::memcpy(&lo, p + 4, 4);
            return static_cast<std::int64_t>((std::uint64_t(ntohl(hi)) << 32) | ntohl(lo));
        }
        case kInt4Oid: {
            std::uint32_t v = 0;
            std::memcpy(&v, p, 4);
            return static_cast<std::int32_t>(ntohl(v));
        }
        case kInt2Oid: {
            std::uint16_t v = 0;
            std::memcpy(&v, p, 2);
            return static_cast<std::int16_t>(ntohs(v));
        }
        case kBoolOid: return p[0] != 0;
        default: throw Error(ErrorCode::internal, "PostgreSQL column is not an integer");
        }
    }
    std::string text(int c) const override { return blob(c); }
    std::string blob(int c) const override {
        if (is_null(c)) return {};
        return std::string(PQgetvalue(res_, row_, c), static_cast<std::size_t>(PQgetlength(res_, row_, c)));
    }
    bool is_null(int c) const override {
        if (!res_ || row_ < 0 || row_ >= rows_ || c < 0 || c >= PQnfields(res_))
            throw Error(ErrorCode::internal, "PostgreSQL column read outside a row");
        return PQgetisnull(res_, row_, c) != 0;
    }

private:
    void slot(int i) const {
        if (i < 1 || static_cast<std::size_t>(i) > values_.size())
            throw Error(ErrorCode::internal, "statement parameter out of range");
    }
    void put(int i, std::string v, bool binary) {
        slot(i);
        auto k = static_cast<std::size_t>(i - 1);
        values_[k] = std::move(v);
        set_[k] = true;
        binary_[k] = binary ? 1 : 0;
    }

    PgDb &db_;
    std::string sql_; // as given, with `?`
    std::vector<std::string> values_;
    std::vector<bool> set_;
    std::vector<int> binary_;
    PGresult *res_ = nullptr;
    bool executed_ = false;
    bool awaiting_ = false; // queued in the pipeline; deliver() brings the rows
    int row_ = -1, rows_ = 0;
};

class PgDb final : public Db {
public:
    PgDb(const std::string &uri, int busy_timeout_ms)
        : busy_timeout_ms_(busy_timeout_ms), answer_timeout_ms_(static_cast<long long>(busy_timeout_ms) + 10000),
          listener_(uri) {
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
    ~PgDb() override {
        clear_cache();
        PQfinish(conn_);
    }
    // In a child of fork(): the socket is the parent's session too. Close the
    // child's descriptor only; PQfinish would tell the server to end the
    // session. The PGconn's memory is left to the process.
    void release_inherited() noexcept override {
        clear_cache();
        if (conn_ && PQsocket(conn_) >= 0) ::close(PQsocket(conn_));
        conn_ = nullptr;
        listener_.release_inherited();
    }

    std::string_view engine_name() const noexcept override { return "postgres"; }
    void arm_change_wait() override { listener_.arm(); }
    void wait_for_change(std::chrono::milliseconds max) override { listener_.wait(max); }
    const Dialect &dialect() const noexcept override {
        // Byte-order ("C") collation so that listings sort exactly as in SQLite.
        static constexpr Dialect d{"BYTEA", "BIGINT", "TEXT COLLATE \"C\"",
                                   "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", "",
                                   " = ANY(ARRAY[", "])",
                                   "SELECT pg_notify('spr_' || md5(current_schema()), '')", true};
        return d;
    }
    bool prefers_batches() const noexcept override { return true; }
    void configure(bool full_durability) override {
        // normal: a commit may be lost on a server crash, never half-applied.
        session(full_durability ? "SET synchronous_commit = on" : "SET synchronous_commit = off");
    }
    std::int64_t schema_version() override {
        // pg_class through SQL, not to_regclass(): after waiting for the lock
        // this session's catalog cache may not yet know a table another
        // session just created (an advisory lock processes no invalidations).
        std::int64_t v = 0;
        Stmt schema(*this, "SELECT current_schema() IS NOT NULL, EXISTS(SELECT 1 FROM pg_catalog.pg_class c "
                           "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
                           "WHERE n.nspname = current_schema() AND c.relname = 'meta')");
        schema.step();
        if (!schema.i64(0))
            throw Error(ErrorCode::io, "the PostgreSQL search_path names no existing schema to hold the store",
                        "path");
        if (schema.i64(1)) {
            Stmt st(*this, "SELECT value FROM meta WHERE key='schema_version'");
            if (st.step()) v = std::strtoll(st.blob(0).c_str(), nullptr, 10);
        }
        return v;
    }
    void set_schema_version(std::int64_t v) override {
        Stmt st(*this, "INSERT INTO meta(key, value) VALUES('schema_version', ?) "
                       "ON CONFLICT(key) DO UPDATE SET value=excluded.value");
        st.bind_blob(1, std::to_string(v)).run();
    }

    void exec(std::string_view sql) override {
        if (!in_tx_) {
            ensure_connected();
            exec_here(sql);
            return;
        }
        // Several statements in one text need the simple protocol, which a
        // pipeline does not allow: pause it (nothing stays queued).
        flush();
        leave_pipeline();
        exec_here(sql);
        enter_pipeline();
    }
    void session(const std::string &sql) override {
        exec(sql);
        if (std::find(session_.begin(), session_.end(), sql) == session_.end()) session_.push_back(sql);
    }

    // On this connection as it is: never reconnects.
    void exec_here(std::string_view sql) {
        std::string s(sql);
        PGresult *r = query(s.c_str());
        check(r, "postgres");
        changes_ = affected(r);
        PQclear(r);
    }
    std::int64_t changes() override {
        flush();
        return changes_;
    }

    // A transaction runs in libpq's pipeline mode: BEGIN, the writer lock
    // and every write are queued, and travel with the next statement whose
    // rows are read (or with COMMIT), so a transaction costs one round trip
    // per batch of reads plus one for COMMIT.
    void begin(bool write) override {
        // A connection closed by the server while idle (restart, idle
        // timeout, terminated) is noticed here, without a round trip, and
        // re-established before anything of the transaction is sent.
        probe_idle();
        ensure_connected();
        enter_pipeline();
        in_tx_ = true;
        opening_ = true;
        enqueue_sql(write ? "BEGIN ISOLATION LEVEL READ COMMITTED" : "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
        // Serialise the store's writers (the schema names the store).
        if (write) enqueue_sql("SELECT pg_advisory_xact_lock(1936749170, hashtext(current_schema()))");
    }
    void commit() override {
        // On a lost connection the outcome of COMMIT is unknown: io, and the
        // caller retries with its requestId. A failed transaction is never
        // reported as committed (PostgreSQL answers COMMIT with ROLLBACK).
        enqueue_sql("COMMIT");
        flush();
        const std::string tag = last_tag_;
        leave_pipeline();
        in_tx_ = false;
        if (tag != "COMMIT") throw Error(ErrorCode::internal, "postgres: the transaction was rolled back");
    }
    void rollback() noexcept override {
        in_tx_ = false;
        opening_ = false;
        discard_queue();
        if (!conn_ || PQstatus(conn_) != CONNECTION_OK) return;
        if (PQpipelineStatus(conn_) != PQ_PIPELINE_OFF && !PQexitPipelineMode(conn_)) {
            // Answers still pending (an interrupted batch): the connection's
            // state is unknown; drop it, the next call reconnects.
            drop_connection();
            return;
        }
        if (PQtransactionStatus(conn_) != PQTRANS_IDLE) {
            try {
                PQclear(query("ROLLBACK"));
            } catch (...) {
            }
        }
    }

    bool pipelined() const noexcept { return in_tx_; }

    /// Queue a prepared statement of this transaction; `target` (may be
    /// NULL) receives its rows at the next flush.
    void enqueue(const std::string &sql, std::vector<std::string> values, std::vector<bool> set,
                 std::vector<int> binary, PgCursor *target) {
        queue_.push_back(Queued{sql, std::move(values), std::move(set), std::move(binary), target, true});
    }
    /// A cursor that will not read its rows (reset before flush).
    void forget(const PgCursor *target) noexcept {
        for (auto &q : queue_)
            if (q.target == target) q.target = nullptr;
    }

    /// Send what is queued, with a sync point, and read every answer (one
    /// round trip). Throws the first failure, after reading them all.
    ///
    /// The server may close an idle connection just as a transaction's
    /// first batch leaves (a restart, a terminated backend): when the server
    /// closed the connection before it answered any statement of that batch,
    /// and the batch holds no COMMIT, nothing of it can have taken effect, so
    /// it is sent once more on a new connection. A loss after the first
    /// answer, or a server that stopped answering, fails it with io.
    void flush() {
        if (queue_.empty()) return;
        const bool opening = std::exchange(opening_, false);
        for (int attempt = 0;; ++attempt) {
            timed_out_ = false;
            try {
                send_queue();
                read_answers();
                return;
            } catch (const Error &) {
                const bool unanswered_first = opening && attempt == 0 && answered_ == 0 && !timed_out_ &&
                                              !queues_commit() && PQstatus(conn_) != CONNECTION_OK;
                if (unanswered_first) {
                    try {
                        ensure_connected();
                        enter_pipeline();
                        in_tx_ = true;
                        continue;
                    } catch (...) {
                    }
                }
                discard_queue();
                throw;
            } catch (...) {
                discard_queue();
                throw;
            }
        }
    }

    std::unique_ptr<Cursor> prepare(const std::string &sql) override {
        int params = 0;
        number_placeholders(sql, params);
        return std::make_unique<PgCursor>(*this, sql, params);
    }

    /// Run one statement outside a transaction (a read: every write is in
    /// a Tx) in one round trip, preparing it on the way when it is new to
    /// this connection; `c` receives the rows. When the connection died
    /// while idle, reconnect and run it once more.
    void run_alone(PgCursor &c, const std::string &sql, const std::vector<std::string> &values,
                   const std::vector<bool> &set, const std::vector<int> &binary) {
        for (int attempt = 0;; ++attempt) {
            ensure_connected();
            enter_pipeline();
            queue_.push_back(Queued{sql, values, set, binary, &c, true});
            try {
                flush();
                leave_pipeline();
                return;
            } catch (const Error &) {
                if (PQstatus(conn_) == CONNECTION_OK) {
                    if (PQpipelineStatus(conn_) != PQ_PIPELINE_OFF && !PQexitPipelineMode(conn_)) drop_connection();
                    throw;
                }
                if (attempt > 0) throw;
            }
        }
    }

private:
    // A statement waiting in the pipeline: prepared (sql with `?`, its
    // parameters) or plain (sql run as is, no parameters: BEGIN, COMMIT).
    struct Queued {
        std::string sql;
        std::vector<std::string> values;
        std::vector<bool> set;
        std::vector<int> binary;
        PgCursor *target; // receives the rows; NULL: checked, then dropped
        bool prepared;
        bool prepare_sent = false; // its PREPARE went first in this batch
    };

    void enqueue_sql(const char *sql) { queue_.push_back(Queued{sql, {}, {}, {}, nullptr, false}); }
    bool queues_commit() const noexcept {
        return std::any_of(queue_.begin(), queue_.end(), [](const Queued &q) { return !q.prepared && q.sql == "COMMIT"; });
    }

    void enter_pipeline() {
        if (PQpipelineStatus(conn_) == PQ_PIPELINE_OFF && !PQenterPipelineMode(conn_))
            throw Error(ErrorCode::io, "postgres: cannot batch statements: " + first_line(PQerrorMessage(conn_)));
    }
    void leave_pipeline() {
        if (PQpipelineStatus(conn_) != PQ_PIPELINE_OFF && !PQexitPipelineMode(conn_))
            throw Error(ErrorCode::internal, "postgres: answers left unread in a batch");
    }
    // While idle the server speaks only to end the connection (its last
    // words, then end of file): read what it sent, so that libpq notices.
    void probe_idle() {
        for (int i = 0; i < 4 && PQstatus(conn_) == CONNECTION_OK; ++i) {
            pollfd p{PQsocket(conn_), POLLIN, 0};
            if (::poll(&p, 1, 0) <= 0 || !PQconsumeInput(conn_)) break;
        }
    }
    // Close the socket: the next call reconnects (PQreset) from a clean state.
    void drop_connection() noexcept {
        ::shutdown(PQsocket(conn_), SHUT_RDWR);
        PQconsumeInput(conn_);
        while (PGresult *r = PQgetResult(conn_)) PQclear(r);
        prepared_.clear();
        in_tx_ = false;
    }
    void discard_queue() noexcept {
        for (auto &q : queue_)
            if (q.target) q.target->deliver(nullptr);
        queue_.clear();
    }

    // Put the queue and a sync point into libpq's buffer, then send it all.
    // Statements new to this connection are prepared in the same batch.
    void send_queue() {
        sent_prepares_.clear();
        for (auto &q : queue_) {
            q.prepare_sent = false;
            int ok = 0;
            if (!q.prepared) {
                ok = PQsendQueryParams(conn_, q.sql.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 1);
            } else {
                auto it = prepared_.find(q.sql);
                if (it == prepared_.end()) {
                    int params = 0;
                    std::string text = number_placeholders(q.sql, params);
                    std::string name = "s" + std::to_string(++next_name_);
                    if (!PQsendPrepare(conn_, name.c_str(), text.c_str(), params, nullptr)) send_failed();
                    it = prepared_.emplace(q.sql, std::move(name)).first;
                    sent_prepares_.push_back(q.sql);
                    q.prepare_sent = true;
                }
                std::vector<const char *> vals(q.values.size());
                std::vector<int> lens(q.values.size());
                for (std::size_t i = 0; i < q.values.size(); ++i) {
                    vals[i] = q.set[i] ? q.values[i].data() : nullptr;
                    lens[i] = static_cast<int>(q.values[i].size());
                }
                ok = PQsendQueryPrepared(conn_, it->second.c_str(), static_cast<int>(vals.size()), vals.data(),
                                         lens.data(), q.binary.data(), 1);
            }
            if (!ok) send_failed();
        }
        g_round_trips.fetch_add(1, std::memory_order_relaxed);
        if (!PQpipelineSync(conn_) || !flush_output()) send_failed();
    }
    [[noreturn]] void send_failed() {
        std::string msg = first_line(PQerrorMessage(conn_));
        drop_connection();
        throw Error(ErrorCode::io, "lost the connection to PostgreSQL: " + msg);
    }

    // Read the answers to the queue in order (each statement's results,
    // after those of its PREPARE when one was sent), then the sync point;
    // then hand each reader its rows. Throws io when the connection was
    // lost (the queue is kept, to be sent again), else the first failure.
    void read_answers() {
        const auto deadline = Clock::now() + std::chrono::milliseconds(answer_timeout_ms_);
        PGresult *failed = nullptr; // the first failure
        std::vector<PGresult *> rows(queue_.size(), nullptr);
        auto release_all = [&] {
            PQclear(failed);
            for (PGresult *r : rows) PQclear(r);
        };
        // Keep r when it succeeded (returned), or as the first failure.
        auto take = [&](PGresult *r) -> PGresult * {
            const ExecStatusType st = PQresultStatus(r);
            if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return r;
            if (!failed && st != PGRES_PIPELINE_ABORTED) failed = r;
            else PQclear(r);
            return nullptr;
        };
        bool synced = false;
        answered_ = 0;
        try {
            for (std::size_t i = 0; i < queue_.size(); ++i) {
                if (queue_[i].prepare_sent)
                    while (PGresult *r = next_result(deadline)) PQclear(take(r));
                while (PGresult *r = next_result(deadline)) {
                    PGresult *ok = take(r);
                    if (!ok) continue;
                    ++answered_;
                    changes_ = affected(ok);
                    last_tag_ = PQcmdStatus(ok);
                    PQclear(rows[i]);
                    rows[i] = ok;
                }
            }
            PGresult *sync = next_result(deadline);
            synced = sync && PQresultStatus(sync) == PGRES_PIPELINE_SYNC;
            PQclear(sync);
        } catch (...) {
            release_all();
            throw;
        }
        if (PQstatus(conn_) != CONNECTION_OK) {
            release_all();
            prepared_.clear();
            throw Error(ErrorCode::io, "lost the connection to PostgreSQL: " + first_line(PQerrorMessage(conn_)));
        }
        for (std::size_t i = 0; i < queue_.size(); ++i) {
            if (queue_[i].target) queue_[i].target->deliver(std::exchange(rows[i], nullptr));
            PQclear(rows[i]);
        }
        queue_.clear();
        if (failed) {
            // Statements prepared in a failed batch may not exist: forget them.
            for (const auto &sql : sent_prepares_) prepared_.erase(sql);
            check(failed, "postgres");
        }
        if (!synced) {
            drop_connection();
            throw Error(ErrorCode::io, "postgres: a batch of statements ended out of step; the connection was closed");
        }
    }

    static std::int64_t affected(const PGresult *r) {
        const char *n = PQcmdTuples(const_cast<PGresult *>(r));
        return n && *n ? std::strtoll(n, nullptr, 10) : 0;
    }

    // Session settings, again after every reconnect.
    void configure() {
        // busyTimeoutMs bounds lock waits, as it does for SQLite (0 = do not wait).
        std::string wait = std::to_string(busy_timeout_ms_ > 0 ? busy_timeout_ms_ : 1) + "ms";
        PQsetnonblocking(conn_, 1); // every request waits in await() with a deadline
        // jit off: our statements are short index lookups, but a recursive
        // statement's row estimate can pass jit_above_cost once ANALYZE has
        // seen a large store, and compiling it then costs ~18 ms a call
        // (measured at 1,000 x 1,000: records fell from 650/s to 50/s).
        PGresult *r = query(
            ("SET client_min_messages = warning; SET jit = off; SET lock_timeout = '" + wait + "'").c_str());
        check(r, "postgres session");
        PQclear(r);
        for (const auto &s : session_) {
            r = query(s.c_str());
            check(r, "postgres session");
            PQclear(r);
        }
    }

    // Every request is sent without blocking and its answer awaited until a
    // deadline (busyTimeoutMs + 10 s): a server that stalls mid-request (a
    // stopped process, a network dropping packets) becomes io, not a hang.
    // Returns the first failed result, else the last one; NULL if none.
    PGresult *query(const char *sql) { return PQsendQuery(conn_, sql) ? await() : nullptr; }
    using Clock = std::chrono::steady_clock;

    // Wait until the socket is ready for `events`; false once the deadline passed.
    bool wait_socket(short events, Clock::time_point deadline) {
        for (;;) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
            if (left.count() <= 0) return false;
            pollfd p{PQsocket(conn_), events, 0};
            const int n = ::poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 1000)));
            if (n > 0) return true;
            if (n < 0 && errno != EINTR) return true; // let libpq report the socket error
        }
    }
    // No answer in time: the connection's state is unknown, so end it (the
    // next call reconnects).
    [[noreturn]] void answer_timed_out() {
        timed_out_ = true;
        drop_connection();
        throw Error(ErrorCode::io, "PostgreSQL did not answer within " + std::to_string(answer_timeout_ms_) +
                                       " ms; the connection was closed (retry; a write may have been applied, "
                                       "so retry it with its requestId)");
    }
    // Send what libpq holds; false when the connection failed.
    bool flush_output(Clock::time_point deadline) {
        for (int f; (f = PQflush(conn_)) != 0;) {
            if (f < 0) return false;
            if (!wait_socket(POLLIN | POLLOUT, deadline)) answer_timed_out();
            if (!PQconsumeInput(conn_)) return false;
        }
        return true;
    }
    bool flush_output() { return flush_output(Clock::now() + std::chrono::milliseconds(answer_timeout_ms_)); }
    // The next result; NULL after each statement's results (and when the
    // connection failed).
    PGresult *next_result(Clock::time_point deadline) {
        while (PQisBusy(conn_)) {
            if (!wait_socket(POLLIN, deadline)) answer_timed_out();
            if (!PQconsumeInput(conn_)) break;
        }
        return PQgetResult(conn_);
    }
    // The answer to one request outside a pipeline: the first failed
    // result, else the last one; NULL if none.
    PGresult *await() {
        g_round_trips.fetch_add(1, std::memory_order_relaxed);
        const auto deadline = Clock::now() + std::chrono::milliseconds(answer_timeout_ms_);
        PGresult *keep = nullptr;
        try {
            flush_output(deadline); // a failure shows in the results
            while (PGresult *r = next_result(deadline)) {
                const ExecStatusType st = PQresultStatus(r);
                const bool failed = st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK;
                const bool kept_failed = keep && PQresultStatus(keep) != PGRES_COMMAND_OK &&
                                         PQresultStatus(keep) != PGRES_TUPLES_OK;
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

    void ensure_connected() {
        if (PQstatus(conn_) == CONNECTION_OK && !read_only_) return;
        // Lost, or on a read-only server (a standby; after a failover, the
        // old address): connect afresh. With several hosts and
        // target_session_attrs=read-write libpq picks the current primary.
        read_only_ = false;
        prepared_.clear();
        PQreset(conn_);
        if (PQstatus(conn_) == CONNECTION_OK && PQpipelineStatus(conn_) != PQ_PIPELINE_OFF) PQexitPipelineMode(conn_);
        if (PQstatus(conn_) != CONNECTION_OK)
            throw Error(ErrorCode::io, "lost the connection to PostgreSQL and cannot reconnect: " +
                                           first_line(PQerrorMessage(conn_)));
        configure();
    }


    // Throw the Error that matches a failed result (and free it).
    void check(PGresult *r, std::string_view what) {
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

    PGconn *conn_ = nullptr;
    std::vector<Queued> queue_;              // the pipeline, not yet sent
    std::vector<std::string> sent_prepares_; // statements prepared by the batch in flight
    std::string last_tag_;                   // command tag of the last answer (COMMIT's)
    std::size_t answered_ = 0;               // statements of the last batch the server answered
    bool opening_ = false;                   // the next flush sends a transaction's first batch
    bool timed_out_ = false;                 // the last batch ended without an answer in time
    int busy_timeout_ms_ = 0;
    long long answer_timeout_ms_ = 0;
    bool in_tx_ = false;
    bool read_only_ = false; // the server refused a write as read-only: reconnect
    std::int64_t changes_ = 0;
    long next_name_ = 0;
    std::vector<std::string> session_;
    std::unordered_map<std::string, std::string> prepared_;
    PgListener listener_; // events_wait: LISTEN on a connection of its own
};

bool PgCursor::step() {
    if (!executed_) {
        if (db_.pipelined()) {
            send();
        } else {
            executed_ = true;
            db_.run_alone(*this, sql_, values_, set_, binary_);
        }
    }
    if (awaiting_) {
        db_.flush();
        if (awaiting_) throw Error(ErrorCode::internal, "postgres: a statement's answer went missing");
    }
    if (row_ < rows_) ++row_;
    return row_ < rows_;
}

void PgCursor::send() {
    if (executed_ || !db_.pipelined()) return;
    executed_ = true;
    awaiting_ = true;
    db_.enqueue(sql_, values_, set_, binary_, this);
}

void PgCursor::run() {
    if (!db_.pipelined()) {
        while (step()) {}
        return;
    }
    // Deferred: its parameters move to the queue; a failure surfaces at the
    // next batch that is read (at the latest, COMMIT).
    if (!executed_) db_.enqueue(sql_, std::move(values_), set_, binary_, nullptr);
    executed_ = true;
    values_.assign(set_.size(), std::string());
}

void PgCursor::reset() noexcept {
    if (awaiting_) db_.forget(this);
    awaiting_ = false;
    PQclear(res_);
    res_ = nullptr;
    executed_ = false;
    row_ = -1;
    rows_ = 0;
    for (std::size_t i = 0; i < values_.size(); ++i) {
        set_[i] = false;
        values_[i].clear();
    }
}

} // namespace

std::uint64_t postgres_round_trips() noexcept { return g_round_trips.load(std::memory_order_relaxed); }

std::unique_ptr<Db> open_postgres(const std::string &uri, int busy_timeout_ms) {
    return std::make_unique<PgDb>(uri, busy_timeout_ms);
}

} // namespace spinner_rollback::detail
