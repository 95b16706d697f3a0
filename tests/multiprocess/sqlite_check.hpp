// Opens a store file with SQLite directly (not through the library) and runs
// PRAGMA integrity_check. Shared by the multi-process and crash tests.
#pragma once

#include <sqlite3.h>

#include <string>

namespace spr_test {

// "ok" when the database is sound, else SQLite's report (or the open error).
inline std::string sqlite_integrity_check(const std::string &path) {
    sqlite3 *db = nullptr;
    if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
        std::string e = db ? sqlite3_errmsg(db) : "cannot open";
        sqlite3_close(db);
        return "open failed: " + e;
    }
    sqlite3_busy_timeout(db, 10000);
    std::string result;
    sqlite3_stmt *st = nullptr;
    if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, nullptr) != SQLITE_OK) {
        result = std::string("prepare failed: ") + sqlite3_errmsg(db);
    } else {
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            if (!result.empty()) result += "; ";
            const unsigned char *t = sqlite3_column_text(st, 0);
            result += t ? reinterpret_cast<const char *>(t) : "(null)";
        }
        if (rc != SQLITE_DONE) result += std::string(" [step failed: ") + sqlite3_errmsg(db) + "]";
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return result;
}

} // namespace spr_test
