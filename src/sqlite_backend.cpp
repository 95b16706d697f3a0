// The SQLite engine: a store is one database file (WAL mode).
#include "db.hpp"

#include <gsl/gsl>
#include <sqlite3.h>

#include <sys/statvfs.h>
#include <unistd.h>

#include <cstdio>

namespace spinner_rollback::detail {

namespace {

class SqliteDb;

class SqliteCursor final : public Cursor {
public:
    SqliteCursor(SqliteDb &db, sqlite3_stmt *st) : db_(db), st_(st) {}
    ~SqliteCursor() override { sqlite3_finalize(st_); }
    SqliteCursor(const SqliteCursor &) = delete;
    SqliteCursor &operator=(const SqliteCursor &) = delete;

    void bind_i64(int i, std::int64_t v) override { check(sqlite3_bind_int64(st_, i, v)); }
    void bind_text(int i, std::string_view t) override {
        check(sqlite3_bind_text64(st_, i, t.data(), t.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
    }
    void bind_blob(int i, std::string_view b) override {
        check(sqlite3_bind_blob64(st_, i, b.data(), b.size(), SQLITE_TRANSIENT));
    }
    void bind_null(int i) override { check(sqlite3_bind_null(st_, i)); }
    bool step() override;
    void reset() noexcept override {
        sqlite3_reset(st_);
        sqlite3_clear_bindings(st_);
    }
    std::int64_t i64(int c) const override { return sqlite3_column_int64(st_, c); }
    std::string text(int c) const override {
        const auto *p = sqlite3_column_text(st_, c);
        int n = sqlite3_column_bytes(st_, c);
        return p ? std::string(reinterpret_cast<const char *>(p), static_cast<std::size_t>(n)) : std::string();
    }
    std::string blob(int c) const override {
        const void *p = sqlite3_column_blob(st_, c);
        int n = sqlite3_column_bytes(st_, c);
        return p ? std::string(static_cast<const char *>(p), static_cast<std::size_t>(n)) : std::string();
    }
    bool is_null(int c) const override { return sqlite3_column_type(st_, c) == SQLITE_NULL; }

private:
    void check(int rc);
    SqliteDb &db_;
    sqlite3_stmt *st_;
};

class SqliteDb final : public Db {
public:
    SqliteDb(const std::string &path, int busy_timeout_ms) {
        note_sqlite_in_use();
        // A store file this process may not write (file permissions, a
        // read-only filesystem) is opened for reading. (A "file:" URI is
        // not a path: opened as it says.)
        const bool exists = ::access(path.c_str(), F_OK) == 0;
        int rc = exists && ::access(path.c_str(), W_OK) != 0
                     ? open_read_only(path)
                     : connect(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
        if (rc != SQLITE_OK) {
            std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
            sqlite3_close(db_);
            db_ = nullptr;
            throw Error(ErrorCode::io, "cannot open store \"" + path + "\": " + msg, "path");
        }
        sqlite3_busy_timeout(db_, busy_timeout_ms);
    }
    ~SqliteDb() override {
        clear_cache(); // finalize every statement before closing
        sqlite3_close_v2(db_);
    }
    // In a child of fork(): the connection is idle (no statement running, no
    // transaction open: fork() waited for that), so closing it drops only the
    // child's copy of SQLite's lock records and file descriptors. POSIX locks
    // belong to a process: the parent's stay held.
    void release_inherited() noexcept override {
        clear_cache();
        sqlite3_close_v2(db_);
        db_ = nullptr;
    }

    std::string_view engine_name() const noexcept override { return "sqlite"; }
    bool prefers_batches() const noexcept override { return false; }
    const Dialect &dialect() const noexcept override {
        static constexpr Dialect d{"BLOB", "INTEGER", "TEXT", "INTEGER PRIMARY KEY", " WITHOUT ROWID", " IN (", ")", "", false};
        return d;
    }
    void configure(bool full_durability) override {
        if (read_only_) return; // nothing to set: it is read as it is
        exec("PRAGMA journal_mode=WAL");
        session(full_durability ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
        session("PRAGMA secure_delete=ON");
    }
    std::int64_t schema_version() override {
        sqlite3_stmt *st = nullptr;
        int rc = sqlite3_prepare_v2(db_, "PRAGMA user_version", -1, &st, nullptr);
        if (rc != SQLITE_OK) raise(rc, "prepare");
        rc = sqlite3_step(st);
        std::int64_t v = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
        sqlite3_finalize(st);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) raise(rc, "step");
        return v;
    }
    void set_schema_version(std::int64_t v) override { exec("PRAGMA user_version=" + std::to_string(v)); }

    void exec(std::string_view sql) override {
        std::string s(sql);
        char *err = nullptr;
        int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err);
        sqlite3_free(err);
        if (rc != SQLITE_OK) raise(rc, "sqlite");
    }
    void session(const std::string &sql) override { exec(sql); }
    std::int64_t changes() override { return sqlite3_changes64(db_); }
    void begin(bool write) override {
        if (write && read_only_)
            throw Error(ErrorCode::io,
                        "the store is read-only: its file or filesystem cannot be written by this process, so it "
                        "was opened for reading only (every read works; writes are refused)",
                        "store");
        exec(write ? "BEGIN IMMEDIATE" : "BEGIN");
    }
    void commit() override { exec("COMMIT"); }
    void rollback() noexcept override { sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr); }

    std::unique_ptr<Cursor> prepare(const std::string &sql) override {
        sqlite3_stmt *st = nullptr;
        int rc = sqlite3_prepare_v3(db_, sql.data(), gsl::narrow<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                                    &st, nullptr);
        if (rc != SQLITE_OK) raise(rc, "prepare");
        Ensures(st != nullptr);
        return std::make_unique<SqliteCursor>(*this, st);
    }

    /// Throw the Error that matches SQLite result code `rc`.
    [[noreturn]] void raise(int rc, std::string_view what) const {
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

private:
    int connect(const std::string &location, int flags) {
        sqlite3_close(db_);
        db_ = nullptr;
        int rc = sqlite3_open_v2(location.c_str(), &db_, flags | SQLITE_OPEN_FULLMUTEX | SQLITE_OPEN_URI, nullptr);
        if (db_) sqlite3_extended_result_codes(db_, 1);
        return rc;
    }
    // SQLITE_OK when a read works on `db_`.
    int probe() {
        sqlite3_stmt *st = nullptr;
        int rc = sqlite3_prepare_v2(db_, "SELECT count(*) FROM sqlite_master", -1, &st, nullptr);
        if (rc == SQLITE_OK) rc = sqlite3_step(st) == SQLITE_ROW ? SQLITE_OK : sqlite3_errcode(db_);
        sqlite3_finalize(st);
        return rc;
    }
    // Read-only: WAL mode needs the -shm file; where it can neither be
    // opened nor made (a read-only filesystem) and no -wal file holds
    // commits not yet in the database, the file cannot change under us:
    // SQLite may read it as immutable (no locks, no -shm).
    int open_read_only(const std::string &path) {
        read_only_ = true;
        int rc = connect(path, SQLITE_OPEN_READONLY);
        if (rc == SQLITE_OK) rc = probe();
        if (rc == SQLITE_OK || path.starts_with("file:")) return rc;
        struct statvfs fs {};
        const std::string dir = path.find('/') == std::string::npos ? "." : path.substr(0, path.rfind('/') + 1);
        const bool fs_read_only = ::statvfs(dir.c_str(), &fs) == 0 && (fs.f_flag & ST_RDONLY) != 0;
        if (!fs_read_only || ::access((path + "-wal").c_str(), F_OK) == 0) return rc;
        rc = connect("file:" + uri_escape(path) + "?immutable=1", SQLITE_OPEN_READONLY);
        if (rc == SQLITE_OK) rc = probe();
        return rc;
    }
    static std::string uri_escape(const std::string &path) {
        std::string out;
        for (unsigned char c : path) {
            if (c == '%' || c == '?' || c == '#' || c <= 0x20 || c >= 0x7f) {
                char buf[4];
                std::snprintf(buf, sizeof buf, "%%%02X", c);
                out += buf;
            } else {
                out += static_cast<char>(c);
            }
        }
        return out;
    }

    sqlite3 *db_ = nullptr;
    bool read_only_ = false; // opened for reading: the file is not writable by this process
};

void SqliteCursor::check(int rc) {
    if (rc != SQLITE_OK) db_.raise(rc, "bind");
}

bool SqliteCursor::step() {
    int rc = sqlite3_step(st_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    db_.raise(rc, "step");
}

} // namespace

std::unique_ptr<Db> open_sqlite(const std::string &path, int busy_timeout_ms) {
    return std::make_unique<SqliteDb>(path, busy_timeout_ms);
}

} // namespace spinner_rollback::detail
