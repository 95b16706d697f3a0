// Helpers for the C API tests (Catch2). Only the C header of the library is
// used; JSON results are parsed with Boost.JSON (header-only: exactly one
// translation unit per executable includes <boost/json/src.hpp>).
#pragma once

#include "spinner_rollback.h"
#include "support/backend.hpp"

#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <unistd.h>

#ifndef SPR_TEST_DATA_DIR
#error "SPR_TEST_DATA_DIR must be defined"
#endif

namespace spr_test {

namespace json = boost::json;
namespace fs = std::filesystem;

// The distinctive secret values of tests/data/shop_v1.json and shop_v2.json.
inline const std::string kSecretV1 = "S3cr3t-Valu3-7f1e";
inline const std::string kSecretV2 = "Rot4ted-Pa55-c0d9";
// A 32-byte key as 64 hex digits, and the same bytes in base64.
inline const std::string kKeyHex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
inline const std::string kKeyB64 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
inline const std::string kOtherKeyHex = "ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1eff";

inline std::string key_options(const std::string &extra = "") {
    return "{\"key\":\"" + kKeyHex + "\"" + (extra.empty() ? "" : "," + extra) + "}";
}

inline std::string read_file(const fs::path &p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + p.string());
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

inline std::string read_file_if_exists(const fs::path &p) {
    std::error_code ec;
    if (!fs::exists(p, ec)) return {};
    return read_file(p);
}

inline std::string data(const std::string &name) { return read_file(fs::path(SPR_TEST_DATA_DIR) / name); }

inline std::string replace_all(std::string s, std::string_view from, std::string_view to) {
    std::size_t pos = 0;
    bool found = false;
    while ((pos = s.find(from, pos)) != std::string::npos) {
        s.replace(pos, from.size(), to);
        pos += to.size();
        found = true;
    }
    if (!found) throw std::runtime_error("replace_all: \"" + std::string(from) + "\" not found");
    return s;
}

inline bool contains(std::string_view hay, std::string_view needle) {
    return hay.find(needle) != std::string_view::npos;
}

// A state document derived from shop_v1.json with a distinct codeVersion
// (a tracked field), so every variant differs from every other.
inline std::string shop_variant(const std::string &code_version) {
    return replace_all(data("shop_v1.json"), "\"codeVersion\": \"9f3c2e1\"",
                       "\"codeVersion\": \"" + code_version + "\"");
}

inline std::string with_history_limit(const std::string &doc, int limit) {
    return replace_all(doc, "\"historyLimit\": 20", "\"historyLimit\": " + std::to_string(limit));
}

// A fresh directory under the system temp dir, removed on destruction, and
// the stores of one test (support/backend.hpp: SQLite files or PostgreSQL
// schemas).
struct TempDir {
    fs::path path;
    TempDir() {
        std::string tmpl = (fs::temp_directory_path() / "spr-test-XXXXXX").string();
        if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
        path = tmpl;
        stores_ = std::make_unique<spr_backend::Stores>(path);
    }
    ~TempDir() {
        stores_.reset();
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    std::string file(const std::string &name) const { return (path / name).string(); }
    /// The store named `name` in this test (created empty on first use).
    std::string store(const std::string &name = "s") { return stores_->get(name); }
    std::unique_ptr<spr_backend::Stores> stores_;
    TempDir(const TempDir &) = delete;
    TempDir &operator=(const TempDir &) = delete;
};

// Copies a library string and frees it.
inline std::string take(char *p) {
    std::string s = p ? std::string(p) : std::string();
    spr_free(p);
    return s;
}

inline json::value parse(std::string_view s) {
    try {
        return json::parse(s);
    } catch (const std::exception &e) {
        FAIL("not valid JSON (" << e.what() << "): " << s);
    }
    return {};
}

struct LastError {
    std::int64_t code = -1;
    std::string name, message, path;
    std::string raw;
};

// This thread's last error, parsed; checks the {code,name,message,path} shape.
inline LastError last_error() {
    const char *p = spr_last_error();
    REQUIRE(p != nullptr);
    LastError e;
    e.raw = p;
    json::value v = parse(e.raw);
    REQUIRE(v.is_object());
    const auto &o = v.as_object();
    REQUIRE(o.contains("code"));
    REQUIRE(o.contains("name"));
    REQUIRE(o.contains("message"));
    REQUIRE(o.contains("path"));
    REQUIRE(o.at("code").is_int64());
    REQUIRE(o.at("name").is_string());
    REQUIRE(o.at("message").is_string());
    REQUIRE((o.at("path").is_string() || o.at("path").is_null()));
    e.code = o.at("code").as_int64();
    e.name = std::string(o.at("name").as_string());
    e.message = std::string(o.at("message").as_string());
    if (o.at("path").is_string()) e.path = std::string(o.at("path").as_string());
    return e;
}

#define SPR_REQUIRE_RC(expr, want)                                                                 \
    do {                                                                                           \
        int spr_rc_ = (expr);                                                                      \
        INFO(#expr << " returned " << spr_rc_ << " (" << spr_error_name(spr_rc_)                   \
                   << "), last error: " << spr_last_error());                                      \
        REQUIRE(spr_rc_ == (want));                                                                \
    } while (0)

#define SPR_REQUIRE_OK(expr) SPR_REQUIRE_RC(expr, SPR_OK)

// A sentinel to prove out-pointers are reset to NULL on failure.
inline char *sentinel() {
    static char s;
    return &s;
}

inline std::string str(const json::value &v, std::string_view key) {
    const auto *x = v.as_object().if_contains(key);
    if (!x) FAIL("missing field \"" << key << "\" in " << json::serialize(v));
    if (!x->is_string()) FAIL("field \"" << key << "\" is not a string in " << json::serialize(v));
    return std::string(x->as_string());
}

inline std::int64_t num(const json::value &v, std::string_view key) {
    const auto *x = v.as_object().if_contains(key);
    if (!x) FAIL("missing field \"" << key << "\" in " << json::serialize(v));
    if (x->is_int64()) return x->as_int64();
    if (x->is_uint64()) return static_cast<std::int64_t>(x->as_uint64());
    FAIL("field \"" << key << "\" is not an integer in " << json::serialize(v));
    return 0;
}

inline bool boolean(const json::value &v, std::string_view key) {
    const auto *x = v.as_object().if_contains(key);
    if (!x || !x->is_bool()) FAIL("missing boolean \"" << key << "\" in " << json::serialize(v));
    return x->as_bool();
}

// RAII wrapper over an open store; every helper REQUIREs success.
class Store {
public:
    Store(const std::string &path, const std::string &options = key_options()) {
        spr_store *h = nullptr;
        int rc = spr_open(path.c_str(), options.empty() ? nullptr : options.c_str(), &h);
        INFO("spr_open: " << spr_last_error());
        REQUIRE(rc == SPR_OK);
        REQUIRE(h != nullptr);
        h_ = h;
    }
    explicit Store(spr_store *h) : h_(h) { REQUIRE(h != nullptr); }
    ~Store() { spr_close(h_); }
    Store(const Store &) = delete;
    Store &operator=(const Store &) = delete;
    spr_store *get() const { return h_; }
    operator spr_store *() const { return h_; }

    json::value record(const std::string &spinner, const std::string &state, const char *meta = nullptr) {
        char *out = nullptr;
        SPR_REQUIRE_OK(spr_record(h_, spinner.c_str(), state.c_str(), meta, &out));
        REQUIRE(out != nullptr);
        return parse(take(out));
    }
    // Records and requires a new version; returns its number.
    std::int64_t record_created(const std::string &spinner, const std::string &state,
                                const char *meta = nullptr) {
        json::value r = record(spinner, state, meta);
        INFO(json::serialize(r));
        REQUIRE(str(r, "outcome") == "created");
        REQUIRE(r.at("version").is_object());
        return num(r.at("version"), "number");
    }
    std::string versions_raw(const std::string &spinner) {
        char *out = nullptr;
        SPR_REQUIRE_OK(spr_versions(h_, spinner.c_str(), &out));
        return take(out);
    }
    json::array versions(const std::string &spinner) {
        json::value v = parse(versions_raw(spinner));
        REQUIRE(v.is_array());
        return v.as_array();
    }
    std::vector<std::int64_t> numbers(const std::string &spinner) {
        std::vector<std::int64_t> n;
        for (const auto &v : versions(spinner)) n.push_back(num(v, "number"));
        return n;
    }
    std::string get_raw(const std::string &spinner, std::int64_t n, bool reveal) {
        char *out = nullptr;
        SPR_REQUIRE_OK(spr_version_get(h_, spinner.c_str(), n, reveal ? 1 : 0, &out));
        return take(out);
    }
    json::value get(const std::string &spinner, std::int64_t n, bool reveal) {
        return parse(get_raw(spinner, n, reveal));
    }
    std::string diff_raw(const std::string &spinner, std::int64_t from, std::int64_t to) {
        char *out = nullptr;
        SPR_REQUIRE_OK(spr_diff(h_, spinner.c_str(), from, to, &out));
        return take(out);
    }
    std::string plan_raw(const std::string &spinner, std::int64_t target, const char *request = nullptr) {
        char *out = nullptr;
        SPR_REQUIRE_OK(spr_plan_rollback(h_, spinner.c_str(), target, request, &out));
        REQUIRE(out != nullptr);
        return take(out);
    }
    json::value commit(const std::string &plan, const char *meta = nullptr) {
        char *out = nullptr;
        SPR_REQUIRE_OK(spr_commit_rollback(h_, plan.c_str(), meta, &out));
        return parse(take(out));
    }
    json::value info(const std::string &spinner) {
        char *out = nullptr;
        SPR_REQUIRE_OK(spr_spinner_info(h_, spinner.c_str(), &out));
        return parse(take(out));
    }
    // Calls that are expected to fail: the code, with out-pointer checked NULL.
    int try_plan(const std::string &spinner, std::int64_t target, const char *request = nullptr) {
        char *out = sentinel();
        int rc = spr_plan_rollback(h_, spinner.c_str(), target, request, &out);
        if (rc == SPR_OK) {
            spr_free(out);
        } else {
            REQUIRE(out == nullptr);
        }
        return rc;
    }
    int try_commit(const std::string &plan, const char *meta = nullptr, std::string *result = nullptr) {
        char *out = sentinel();
        int rc = spr_commit_rollback(h_, plan.c_str(), meta, &out);
        if (rc == SPR_OK) {
            std::string s = take(out);
            if (result) *result = s;
        } else {
            REQUIRE(out == nullptr);
        }
        return rc;
    }
    int try_record(const std::string &spinner, const std::string &state, const char *meta = nullptr,
                   std::string *result = nullptr) {
        char *out = sentinel();
        int rc = spr_record(h_, spinner.c_str(), state.c_str(), meta, &out);
        if (rc == SPR_OK) {
            std::string s = take(out);
            if (result) *result = s;
        } else {
            REQUIRE(out == nullptr);
        }
        return rc;
    }
    int try_get(const std::string &spinner, std::int64_t n, bool reveal, std::string *result = nullptr) {
        char *out = sentinel();
        int rc = spr_version_get(h_, spinner.c_str(), n, reveal ? 1 : 0, &out);
        if (rc == SPR_OK) {
            std::string s = take(out);
            if (result) *result = s;
        } else {
            REQUIRE(out == nullptr);
        }
        return rc;
    }
    std::size_t version_count(const std::string &spinner) {
        char *out = sentinel();
        int rc = spr_versions(h_, spinner.c_str(), &out);
        if (rc == SPR_E_NOT_FOUND) {
            REQUIRE(out == nullptr);
            return 0;
        }
        INFO(spr_last_error());
        REQUIRE(rc == SPR_OK);
        json::value v = parse(take(out));
        return v.as_array().size();
    }

private:
    spr_store *h_ = nullptr;
};

// The checks every history must pass: numbers gap-free and descending from
// the newest, exactly one current (the newest), and the number of the newest.
inline std::int64_t check_history_shape(const json::array &versions) {
    REQUIRE(!versions.empty());
    std::int64_t expect = num(versions.front(), "number");
    int currents = 0;
    for (const auto &v : versions) {
        REQUIRE(num(v, "number") == expect);
        --expect;
        if (boolean(v, "current")) ++currents;
    }
    REQUIRE(currents == 1);
    REQUIRE(boolean(versions.front(), "current"));
    return num(versions.front(), "number");
}

} // namespace spr_test
