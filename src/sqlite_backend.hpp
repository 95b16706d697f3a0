// Internal: a thin RAII layer over sqlite3 that turns every failure into an
// Error with the right code (busy, io, corrupt, internal).
#pragma once

#include <spinner_rollback/error.hpp>

#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace spinner_rollback::detail {

class Db;

/// A prepared statement, borrowed from the connection's cache for the
/// lifetime of this object and returned (reset) on destruction.
class Stmt {
public:
    Stmt(Db &db, std::string_view sql);
    ~Stmt();
    Stmt(const Stmt &) = delete;
    Stmt &operator=(const Stmt &) = delete;

    Stmt &bind(int i, std::int64_t v);
    Stmt &bind(int i, std::string_view text);
    Stmt &bind_blob(int i, std::string_view bytes);
    Stmt &bind_null(int i);
    /// Step once: true if a row is available, false when done.
    bool step();
    /// Step until done (for writes).
    void run();
    void reset();

    std::int64_t i64(int col) const;
    std::string text(int col) const;
    std::string blob(int col) const;
    bool is_null(int col) const;

private:
    Db &db_;
    std::string sql_;
    sqlite3_stmt *stmt_ = nullptr;
};

class Db {
public:
    Db(const std::string &path, int busy_timeout_ms);
    ~Db();
    Db(const Db &) = delete;
    Db &operator=(const Db &) = delete;

    void exec(std::string_view sql);
    sqlite3 *raw() const noexcept { return db_; }
    std::int64_t changes() const;
    /// Throw the Error that matches SQLite result code `rc`.
    [[noreturn]] void raise(int rc, std::string_view what) const;

    /// Statement cache: prepared once per connection, reused after reset.
    sqlite3_stmt *acquire(const std::string &sql);
    void release(const std::string &sql, sqlite3_stmt *stmt) noexcept;

private:
    sqlite3 *db_ = nullptr;
    std::unordered_map<std::string, std::vector<sqlite3_stmt *>> cache_;
};

/// BEGIN IMMEDIATE (write) or BEGIN (read) … COMMIT, rolled back on exception.
class Tx {
public:
    Tx(Db &db, bool write);
    ~Tx();
    void commit();

private:
    Db &db_;
    bool done_ = false;
};

} // namespace spinner_rollback::detail
