// Store files tampered with behind the library's back: stored content that
// fails verification is reported as SPR_E_CORRUPT, never returned as data.
#include <boost/json/src.hpp> // Boost.JSON, header-only, once per executable

#include "capi/capi_support.hpp"
#include "multiprocess/sqlite_check.hpp"

using namespace spr_test;

namespace {

bool has_table(sqlite3 *db, const char *table) {
    sqlite3_stmt *st = nullptr;
    sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", -1, &st, nullptr);
    sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
    bool found = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return found;
}

// Flips one byte in the middle of every content blob. Returns how many.
int tamper_all_blobs(const std::string &path) {
    sqlite3 *db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    if (!has_table(db, "blobs")) {
        sqlite3_close(db);
        return -1;
    }
    std::vector<std::pair<sqlite3_int64, std::string>> rows;
    sqlite3_stmt *st = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, "SELECT rowid, data FROM blobs", -1, &st, nullptr) == SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *p = static_cast<const char *>(sqlite3_column_blob(st, 1));
        int n = sqlite3_column_bytes(st, 1);
        rows.emplace_back(sqlite3_column_int64(st, 0), std::string(p, p + n));
    }
    sqlite3_finalize(st);
    REQUIRE(sqlite3_prepare_v2(db, "UPDATE blobs SET data=? WHERE rowid=?", -1, &st, nullptr) == SQLITE_OK);
    for (auto &[rowid, bytes] : rows) {
        REQUIRE(!bytes.empty());
        bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x20);
        sqlite3_reset(st);
        sqlite3_bind_blob(st, 1, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, rowid);
        REQUIRE(sqlite3_step(st) == SQLITE_DONE);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return static_cast<int>(rows.size());
}

void exec(const std::string &path, const char *sql) {
    sqlite3 *db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    char *err = nullptr;
    int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
    INFO((err ? err : ""));
    sqlite3_free(err);
    sqlite3_close(db);
    REQUIRE(rc == SQLITE_OK);
}

} // namespace

TEST_CASE("tampered content is reported as SPR_E_CORRUPT, never returned", "[store-files]") {
    TempDir dir;
    const std::string path = dir.file("s.db");
    {
        Store store(path);
        store.record_created("shop", data("shop_v1.json"));
        store.record_created("shop", data("shop_v2.json"));
    }
    int n = tamper_all_blobs(path);
    if (n < 0) {
        WARN("the store has no \"blobs\" table any more; tamper test skipped");
        return;
    }
    REQUIRE(n > 0);
    Store store(path);
    for (std::int64_t v : {1, 2})
        for (bool reveal : {false, true}) {
            INFO("version " << v << (reveal ? " revealed" : " masked"));
            std::string result;
            REQUIRE(store.try_get("shop", v, reveal, &result) == SPR_E_CORRUPT);
            REQUIRE(last_error().name == "SPR_E_CORRUPT");
        }
    char *out = sentinel();
    REQUIRE(spr_diff(store, "shop", 1, 2, &out) == SPR_E_CORRUPT);
    REQUIRE(out == nullptr);
    REQUIRE(store.try_plan("shop", 1) == SPR_E_CORRUPT);
}

TEST_CASE("a store from a newer schema is refused, not damaged", "[store-files]") {
    TempDir dir;
    const std::string path = dir.file("s.db");
    {
        Store store(path);
        store.record_created("shop", data("shop_v1.json"));
    }
    exec(path, "PRAGMA user_version=9999");
    spr_store *h = reinterpret_cast<spr_store *>(sentinel());
    int rc = spr_open(path.c_str(), key_options().c_str(), &h);
    REQUIRE(rc != SPR_OK);
    REQUIRE(h == nullptr);
    REQUIRE_FALSE(last_error().message.empty());
    exec(path, "PRAGMA user_version=1");
    REQUIRE(sqlite_integrity_check(path) == "ok");
}

TEST_CASE("a store file with a damaged header is refused", "[store-files]") {
    TempDir dir;
    const std::string path = dir.file("s.db");
    {
        Store store(path);
        store.record_created("shop", data("shop_v1.json"));
    }
    {
        std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(0);
        f.write("NOT SQLITE AT ALL", 16);
    }
    spr_store *h = reinterpret_cast<spr_store *>(sentinel());
    int rc = spr_open(path.c_str(), key_options().c_str(), &h);
    REQUIRE((rc == SPR_E_CORRUPT || rc == SPR_E_IO));
    REQUIRE(h == nullptr);
}
