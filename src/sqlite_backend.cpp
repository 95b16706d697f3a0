#include "sqlite_backend.hpp"

#include <gsl/gsl>
#include <sqlite3.h>

namespace spinner_rollback::detail {

Db::Db(const std::string &path, int busy_timeout_ms) {
    int rc = sqlite3_open_v2(path.c_str(), &db_,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX |
                                 SQLITE_OPEN_URI,
                             nullptr);
    if (rc != SQLITE_OK) {
        std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
        sqlite3_close(db_);
        db_ = nullptr;
        throw Error(ErrorCode::io, "cannot open store \"" + path + "\": " + msg, "path");
    }
    sqlite3_extended_result_codes(db_, 1);
    sqlite3_busy_timeout(db_, busy_timeout_ms);
}

Db::~Db() {
    for (auto &[sql, stmts] : cache_)
        for (auto *st : stmts) sqlite3_finalize(st);
    sqlite3_close_v2(db_);
}

sqlite3_stmt *Db::acquire(const std::string &sql) {
    auto it = cache_.find(sql);
    if (it != cache_.end() && !it->second.empty()) {
        sqlite3_stmt *st = it->second.back();
        it->second.pop_back();
        return st;
    }
    sqlite3_stmt *st = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql.data(), gsl::narrow<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &st,
                                nullptr);
    if (rc != SQLITE_OK) raise(rc, "prepare");
    Ensures(st != nullptr);
    return st;
}

void Db::release(const std::string &sql, sqlite3_stmt *st) noexcept {
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    try {
        auto &pool = cache_[sql];
        if (pool.size() < 4) {
            pool.push_back(st);
            return;
        }
    } catch (...) {
    }
    sqlite3_finalize(st);
}

void Db::raise(int rc, std::string_view what) const {
    int primary = rc & 0xff;
    std::string msg = std::string(what) + ": " + sqlite3_errstr(rc);
    switch (primary) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED: throw Error(ErrorCode::busy, msg);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: throw Error(ErrorCode::corrupt, msg);
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM: throw Error(ErrorCode::io, msg);
    default: throw Error(ErrorCode::internal, msg + " (" + sqlite3_errmsg(db_) + ")");
    }
}

void Db::exec(std::string_view sql) {
    std::string s(sql);
    char *err = nullptr;
    int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err);
    sqlite3_free(err);
    if (rc != SQLITE_OK) raise(rc, "sqlite");
}

std::int64_t Db::changes() const { return sqlite3_changes64(db_); }

Stmt::Stmt(Db &db, std::string_view sql) : db_(db), sql_(sql) { stmt_ = db_.acquire(sql_); }

Stmt::~Stmt() { db_.release(sql_, stmt_); }

Stmt &Stmt::bind(int i, std::int64_t v) {
    int rc = sqlite3_bind_int64(stmt_, i, v);
    if (rc != SQLITE_OK) db_.raise(rc, "bind");
    return *this;
}
Stmt &Stmt::bind(int i, std::string_view t) {
    int rc = sqlite3_bind_text64(stmt_, i, t.data(), t.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
    if (rc != SQLITE_OK) db_.raise(rc, "bind");
    return *this;
}
Stmt &Stmt::bind_blob(int i, std::string_view b) {
    int rc = sqlite3_bind_blob64(stmt_, i, b.data(), b.size(), SQLITE_TRANSIENT);
    if (rc != SQLITE_OK) db_.raise(rc, "bind");
    return *this;
}
Stmt &Stmt::bind_null(int i) {
    int rc = sqlite3_bind_null(stmt_, i);
    if (rc != SQLITE_OK) db_.raise(rc, "bind");
    return *this;
}

bool Stmt::step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    db_.raise(rc, "step");
}

void Stmt::run() {
    while (step()) {
    }
}

void Stmt::reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
}

std::int64_t Stmt::i64(int c) const { return sqlite3_column_int64(stmt_, c); }
std::string Stmt::text(int c) const {
    const auto *p = sqlite3_column_text(stmt_, c);
    int n = sqlite3_column_bytes(stmt_, c);
    return p ? std::string(reinterpret_cast<const char *>(p), static_cast<std::size_t>(n)) : std::string();
}
std::string Stmt::blob(int c) const {
    const void *p = sqlite3_column_blob(stmt_, c);
    int n = sqlite3_column_bytes(stmt_, c);
    return p ? std::string(static_cast<const char *>(p), static_cast<std::size_t>(n)) : std::string();
}
bool Stmt::is_null(int c) const { return sqlite3_column_type(stmt_, c) == SQLITE_NULL; }

Tx::Tx(Db &db, bool write) : db_(db) { db_.exec(write ? "BEGIN IMMEDIATE" : "BEGIN"); }
Tx::~Tx() {
    if (!done_) sqlite3_exec(db_.raw(), "ROLLBACK", nullptr, nullptr, nullptr);
}
void Tx::commit() {
    db_.exec("COMMIT");
    done_ = true;
}

} // namespace spinner_rollback::detail
