// Internal: the storage engine seen by the store — a connection (Db), its
// statements (Stmt) and transactions (Tx) — with two implementations:
// SQLite (a file path; sqlite_backend.cpp) and PostgreSQL (a postgres:// or
// postgresql:// URI; pg_backend.cpp).
//
// SQL is written once, in the common subset of both dialects, with `?`
// placeholders (numbered $1, $2, ... for PostgreSQL). Every failure becomes
// an Error with the right code: busy (lock wait timed out), io (cannot
// reach or write the database), corrupt, internal.
#pragma once

#include "fork_guard.hpp"

#include <spinner_rollback/error.hpp>

#include <cstdint>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace spinner_rollback::detail {

/// SQL spellings that differ between engines (see schema.cpp).
struct Dialect {
    std::string_view blob;          ///< BLOB | BYTEA
    std::string_view integer;       ///< INTEGER | BIGINT
    std::string_view key_text;      ///< text compared byte for byte (sorts as in SQLite)
    std::string_view serial_key;    ///< an auto-assigned integer primary key
    std::string_view table_options; ///< after a table with a composite key
    /// Membership in a list of values that may name columns of an outer
    /// row, as an index condition: " IN (" … ")" | " = ANY(ARRAY[" … "])"
    /// (PostgreSQL turns such an IN list into a filter over every row).
    std::string_view in_open, in_close;
    /// A statement that makes a commit wake every waiter on the store
    /// (PostgreSQL NOTIFY), or empty: waiters poll.
    std::string_view notify;
    /// Can join a LATERAL subquery (PostgreSQL). A page of versions needs
    /// it there: PostgreSQL sorts all of a spinner's versions to take 20
    /// when the ORDER BY names the outer join's inner side; SQLite does not.
    bool lateral;
};

/// `column` is one of `items` (a comma-separated list), in `d`'s spelling.
inline std::string in_list(const Dialect &d, std::string_view column, std::string_view items) {
    return std::string(column) + std::string(d.in_open) + std::string(items) + std::string(d.in_close);
}

/// True when `location` names a PostgreSQL database (postgres:// or postgresql://).
bool is_postgres_location(std::string_view location) noexcept;

/// One prepared statement of a backend.
class Cursor {
public:
    virtual ~Cursor() = default;
    virtual void bind_i64(int i, std::int64_t v) = 0;
    virtual void bind_text(int i, std::string_view v) = 0;
    virtual void bind_blob(int i, std::string_view v) = 0;
    virtual void bind_null(int i) = 0;
    /// Execute on the first call; then true while a row is available.
    virtual bool step() = 0;
    /// Execute for its effect only (a write): no rows are read. The engine
    /// may defer it within a transaction; its failure is then reported by
    /// the next statement that reads, by changes() or by commit().
    virtual void run() {
        while (step()) {}
    }
    /// Start the statement now; its rows are read by step(). Statements sent
    /// one after another before the first step() travel together (one round
    /// trip on PostgreSQL inside a transaction; no effect on SQLite).
    virtual void send() {}
    /// Forget results and bindings; the statement can run again.
    virtual void reset() noexcept = 0;
    virtual std::int64_t i64(int col) const = 0;
    virtual std::string text(int col) const = 0;
    virtual std::string blob(int col) const = 0;
    virtual bool is_null(int col) const = 0;
};

/// A connection. Not thread-safe: the store serialises use with its mutex.
/// Bound to the process that opened it (fork_guard.hpp): in a child of
/// fork() it is released, never used.
class Db : public ProcessBound {
public:
    /// Open `location` (a SQLite path or a PostgreSQL URI).
    static std::unique_ptr<Db> open(const std::string &location, int busy_timeout_ms);
    virtual ~Db() = default;
    Db(const Db &) = delete;
    Db &operator=(const Db &) = delete;

    /// "sqlite" or "postgres".
    virtual std::string_view engine_name() const noexcept = 0;
    /// Schema spellings of this engine.
    virtual const Dialect &dialect() const noexcept = 0;
    /// True when a statement costs a network round trip, so that reading
    /// ahead, in one batch, what a write may need pays off (PostgreSQL);
    /// false when statements are function calls and reading on demand is
    /// cheaper (SQLite).
    virtual bool prefers_batches() const noexcept = 0;
    /// Per-connection settings: durability (true: every commit waits for
    /// the disk) and what the engine needs (SQLite: WAL).
    virtual void configure(bool full_durability) = 0;
    /// Schema version of the store at this location, 0 when it has none.
    /// Reads the catalog afresh (safe right after waiting for the writer
    /// lock). Throws io when the location cannot hold a store.
    virtual std::int64_t schema_version() = 0;
    /// Record the schema version (inside the write transaction of a migration).
    virtual void set_schema_version(std::int64_t version) = 0;
    /// Run SQL without results (may hold several statements).
    virtual void exec(std::string_view sql) = 0;
    /// A per-connection setting: run now and again after every reconnect.
    virtual void session(const std::string &sql) = 0;
    /// Rows changed by the last statement (waits for deferred writes).
    virtual std::int64_t changes() = 0;
    /// Transactions: a write transaction excludes every other writer of the
    /// store (SQLite BEGIN IMMEDIATE; PostgreSQL a store-wide advisory lock);
    /// a read transaction sees one consistent snapshot.
    virtual void begin(bool write) = 0;
    virtual void commit() = 0;
    virtual void rollback() noexcept = 0;

    /// Waiting for a change another connection commits (events_wait).
    /// arm_change_wait() starts listening before the caller looks for
    /// changes; wait_for_change() returns once a change may have been
    /// committed since, or after at most `max`. Both are thread-safe and
    /// independent of the connection's other calls. The default (SQLite)
    /// listens to nothing and sleeps: the caller looks again every 25 ms.
    virtual void arm_change_wait() {}
    virtual void wait_for_change(std::chrono::milliseconds max);

    /// Statement cache: a cursor per SQL text, prepared once per connection
    /// and reused after reset (up to 16 idle ones per text: a batch may
    /// hold several of one text at once).
    Cursor *acquire(const std::string &sql);
    void release(const std::string &sql, Cursor *cursor) noexcept;

protected:
    Db() = default;
    /// A new cursor for `sql`.
    virtual std::unique_ptr<Cursor> prepare(const std::string &sql) = 0;
    /// Drop the idle cursors (before the connection closes).
    void clear_cache() noexcept { cache_.clear(); }

private:
    std::unordered_map<std::string, std::vector<std::unique_ptr<Cursor>>> cache_;
};

std::unique_ptr<Db> open_sqlite(const std::string &path, int busy_timeout_ms);
std::unique_ptr<Db> open_postgres(const std::string &uri, int busy_timeout_ms);
/// Round trips to PostgreSQL servers this process made so far (requests
/// sent and answered, on every connection). Tests assert each operation's
/// count with it.
std::uint64_t postgres_round_trips() noexcept;

/// A prepared statement, borrowed from the connection's cache for the
/// lifetime of this object and returned (reset) on destruction.
class Stmt {
public:
    Stmt(Db &db, std::string_view sql) : db_(db), sql_(sql), c_(db.acquire(sql_)) {}
    ~Stmt() { db_.release(sql_, c_); }
    Stmt(const Stmt &) = delete;
    Stmt &operator=(const Stmt &) = delete;

    Stmt &bind(int i, std::int64_t v) { c_->bind_i64(i, v); return *this; }
    Stmt &bind(int i, std::string_view text) { c_->bind_text(i, text); return *this; }
    Stmt &bind_blob(int i, std::string_view bytes) { c_->bind_blob(i, bytes); return *this; }
    Stmt &bind_null(int i) { c_->bind_null(i); return *this; }
    /// Step once: true if a row is available, false when done.
    bool step() { return c_->step(); }
    /// Execute for its effect (a write; see Cursor::run).
    void run() { c_->run(); }
    /// Start it now, read its rows later (see Cursor::send).
    Stmt &send() {
        c_->send();
        return *this;
    }
    void reset() { c_->reset(); }

    std::int64_t i64(int col) const { return c_->i64(col); }
    std::string text(int col) const { return c_->text(col); }
    std::string blob(int col) const { return c_->blob(col); }
    bool is_null(int col) const { return c_->is_null(col); }

private:
    Db &db_;
    std::string sql_;
    Cursor *c_;
};

/// A write or read transaction, rolled back unless committed.
class Tx {
public:
    Tx(Db &db, bool write) : db_(db) { db_.begin(write); }
    ~Tx() { if (!done_) db_.rollback(); }
    Tx(const Tx &) = delete;
    Tx &operator=(const Tx &) = delete;
    void commit() {
        db_.commit();
        done_ = true;
    }

private:
    Db &db_;
    bool done_ = false;
};

} // namespace spinner_rollback::detail
