// Black-box tests of the C API (capi/spinner_rollback.h), linked against the
// shared library as a host would. Only the C header of the library is used.
#include <boost/json/src.hpp> // Boost.JSON, header-only, once per executable

#include "capi/capi_support.hpp"

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <regex>
#include <set>
#include <csignal>
#include <thread>

using namespace spr_test;

namespace {

const std::regex kRfc3339(R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$)");
const std::regex kSha256(R"(^sha256:[0-9a-f]{64}$)");

const json::object &obj(const json::value &v) { return v.as_object(); }

bool has_reason(const json::value &record_or_decision, const std::string &category) {
    for (const auto &r : record_or_decision.at("reasons").as_array())
        if (r.at("category").as_string() == category) return true;
    return false;
}

const json::object *find_change(const json::value &diff, const std::string &category,
                                const std::string &path_part = "") {
    for (const auto &c : diff.at("changes").as_array())
        if (c.at("category").as_string() == category &&
            contains(std::string(c.at("path").as_string()), path_part))
            return &c.as_object();
    return nullptr;
}

// Replaces the first occurrence of `from` at or after the "state" member.
std::string alter_in_state(const std::string &plan, const std::string &from, const std::string &to) {
    std::size_t st = plan.find("\"state\"");
    REQUIRE(st != std::string::npos);
    std::size_t p = plan.find(from, st);
    REQUIRE(p != std::string::npos);
    std::string out = plan;
    out.replace(p, from.size(), to);
    return out;
}

std::string set_member(const std::string &plan, const std::string &key, const json::value &value) {
    json::value v = parse(plan);
    v.as_object()[key] = value;
    return json::serialize(v);
}

} // namespace

// ---------------------------------------------------------------------------
TEST_CASE("version string, version number and error names", "[capi]") {
    const char *s = spr_version_string();
    REQUIRE(s != nullptr);
    std::cmatch m;
    REQUIRE(std::regex_match(s, m, std::regex(R"((\d+)\.(\d+)\.(\d+).*)")));
    int expect = std::stoi(m[1]) * 10000 + std::stoi(m[2]) * 100 + std::stoi(m[3]);
    REQUIRE(spr_version_number() == expect);
    REQUIRE(spr_version_number() > 0);

    const char *names[] = {"SPR_OK",
                           "SPR_E_INVALID",
                           "SPR_E_NOT_FOUND",
                           "SPR_E_CONFLICT",
                           "SPR_E_ROLLBACK_DISABLED",
                           "SPR_E_CURRENT_VERSION",
                           "SPR_E_IDENTICAL",
                           "SPR_E_PRUNED",
                           "SPR_E_NEEDS_CONFIRMATION",
                           "SPR_E_NO_KEY",
                           "SPR_E_CORRUPT",
                           "SPR_E_BUSY",
                           "SPR_E_IO",
                           "SPR_E_INTERNAL",
                           "SPR_E_SNAPSHOT_NOT_READY",
                           "SPR_E_SNAPSHOT_MISMATCH",
                           "SPR_E_UNKNOWN_VOLUME"};
    const int codes[] = {SPR_OK,
                         SPR_E_INVALID,
                         SPR_E_NOT_FOUND,
                         SPR_E_CONFLICT,
                         SPR_E_ROLLBACK_DISABLED,
                         SPR_E_CURRENT_VERSION,
                         SPR_E_IDENTICAL,
                         SPR_E_PRUNED,
                         SPR_E_NEEDS_CONFIRMATION,
                         SPR_E_NO_KEY,
                         SPR_E_CORRUPT,
                         SPR_E_BUSY,
                         SPR_E_IO,
                         SPR_E_INTERNAL,
                         SPR_E_SNAPSHOT_NOT_READY,
                         SPR_E_SNAPSHOT_MISMATCH,
                         SPR_E_UNKNOWN_VOLUME};
    for (int i = 0; i < 17; ++i) {
        INFO("code " << codes[i]);
        REQUIRE(codes[i] == i);
        REQUIRE(std::string(spr_error_name(codes[i])) == names[i]);
    }
    REQUIRE(spr_error_name(-1) != nullptr);
    REQUIRE(spr_error_name(9999) != nullptr);
    REQUIRE(std::string(spr_error_name(9999)) != "SPR_OK");
}

// ---------------------------------------------------------------------------
TEST_CASE("the valid documents of tests/data are accepted", "[capi][data]") {
    TempDir dir;
    Store store(dir.store("s"));
    for (const char *name : {"shop_v1.json", "shop_v2.json", "shop_v1_config_changed.json",
                             "shop_v1_untracked_changed.json", "shop_v1_history_limit_2.json",
                             "shop_v1_dedicated_volume.json", "plain_v1.json", "plain_v2.json",
                             "minimal.json"}) {
        INFO(name);
        char *out = sentinel();
        SPR_REQUIRE_OK(spr_policy_evaluate(nullptr, nullptr, data(name).c_str(), &out));
        json::value d = parse(take(out));
        REQUIRE(boolean(d, "snapshot"));
        REQUIRE(str(d, "outcome") == "created");
        REQUIRE(has_reason(d, "first"));
        json::value r = store.record("doc-" + std::to_string(std::hash<std::string>{}(name) % 100000), data(name));
        REQUIRE(str(r, "outcome") == "created");
    }
    char *out = nullptr;
    SPR_REQUIRE_OK(spr_policy_evaluate(nullptr, nullptr, data("shop_v1_rollback_disabled.json").c_str(), &out));
    json::value d = parse(take(out));
    REQUIRE(str(d, "outcome") == "disabled");
    REQUIRE_FALSE(boolean(d, "snapshot"));
}

TEST_CASE("invalid documents are refused with the JSON path of the broken rule", "[capi][data]") {
    TempDir dir;
    Store store(dir.store("s"));
    json::value manifest = parse(data("invalid/manifest.json"));
    REQUIRE(manifest.as_array().size() >= 10);
    for (const auto &entry : manifest.as_array()) {
        std::string file = str(entry, "file");
        INFO("invalid/" << file << ": " << entry.at("rule").as_string());
        std::string doc = data("invalid/" + file);
        std::string result;
        REQUIRE(store.try_record("bad", doc, nullptr, &result) == SPR_E_INVALID);
        LastError e = last_error();
        INFO(e.raw);
        REQUIRE(e.code == SPR_E_INVALID);
        REQUIRE(e.name == "SPR_E_INVALID");
        REQUIRE_FALSE(e.message.empty());
        if (entry.at("path").is_string()) REQUIRE(e.path == std::string(entry.at("path").as_string()));
        // Error JSON never quotes a secret value (unreferenced_secret.json holds one).
        REQUIRE_FALSE(contains(e.raw, kSecretV1));
        REQUIRE_FALSE(contains(e.raw, kSecretV2));

        char *out = sentinel();
        REQUIRE(spr_policy_evaluate(nullptr, nullptr, doc.c_str(), &out) == SPR_E_INVALID);
        REQUIRE(out == nullptr);
        e = last_error();
        if (entry.at("path").is_string()) REQUIRE(e.path == std::string(entry.at("path").as_string()));
        REQUIRE_FALSE(contains(e.raw, kSecretV1));
    }
    // Nothing was stored.
    REQUIRE(store.version_count("bad") == 0);
}

TEST_CASE("hostile input is refused quickly", "[capi][data]") {
    TempDir dir;
    Store store(dir.store("s"));
    std::vector<std::pair<std::string, std::string>> cases;
    cases.emplace_back("deep nesting", std::string(200000, '[') + std::string(200000, ']'));
    {
        std::string doc = data("minimal.json");
        cases.emplace_back("huge string",
                           replace_all(doc, "\"busybox:1.36\"", "\"" + std::string(40u << 20, 'a') + "\""));
        std::string bad_utf8 = replace_all(doc, "\"app\"", "\"a\xff\xfe\"");
        cases.emplace_back("invalid UTF-8", bad_utf8);
        cases.emplace_back("NaN", replace_all(doc, "\"instances\": 1", "\"instances\": NaN"));
        cases.emplace_back("Infinity", replace_all(doc, "\"instances\": 1", "\"instances\": 1e999"));
        cases.emplace_back("trailing garbage", doc + "}");
        cases.emplace_back("not an object", "[1,2,3]");
        cases.emplace_back("empty", "");
        cases.emplace_back("truncated", doc.substr(0, doc.size() / 2));
        cases.emplace_back("embedded NUL", replace_all(doc, "\"app\"", std::string("\"a\\u0000p\"")));
    }
    for (const auto &[what, doc] : cases) {
        INFO(what);
        auto t0 = std::chrono::steady_clock::now();
        REQUIRE(store.try_record("hostile", doc) == SPR_E_INVALID);
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
        REQUIRE(ms.count() < 3000);
        LastError e = last_error();
        REQUIRE(e.name == "SPR_E_INVALID");
        REQUIRE(e.raw.size() < 4096); // the error does not echo the input
    }
    REQUIRE(store.version_count("hostile") == 0);
}

// ---------------------------------------------------------------------------
TEST_CASE("record: created, unchanged, disabled, reenabled", "[capi][record]") {
    TempDir dir;
    Store store(dir.store("s"));

    json::value r1 = store.record("shop", data("shop_v1.json"), R"({"author":"alice","message":"first deploy"})");
    REQUIRE(str(r1, "outcome") == "created");
    const json::value &v1 = r1.at("version");
    REQUIRE(num(v1, "number") == 1);
    REQUIRE(boolean(v1, "current"));
    REQUIRE(str(v1, "author") == "alice");
    REQUIRE(str(v1, "message") == "first deploy");
    REQUIRE(str(v1, "reason") == "deploy");
    REQUIRE(str(v1, "status") == "pending");
    REQUIRE(v1.at("rollbackOf").is_null());
    REQUIRE(has_reason(r1, "first"));

    // The same state again, and a state that changes only untracked fields.
    json::value again = store.record("shop", data("shop_v1.json"));
    REQUIRE(str(again, "outcome") == "unchanged");
    REQUIRE(again.at("version").is_null());
    json::value untracked = store.record("shop", data("shop_v1_untracked_changed.json"));
    INFO(json::serialize(untracked));
    REQUIRE(str(untracked, "outcome") == "unchanged");
    REQUIRE(untracked.at("version").is_null());
    REQUIRE(store.version_count("shop") == 1);

    // A real change: image, codeVersion, env, instances, config and secret values.
    json::value r2 = store.record("shop", data("shop_v2.json"));
    INFO(json::serialize(r2));
    REQUIRE(str(r2, "outcome") == "created");
    REQUIRE(num(r2.at("version"), "number") == 2);
    for (const char *cat : {"image", "codeVersion", "env", "instances", "configValues", "secretValues"}) {
        INFO(cat);
        REQUIRE(has_reason(r2, cat));
    }
    REQUIRE_FALSE(has_reason(r2, "labels")); // untracked by default
    for (const auto &r : r2.at("reasons").as_array()) REQUIRE_FALSE(std::string(r.at("path").as_string()).empty());
    std::string summary = str(r2.at("version"), "summary");
    REQUIRE(contains(summary, "shop:1.5"));
    REQUIRE(contains(summary, "DEBUG"));
    REQUIRE(contains(summary, "instances"));
    REQUIRE_FALSE(contains(summary, kSecretV1));
    REQUIRE_FALSE(contains(summary, kSecretV2));

    // Back to v1's image with v2's config values: image changes, config values do not.
    json::value r3 = store.record("shop", data("shop_v1_config_changed.json"));
    REQUIRE(str(r3, "outcome") == "created");
    REQUIRE(has_reason(r3, "image"));
    REQUIRE_FALSE(has_reason(r3, "configValues"));

    // Disabled: nothing versioned, history kept, the store knows.
    json::value rd = store.record("shop", data("shop_v1_rollback_disabled.json"));
    REQUIRE(str(rd, "outcome") == "disabled");
    REQUIRE(rd.at("version").is_null());
    REQUIRE(store.version_count("shop") == 3);
    json::value info = store.info("shop");
    REQUIRE_FALSE(boolean(info, "rollbackEnabled"));
    REQUIRE(num(info, "currentVersion") == 3);

    // Re-enabled with content that differs from the current version: recorded at once.
    json::value re = store.record("shop", data("shop_v1.json"));
    REQUIRE(str(re, "outcome") == "created");
    REQUIRE(num(re.at("version"), "number") == 4);
    REQUIRE(str(re.at("version"), "reason") == "reenabled");

    info = store.info("shop");
    REQUIRE(str(info, "spinner") == "shop");
    REQUIRE(boolean(info, "rollbackEnabled"));
    REQUIRE(num(info, "historyLimit") == 20);
    REQUIRE(num(info, "currentVersion") == 4);
    REQUIRE(num(info, "versionsCreated") == 4);
    REQUIRE(std::regex_match(str(info, "lastRecordedAt"), kRfc3339));

    // Different spinners have independent numbering.
    REQUIRE(store.record_created("other", data("plain_v1.json")) == 1);

    // Bad spinner names.
    for (const char *bad : {"Shop", "shop_1", "-shop", "", "a.b"}) {
        INFO("spinner \"" << bad << "\"");
        REQUIRE(store.try_record(bad, data("shop_v1.json")) == SPR_E_INVALID);
        REQUIRE(last_error().path == "spinner");
    }
}

TEST_CASE("versions listing: newest first, one current, contract fields", "[capi][record]") {
    TempDir dir;
    Store store(dir.store("s"));
    store.record_created("shop", data("shop_v1.json"), R"({"author":"a1"})");
    store.record_created("shop", data("shop_v2.json"), R"({"author":"a2"})");
    store.record_created("shop", data("shop_v1.json"), R"({"author":"a3"})");

    std::string raw = store.versions_raw("shop");
    REQUIRE_FALSE(contains(raw, kSecretV1));
    REQUIRE_FALSE(contains(raw, kSecretV2));
    json::array vs = parse(raw).as_array();
    REQUIRE(vs.size() == 3);
    REQUIRE(check_history_shape(vs) == 3);
    REQUIRE(str(vs[0], "author") == "a3");
    REQUIRE(str(vs[2], "author") == "a1");
    for (const auto &v : vs) {
        for (const char *k : {"number", "current", "createdAt", "author", "message", "reason", "summary",
                              "digest", "rollbackOf", "status"}) {
            INFO(k);
            REQUIRE(obj(v).contains(k));
        }
        REQUIRE(std::regex_match(str(v, "createdAt"), kRfc3339));
        REQUIRE(std::regex_match(str(v, "digest"), kSha256));
        REQUIRE(str(v, "reason") == "deploy");
        REQUIRE(str(v, "status") == "pending");
        REQUIRE(v.at("rollbackOf").is_null());
        REQUIRE_FALSE(str(v, "summary").empty());
    }
    // The digest is over the content: v1 and v3 hold the same state.
    REQUIRE(str(vs[0], "digest") == str(vs[2], "digest"));
    REQUIRE(str(vs[0], "digest") != str(vs[1], "digest"));

    // Unknown spinner.
    char *out = sentinel();
    REQUIRE(spr_versions(store, "nope", &out) == SPR_E_NOT_FOUND);
    REQUIRE(out == nullptr);
    REQUIRE(last_error().name == "SPR_E_NOT_FOUND");
}

TEST_CASE("versions page through a long history, newest first", "[capi][record][paging]") {
    TempDir dir;
    Store store(dir.store("s"));
    for (int i = 1; i <= 23; ++i)
        store.record_created("shop", with_history_limit(shop_variant("page-" + std::to_string(i)), 100));
    std::vector<std::int64_t> seen;
    std::vector<std::string> digests;
    std::int64_t before = 0;
    int pages = 0;
    for (; pages < 10; ++pages) {
        char *out = nullptr;
        SPR_REQUIRE_OK(spr_versions_page(store, "shop", before, 10, &out));
        json::array page = parse(take(out)).as_array();
        if (page.empty()) break;
        REQUIRE(page.size() <= 10);
        if (pages == 0) REQUIRE(boolean(page[0], "current"));
        for (const auto &v : page) {
            seen.push_back(num(v, "number"));
            digests.push_back(str(v, "digest"));
        }
        before = seen.back();
    }
    REQUIRE(pages == 3); // 23-14, 13-4, 3-1, then the empty page
    json::array all = store.versions("shop");
    REQUIRE(seen.size() == all.size());
    for (std::size_t i = 0; i < all.size(); ++i) {
        REQUIRE(seen[i] == 23 - static_cast<std::int64_t>(i));
        REQUIRE(num(all[i], "number") == seen[i]);
        REQUIRE(str(all[i], "digest") == digests[i]);
    }
    // A page starting in the middle.
    {
        char *out = nullptr;
        SPR_REQUIRE_OK(spr_versions_page(store, "shop", 5, 100, &out));
        json::array page = parse(take(out)).as_array();
        REQUIRE(page.size() == 4);
        REQUIRE(num(page[0], "number") == 4);
        REQUIRE_FALSE(boolean(page[0], "current"));
    }
    // Bad arguments name the argument; unknown spinners are not found.
    char *out = sentinel();
    REQUIRE(spr_versions_page(store, "shop", -1, 10, &out) == SPR_E_INVALID);
    REQUIRE(out == nullptr);
    REQUIRE(last_error().path == "before");
    REQUIRE(spr_versions_page(store, "shop", 0, 0, &out) == SPR_E_INVALID);
    REQUIRE(last_error().path == "limit");
    REQUIRE(spr_versions_page(store, "shop", 0, 10001, &out) == SPR_E_INVALID);
    REQUIRE(last_error().path == "limit");
    REQUIRE(spr_versions_page(store, nullptr, 0, 10, &out) == SPR_E_INVALID);
    REQUIRE(spr_versions_page(store, "nobody", 0, 10, &out) == SPR_E_NOT_FOUND);
    REQUIRE(out == nullptr);
}

TEST_CASE("version_get masks secret values unless revealed", "[capi][secrets]") {
    TempDir dir;
    Store store(dir.store("s"));
    store.record_created("shop", data("shop_v1.json"));
    store.record_created("shop", data("shop_v2.json"));

    std::string masked = store.get_raw("shop", 1, false);
    REQUIRE_FALSE(contains(masked, kSecretV1));
    json::value m = parse(masked);
    REQUIRE(num(m, "number") == 1);
    REQUIRE_FALSE(boolean(m, "current"));
    REQUIRE(std::regex_match(str(m, "digest"), kSha256));
    const auto &state = m.at("state");
    REQUIRE(state.at("secrets").at("db").at("password").as_string() == "<redacted>");
    REQUIRE(state.at("configMaps").at("shop-config").at("flags").as_string() == "a,b");
    REQUIRE(state.at("containers").at(0).at("image").at("reference").as_string() == "registry.example/shop:1.4");
    REQUIRE(state.at("volumes").at(0).at("volumeId").as_string() == "vol-data-1");
    REQUIRE(state.at("schemaVersion").as_int64() == 1);

    json::value r1 = store.get("shop", 1, true);
    REQUIRE(r1.at("state").at("secrets").at("db").at("password").as_string() == kSecretV1);
    json::value r2 = store.get("shop", 2, true);
    REQUIRE(r2.at("state").at("secrets").at("db").at("password").as_string() == kSecretV2);
    REQUIRE(boolean(r2, "current"));

    // A masked state cannot be recorded back as if it were real.
    std::string masked_state = json::serialize(m.at("state"));
    REQUIRE(store.try_record("shop", masked_state) == SPR_E_INVALID);

    for (std::int64_t n : {0, -1, 3, 1000000}) {
        INFO("number " << n);
        REQUIRE(store.try_get("shop", n, false) == SPR_E_NOT_FOUND);
        REQUIRE(last_error().name == "SPR_E_NOT_FOUND");
    }
    REQUIRE(store.try_get("nope", 1, false) == SPR_E_NOT_FOUND);
    REQUIRE(store.try_get("Bad_Name", 1, false) == SPR_E_INVALID);
    REQUIRE(last_error().path == "spinner");
}

TEST_CASE("diff between versions and between documents", "[capi][diff]") {
    TempDir dir;
    Store store(dir.store("s"));
    store.record_created("shop", data("shop_v1.json"));
    store.record_created("shop", data("shop_v2.json"));

    std::string raw = store.diff_raw("shop", 1, 2);
    REQUIRE_FALSE(contains(raw, kSecretV1));
    REQUIRE_FALSE(contains(raw, kSecretV2));
    json::value d = parse(raw);
    REQUIRE(d.at("changes").is_array());
    for (const auto &c : d.at("changes").as_array())
        for (const char *k : {"path", "category", "kind", "from", "to"}) {
            INFO(json::serialize(c) << " lacks " << k);
            REQUIRE(c.as_object().contains(k));
        }
    const json::object *img = find_change(d, "image");
    REQUIRE(img != nullptr);
    REQUIRE(img->at("kind").as_string() == "changed");
    REQUIRE(contains(json::serialize(img->at("from")), "1.4"));
    REQUIRE(contains(json::serialize(img->at("to")), "1.5"));
    const json::object *dbg = find_change(d, "env", "DEBUG");
    REQUIRE(dbg != nullptr);
    REQUIRE(dbg->at("kind").as_string() == "added");
    const json::object *inst = find_change(d, "instances");
    REQUIRE(inst != nullptr);
    REQUIRE(contains(json::serialize(inst->at("from")), "2"));
    REQUIRE(contains(json::serialize(inst->at("to")), "3"));
    REQUIRE(find_change(d, "secretValues") != nullptr);
    REQUIRE(find_change(d, "labels") != nullptr); // untracked, but still a difference

    // Reverse direction: DEBUG removed.
    json::value back = parse(store.diff_raw("shop", 2, 1));
    const json::object *dbg2 = find_change(back, "env", "DEBUG");
    REQUIRE(dbg2 != nullptr);
    REQUIRE(dbg2->at("kind").as_string() == "removed");

    // Same version: no changes.
    REQUIRE(parse(store.diff_raw("shop", 1, 1)).at("changes").as_array().empty());

    char *out = sentinel();
    REQUIRE(spr_diff(store, "shop", 1, 7, &out) == SPR_E_NOT_FOUND);
    REQUIRE(out == nullptr);
    REQUIRE(spr_diff(store, "nope", 1, 2, &out) == SPR_E_NOT_FOUND);

    // Documents, no store.
    out = sentinel();
    SPR_REQUIRE_OK(spr_diff_states(data("shop_v1.json").c_str(), data("shop_v2.json").c_str(), &out));
    std::string ds = take(out);
    REQUIRE_FALSE(contains(ds, kSecretV1));
    REQUIRE_FALSE(contains(ds, kSecretV2));
    json::value dd = parse(ds);
    REQUIRE(find_change(dd, "image") != nullptr);
    REQUIRE(find_change(dd, "secretValues") != nullptr);
    out = sentinel();
    REQUIRE(spr_diff_states(data("shop_v1.json").c_str(), "{", &out) == SPR_E_INVALID);
    REQUIRE(out == nullptr);
}

TEST_CASE("policy evaluation is a pure function", "[capi][policy]") {
    std::string v1 = data("shop_v1.json");
    char *out = nullptr;
    SPR_REQUIRE_OK(spr_policy_evaluate(nullptr, v1.c_str(), data("shop_v2.json").c_str(), &out));
    json::value d = parse(take(out));
    REQUIRE(boolean(d, "snapshot"));
    REQUIRE(str(d, "outcome") == "created");
    REQUIRE(has_reason(d, "image"));
    for (const auto &r : d.at("reasons").as_array()) {
        REQUIRE(r.as_object().contains("path"));
        REQUIRE(r.as_object().contains("category"));
    }

    // A config value alone is a reason (configValues is a default trigger).
    SPR_REQUIRE_OK(spr_policy_evaluate(nullptr, v1.c_str(), data("shop_v1_config_changed.json").c_str(), &out));
    d = parse(take(out));
    REQUIRE(boolean(d, "snapshot"));
    REQUIRE(d.at("reasons").as_array().size() == 1);
    REQUIRE(has_reason(d, "configValues"));
    // So is a secret value alone (secretValues), without naming the value.
    std::string rotated = replace_all(v1, kSecretV1, kSecretV2);
    SPR_REQUIRE_OK(spr_policy_evaluate(nullptr, v1.c_str(), rotated.c_str(), &out));
    std::string rs = take(out);
    REQUIRE_FALSE(contains(rs, kSecretV1));
    REQUIRE_FALSE(contains(rs, kSecretV2));
    d = parse(rs);
    REQUIRE(d.at("reasons").as_array().size() == 1);
    REQUIRE(has_reason(d, "secretValues"));

    SPR_REQUIRE_OK(spr_policy_evaluate(nullptr, v1.c_str(), data("shop_v1_untracked_changed.json").c_str(), &out));
    d = parse(take(out));
    REQUIRE_FALSE(boolean(d, "snapshot"));
    REQUIRE(str(d, "outcome") == "unchanged");
    REQUIRE(d.at("reasons").as_array().empty());

    // A host policy that tracks labels and one extensions path.
    const char *policy = R"({"triggers": ["labels", "extensions.example.com/owner"]})";
    SPR_REQUIRE_OK(spr_policy_evaluate(policy, v1.c_str(), data("shop_v1_untracked_changed.json").c_str(), &out));
    d = parse(take(out));
    REQUIRE(boolean(d, "snapshot"));
    REQUIRE(has_reason(d, "labels"));
    // ... and ignores image changes.
    SPR_REQUIRE_OK(spr_policy_evaluate(R"({"triggers": ["labels"]})", v1.c_str(),
                                       replace_all(v1, "shop:1.4", "shop:1.9").c_str(), &out));
    d = parse(take(out));
    REQUIRE_FALSE(boolean(d, "snapshot"));

    SPR_REQUIRE_OK(spr_policy_evaluate(nullptr, v1.c_str(), data("shop_v1_rollback_disabled.json").c_str(), &out));
    d = parse(take(out));
    REQUIRE(str(d, "outcome") == "disabled");

    out = sentinel();
    REQUIRE(spr_policy_evaluate(R"({"triggers": ["nonsense"]})", nullptr, v1.c_str(), &out) == SPR_E_INVALID);
    REQUIRE(out == nullptr);
    REQUIRE(contains(last_error().path, "triggers"));
    REQUIRE(spr_policy_evaluate("{", nullptr, v1.c_str(), &out) == SPR_E_INVALID);
    REQUIRE(spr_policy_evaluate(nullptr, "{}", v1.c_str(), &out) == SPR_E_INVALID);
    REQUIRE(out == nullptr);

    // A store configured with a policy applies it.
    TempDir dir;
    Store store(dir.store("s"), key_options(R"("policy": {"triggers": ["labels"]})"));
    store.record_created("shop", v1);
    REQUIRE(str(store.record("shop", replace_all(v1, "shop:1.4", "shop:1.9")), "outcome") == "unchanged");
    REQUIRE(str(store.record("shop", data("shop_v1_untracked_changed.json")), "outcome") == "created");
}

// ---------------------------------------------------------------------------
TEST_CASE("plan and commit a rollback", "[capi][rollback]") {
    TempDir dir;
    Store store(dir.store("s"));
    store.record_created("shop", data("shop_v1.json"));
    // v2 also moves a setting (never versioned content): historyLimit 30.
    std::string v2 = with_history_limit(data("shop_v2.json"), 30);
    store.record_created("shop", v2);

    std::string raw = store.plan_raw("shop", 1);
    REQUIRE_FALSE(contains(raw, kSecretV1));
    REQUIRE_FALSE(contains(raw, kSecretV2));
    json::value plan = parse(raw);
    for (const char *k : {"planId", "spinner", "baseVersion", "targetVersion", "state", "diff", "summary",
                          "volumes", "steps", "warnings", "requiresConfirmation", "digest"}) {
        INFO(k);
        REQUIRE(obj(plan).contains(k));
    }
    REQUIRE_FALSE(str(plan, "planId").empty());
    REQUIRE(str(plan, "spinner") == "shop");
    REQUIRE(num(plan, "baseVersion") == 2);
    REQUIRE(num(plan, "targetVersion") == 1);
    REQUIRE_FALSE(boolean(plan, "requiresConfirmation"));
    REQUIRE_FALSE(str(plan, "digest").empty());
    REQUIRE_FALSE(str(plan, "summary").empty());
    REQUIRE(plan.at("steps").is_array());
    REQUIRE_FALSE(plan.at("steps").as_array().empty());
    REQUIRE(plan.at("warnings").is_array());
    REQUIRE_FALSE(plan.at("diff").at("changes").as_array().empty());

    // Resulting state: target's tracked content, current untracked fields and settings.
    const json::value &st = plan.at("state");
    REQUIRE(st.at("containers").at(0).at("image").at("reference").as_string() == "registry.example/shop:1.4");
    REQUIRE(st.at("containers").at(0).at("codeVersion").as_string() == "9f3c2e1");
    REQUIRE(st.at("instances").as_int64() == 2);
    REQUIRE(st.at("configMaps").at("shop-config").at("flags").as_string() == "a,b");
    REQUIRE(st.at("labels").at("team").as_string() == "shop-v2");
    REQUIRE(st.at("settings").at("rollback").at("historyLimit").as_int64() == 30);
    REQUIRE(st.at("settings").at("rollback").at("enabled").as_bool());

    // Volumes: default source is the volume in use now.
    const auto &vols = plan.at("volumes").as_array();
    REQUIRE(vols.size() == 1);
    REQUIRE(str(vols[0], "volume") == "data");
    REQUIRE(vols[0].at("mounts").as_array().size() == 1);
    REQUIRE(vols[0].at("mounts").at(0).as_string() == "/var/lib/shop");
    REQUIRE(str(vols[0], "source") == "current");
    REQUIRE(vols[0].at("snapshotId").is_null());
    REQUIRE(vols[0].at("newVolume").is_null());

    // Planning is read-only.
    REQUIRE(store.version_count("shop") == 2);
    REQUIRE(str(store.versions("shop")[0], "digest") == str(store.get("shop", 2, false), "digest"));

    json::value v = store.commit(raw, R"({"author":"oncall","message":"roll back"})");
    REQUIRE(num(v, "number") == 3);
    REQUIRE(str(v, "reason") == "rollback");
    REQUIRE(num(v, "rollbackOf") == 1);
    REQUIRE(str(v, "status") == "pending");
    REQUIRE(str(v, "author") == "oncall");
    REQUIRE(boolean(v, "current"));

    json::array vs = store.versions("shop");
    REQUIRE(check_history_shape(vs) == 3);
    REQUIRE(num(vs[0], "rollbackOf") == 1);
    REQUIRE(vs[1].at("rollbackOf").is_null());

    // The new version holds the target's values, secrets included.
    json::value got = store.get("shop", 3, true);
    const json::value &s3 = got.at("state");
    REQUIRE(s3.at("secrets").at("db").at("password").as_string() == kSecretV1);
    REQUIRE(s3.at("configMaps").at("shop-config").at("flags").as_string() == "a,b");
    REQUIRE(s3.at("containers").at(0).at("image").at("digest").as_string() ==
            "sha256:984224ad3f5a853c16bf61fcc4ae3f75d5a7bed68401dc78f85193ae196be8c6");
    REQUIRE(s3.at("labels").at("team").as_string() == "shop-v2");

    // History is not rewritten.
    REQUIRE(store.get("shop", 2, true).at("state").at("secrets").at("db").at("password").as_string() == kSecretV2);

    // Committing the same plan again: the current version moved.
    REQUIRE(store.try_commit(raw) == SPR_E_CONFLICT);
    REQUIRE(store.version_count("shop") == 3);
}

TEST_CASE("plan with scope all restores untracked fields too", "[capi][rollback]") {
    TempDir dir;
    Store store(dir.store("s"));
    store.record_created("shop", data("shop_v1.json"));
    store.record_created("shop", data("shop_v2.json"));
    json::value tracked = parse(store.plan_raw("shop", 1, R"({"scope":"tracked"})"));
    REQUIRE(tracked.at("state").at("labels").at("team").as_string() == "shop-v2");
    json::value all = parse(store.plan_raw("shop", 1, R"({"scope":"all"})"));
    REQUIRE(all.at("state").at("labels").at("team").as_string() == "shop");
    REQUIRE(store.try_plan("shop", 1, R"({"scope":"everything"})") == SPR_E_INVALID);
    REQUIRE(last_error().path == "request.scope");
    REQUIRE(store.try_plan("shop", 1, R"({"bogus":1})") == SPR_E_INVALID);
    REQUIRE(store.try_plan("shop", 1, "{") == SPR_E_INVALID);
}

TEST_CASE("rollback refusals: each its own code, nothing changed", "[capi][rollback]") {
    TempDir dir;
    Store store(dir.store("s"));

    SECTION("unknown spinner and unknown target: SPR_E_NOT_FOUND") {
        REQUIRE(store.try_plan("nope", 1) == SPR_E_NOT_FOUND);
        store.record_created("shop", data("shop_v1.json"));
        store.record_created("shop", data("shop_v2.json"));
        REQUIRE(store.try_plan("shop", 99) == SPR_E_NOT_FOUND);
        REQUIRE(last_error().name == "SPR_E_NOT_FOUND");
        REQUIRE(store.try_plan("shop", 0) == SPR_E_NOT_FOUND);
    }
    SECTION("target is the current version: SPR_E_CURRENT_VERSION") {
        store.record_created("shop", data("shop_v1.json"));
        store.record_created("shop", data("shop_v2.json"));
        REQUIRE(store.try_plan("shop", 2) == SPR_E_CURRENT_VERSION);
        REQUIRE(last_error().name == "SPR_E_CURRENT_VERSION");
        REQUIRE(store.version_count("shop") == 2);
    }
    SECTION("target's tracked content equals the current: SPR_E_IDENTICAL") {
        store.record_created("shop", data("shop_v1.json"));
        store.record_created("shop", data("shop_v2.json"));
        store.record_created("shop", data("shop_v1_untracked_changed.json")); // v1's tracked content
        REQUIRE(store.try_plan("shop", 1) == SPR_E_IDENTICAL);
        REQUIRE(last_error().name == "SPR_E_IDENTICAL");
        REQUIRE(store.version_count("shop") == 3);
        // Version 2 differs: fine.
        REQUIRE(store.try_plan("shop", 2) == SPR_OK);
    }
    SECTION("target removed by retention: SPR_E_PRUNED") {
        std::string base = data("shop_v1_history_limit_2.json");
        for (int i = 1; i <= 5; ++i)
            REQUIRE(store.record_created("shop", replace_all(base, "\"9f3c2e1\"", "\"build-" + std::to_string(i) + "\"")) == i);
        // historyLimit 2 versions besides the current one.
        REQUIRE(store.numbers("shop") == std::vector<std::int64_t>{5, 4, 3});
        REQUIRE(check_history_shape(store.versions("shop")) == 5);
        REQUIRE(store.try_plan("shop", 1) == SPR_E_PRUNED);
        REQUIRE(last_error().name == "SPR_E_PRUNED");
        REQUIRE(store.try_plan("shop", 2) == SPR_E_PRUNED);
        REQUIRE(store.try_get("shop", 1, false) == SPR_E_PRUNED);
        char *out = sentinel();
        REQUIRE(spr_diff(store, "shop", 1, 5, &out) == SPR_E_PRUNED);
        REQUIRE(out == nullptr);
        REQUIRE(spr_set_status(store, "shop", 2, "active") == SPR_E_PRUNED);
        REQUIRE(store.try_plan("shop", 6) == SPR_E_NOT_FOUND); // never existed
        REQUIRE(store.try_plan("shop", 3) == SPR_OK);
        json::value info = store.info("shop");
        REQUIRE(num(info, "versionsCreated") == 5);
        // Numbers are never reused after pruning.
        REQUIRE(store.record_created("shop", replace_all(base, "\"9f3c2e1\"", "\"build-6\"")) == 6);
        REQUIRE(store.numbers("shop") == std::vector<std::int64_t>{6, 5, 4});
    }
    SECTION("rollback disabled: SPR_E_ROLLBACK_DISABLED") {
        store.record_created("shop", data("shop_v1.json"));
        store.record_created("shop", data("shop_v2.json"));
        std::string plan = store.plan_raw("shop", 1);
        REQUIRE(str(store.record("shop", data("shop_v1_rollback_disabled.json")), "outcome") == "disabled");
        REQUIRE(store.try_plan("shop", 1) == SPR_E_ROLLBACK_DISABLED);
        REQUIRE(last_error().name == "SPR_E_ROLLBACK_DISABLED");
        // A plan made before rollback was switched off cannot be committed either.
        int rc = store.try_commit(plan);
        REQUIRE(rc != SPR_OK);
        REQUIRE(store.version_count("shop") == 2);
        // History is kept and readable.
        REQUIRE(store.get("shop", 1, true).at("state").at("secrets").at("db").at("password").as_string() == kSecretV1);
    }
    SECTION("current version moved since the plan: SPR_E_CONFLICT") {
        store.record_created("shop", data("shop_v1.json"));
        store.record_created("shop", data("shop_v2.json"));
        std::string plan = store.plan_raw("shop", 1);
        store.record_created("shop", data("shop_v1_config_changed.json"));
        REQUIRE(store.try_commit(plan) == SPR_E_CONFLICT);
        LastError e = last_error();
        REQUIRE(e.name == "SPR_E_CONFLICT");
        REQUIRE(store.version_count("shop") == 3);
        // Planning again works.
        store.commit(store.plan_raw("shop", 1));
        REQUIRE(store.version_count("shop") == 4);
    }
}

TEST_CASE("an altered plan is refused", "[capi][rollback]") {
    TempDir dir;
    Store store(dir.store("s"));
    store.record_created("shop", data("shop_v1.json"));
    store.record_created("shop", data("shop_v2.json"));
    store.record_created("shop", data("shop_v1_config_changed.json"));
    const std::string plan = store.plan_raw("shop", 1);
    json::value pv = parse(plan);

    SECTION("a character of the state changed") {
        std::string altered = alter_in_state(plan, "registry.example/shop:1.4", "registry.example/shop:1.9");
        REQUIRE(altered != plan);
        REQUIRE(store.try_commit(altered) == SPR_E_INVALID);
        LastError e = last_error();
        INFO(e.raw);
        REQUIRE(contains(e.path, "plan"));
    }
    SECTION("the state's instances changed") {
        std::string altered = alter_in_state(plan, "\"instances\":2", "\"instances\":9");
        REQUIRE(store.try_commit(altered) == SPR_E_INVALID);
        REQUIRE(contains(last_error().path, "plan"));
    }
    SECTION("targetVersion changed") {
        std::string altered = set_member(plan, "targetVersion", json::value(2));
        REQUIRE(store.try_commit(altered) == SPR_E_INVALID);
        LastError e = last_error();
        INFO(e.raw);
        REQUIRE(contains(e.path, "plan"));
    }
    SECTION("digest changed") {
        std::string d = str(pv, "digest");
        d[d.size() - 1] = d[d.size() - 1] == '0' ? '1' : '0';
        REQUIRE(store.try_commit(set_member(plan, "digest", json::value(d))) == SPR_E_INVALID);
        REQUIRE(contains(last_error().path, "plan"));
    }
    SECTION("summary changed") {
        REQUIRE(store.try_commit(set_member(plan, "summary", json::value("nothing to see"))) == SPR_E_INVALID);
    }
    SECTION("not a plan") {
        REQUIRE(store.try_commit("{}") == SPR_E_INVALID);
        REQUIRE(store.try_commit("[") == SPR_E_INVALID);
        REQUIRE(store.try_commit("{\"planId\": 1}") == SPR_E_INVALID);
    }
    REQUIRE(store.version_count("shop") == 3);
    // The untouched plan still commits.
    REQUIRE(num(store.commit(plan), "number") == 4);
}

TEST_CASE("rollback with data from a volume snapshot", "[capi][rollback][snapshots]") {
    TempDir dir;
    Store store(dir.store("s"),
                key_options(R"("pricing": {"currency": "EUR", "perGiBMonth": {"standard": 0.5, "*": 0.1}})"));
    store.record_created("shop", data("shop_v1.json"));
    store.record_created("shop", data("shop_v2.json"));
    const std::int64_t two_gib = std::int64_t(2) << 30;
    SPR_REQUIRE_OK(spr_snapshot_register(store, (R"({"id":"snap-1","volume":"vol-data-1","sizeBytes":)" +
                                                 std::to_string(two_gib) +
                                                 R"(,"createdAt":"2024-05-01T10:00:00Z","ready":true,"storageClass":"standard","metadata":{"tool":"restic"}})")
                                                    .c_str()));
    SPR_REQUIRE_OK(spr_snapshot_register(store, R"({"id":"snap-pending","volume":"vol-data-1","sizeBytes":1024,"createdAt":"2024-05-02T10:00:00Z","ready":false,"storageClass":"standard"})"));
    SPR_REQUIRE_OK(spr_snapshot_register(store, R"({"id":"snap-other","volume":"vol-other-9","sizeBytes":1024,"createdAt":"2024-05-02T10:00:00Z","ready":true,"storageClass":"standard"})"));

    const char *req = R"({"data": {"data": {"snapshot": "snap-1"}}})";
    std::string raw = store.plan_raw("shop", 1, req);
    json::value plan = parse(raw);
    REQUIRE(boolean(plan, "requiresConfirmation"));
    REQUIRE_FALSE(plan.at("warnings").as_array().empty());
    const auto &vols = plan.at("volumes").as_array();
    REQUIRE(vols.size() == 1);
    REQUIRE(str(vols[0], "volume") == "data");
    REQUIRE(str(vols[0], "source") == "snapshot");
    REQUIRE(str(vols[0], "snapshotId") == "snap-1");
    REQUIRE(vols[0].at("mounts").at(0).as_string() == "/var/lib/shop");
    const json::value &nv = vols[0].at("newVolume");
    REQUIRE(nv.is_object());
    std::string new_name = str(nv, "name");
    REQUIRE_FALSE(new_name.empty());
    REQUIRE(new_name != "vol-data-1");
    REQUIRE(num(nv, "sizeBytes") >= two_gib);
    REQUIRE(str(nv, "currency") == "EUR");
    REQUIRE(nv.at("estimatedMonthlyCost").is_number());
    REQUIRE(std::fabs(nv.at("estimatedMonthlyCost").to_number<double>() - 1.0) < 0.011); // 2 GiB x 0.5
    // The resulting state binds the new volume; the old one is kept, not deleted.
    REQUIRE(plan.at("state").at("volumes").at(0).at("volumeId").as_string() == new_name);
    bool mentions_cost = false;
    for (const auto &w : plan.at("warnings").as_array())
        if (contains(std::string(w.as_string()), new_name) || contains(std::string(w.as_string()), "cost"))
            mentions_cost = true;
    REQUIRE(mentions_cost);

    // Needs confirmation.
    REQUIRE(store.try_commit(raw) == SPR_E_NEEDS_CONFIRMATION);
    REQUIRE(last_error().name == "SPR_E_NEEDS_CONFIRMATION");
    REQUIRE(store.try_commit(raw, R"({"confirmed": false})") == SPR_E_NEEDS_CONFIRMATION);
    // Flipping requiresConfirmation in the JSON does not bypass it.
    std::string flipped = set_member(raw, "requiresConfirmation", json::value(false));
    REQUIRE(store.try_commit(flipped) != SPR_OK);
    REQUIRE(store.version_count("shop") == 2);

    json::value v = store.commit(raw, R"({"confirmed": true, "author": "oncall"})");
    REQUIRE(num(v, "number") == 3);
    REQUIRE(num(v, "rollbackOf") == 1);
    json::value got = store.get("shop", 3, false);
    REQUIRE(got.at("state").at("volumes").at(0).at("volumeId").as_string() == new_name);

    // Refusals on the data request.
    REQUIRE(store.try_plan("shop", 1, R"({"data": {"data": {"snapshot": "snap-pending"}}})") == SPR_E_SNAPSHOT_NOT_READY);
    REQUIRE(last_error().name == "SPR_E_SNAPSHOT_NOT_READY");
    REQUIRE(store.try_plan("shop", 1, R"({"data": {"data": {"snapshot": "snap-other"}}})") == SPR_E_SNAPSHOT_MISMATCH);
    REQUIRE(last_error().name == "SPR_E_SNAPSHOT_MISMATCH");
    REQUIRE(store.try_plan("shop", 1, R"({"data": {"nope": {"snapshot": "snap-1"}}})") == SPR_E_UNKNOWN_VOLUME);
    REQUIRE(last_error().name == "SPR_E_UNKNOWN_VOLUME");
    REQUIRE(contains(last_error().path, "nope"));
    REQUIRE(store.try_plan("shop", 1, R"({"data": {"data": {"snapshot": "snap-missing"}}})") == SPR_E_NOT_FOUND);
    REQUIRE(store.try_plan("shop", 1, R"({"data": {"data": "yesterday"}})") == SPR_E_INVALID);
    // "current" explicitly is the default.
    json::value cur = parse(store.plan_raw("shop", 2, R"({"data": {"data": "current"}})"));
    REQUIRE(str(cur.at("volumes").at(0), "source") == "current");
    REQUIRE_FALSE(boolean(cur, "requiresConfirmation"));

    // A snapshot deleted after planning: the commit is refused.
    std::string plan2 = store.plan_raw("shop", 2, req);
    SPR_REQUIRE_OK(spr_snapshot_delete(store, "snap-1"));
    REQUIRE(store.try_commit(plan2, R"({"confirmed": true})") != SPR_OK);
    REQUIRE(store.version_count("shop") == 3);
}

TEST_CASE("snapshots: register, replace, list, delete", "[capi][snapshots]") {
    TempDir dir;
    Store store(dir.store("s"));
    SPR_REQUIRE_OK(spr_snapshot_register(store, R"({"id":"s-old","volume":"vol-a","sizeBytes":100,"createdAt":"2024-01-01T00:00:00Z","ready":false,"storageClass":"standard","metadata":{"k":"v"}})"));
    SPR_REQUIRE_OK(spr_snapshot_register(store, R"({"id":"s-new","volume":"vol-a","sizeBytes":200,"createdAt":"2024-02-01T00:00:00Z","ready":true,"storageClass":"standard"})"));
    SPR_REQUIRE_OK(spr_snapshot_register(store, R"({"id":"s-b","volume":"vol-b","sizeBytes":300,"createdAt":"2024-03-01T00:00:00Z","ready":true})"));

    char *out = nullptr;
    SPR_REQUIRE_OK(spr_snapshots(store, "vol-a", &out));
    json::value a = parse(take(out));
    REQUIRE(a.as_array().size() == 2);
    REQUIRE(str(a.at(0), "id") == "s-new"); // newest first
    REQUIRE(str(a.at(1), "id") == "s-old");
    REQUIRE(num(a.at(1), "sizeBytes") == 100);
    REQUIRE_FALSE(boolean(a.at(1), "ready"));
    REQUIRE(str(a.at(1), "volume") == "vol-a");
    REQUIRE(str(a.at(1), "storageClass") == "standard");
    REQUIRE(a.at(1).at("metadata").at("k").as_string() == "v");
    REQUIRE(std::regex_match(str(a.at(1), "createdAt"), kRfc3339));

    SPR_REQUIRE_OK(spr_snapshots(store, nullptr, &out));
    REQUIRE(parse(take(out)).as_array().size() == 3);
    SPR_REQUIRE_OK(spr_snapshots(store, "vol-none", &out));
    REQUIRE(parse(take(out)).as_array().empty());

    // Replace (same id): now ready.
    SPR_REQUIRE_OK(spr_snapshot_register(store, R"({"id":"s-old","volume":"vol-a","sizeBytes":100,"createdAt":"2024-01-01T00:00:00Z","ready":true})"));
    SPR_REQUIRE_OK(spr_snapshots(store, "vol-a", &out));
    a = parse(take(out));
    REQUIRE(a.as_array().size() == 2);
    REQUIRE(boolean(a.at(1), "ready"));

    SPR_REQUIRE_OK(spr_snapshot_delete(store, "s-old"));
    REQUIRE(spr_snapshot_delete(store, "s-old") == SPR_E_NOT_FOUND);
    REQUIRE(last_error().name == "SPR_E_NOT_FOUND");
    SPR_REQUIRE_OK(spr_snapshots(store, "vol-a", &out));
    REQUIRE(parse(take(out)).as_array().size() == 1);

    // Invalid snapshots, each naming the field.
    struct Bad {
        const char *json;
        const char *path;
    } bad[] = {
        {R"({"id":"x","volume":"vol-a","ready":true})", "snapshot.sizeBytes"},
        {R"({"id":"x","volume":"vol-a","sizeBytes":-5,"ready":true})", "snapshot.sizeBytes"},
        {R"({"volume":"vol-a","sizeBytes":1,"ready":true})", "snapshot.id"},
        {R"({"id":"x","volume":"vol-a","sizeBytes":1,"ready":true,"createdAt":"yesterday"})", "snapshot.createdAt"},
        {R"({"id":"x","volume":"vol-a","sizeBytes":1,"ready":true,"bogus":1})", "snapshot.bogus"},
        {R"({"id":"x","volume":"vol-a","sizeBytes":1,"ready":"yes"})", "snapshot.ready"},
    };
    for (const auto &b : bad) {
        INFO(b.json);
        REQUIRE(spr_snapshot_register(store, b.json) == SPR_E_INVALID);
        REQUIRE(last_error().path == b.path);
    }
    REQUIRE(spr_snapshot_register(store, "not json") == SPR_E_INVALID);
    SPR_REQUIRE_OK(spr_snapshots(store, nullptr, &out));
    REQUIRE(parse(take(out)).as_array().size() == 2);
}

TEST_CASE("rollout status and automatic rollback plans", "[capi][rollback]") {
    TempDir dir;
    Store store(dir.store("s"));
    store.record_created("shop", data("shop_v1.json"));
    store.record_created("shop", data("shop_v2.json"));

    char *out = sentinel();
    REQUIRE(spr_plan_auto_rollback(store, "shop", &out) == SPR_E_NOT_FOUND); // nothing ever active
    REQUIRE(out == nullptr);

    SPR_REQUIRE_OK(spr_set_status(store, "shop", 1, "active"));
    SPR_REQUIRE_OK(spr_set_status(store, "shop", 2, "active"));
    json::array vs = store.versions("shop");
    REQUIRE(str(vs[0], "status") == "active");
    REQUIRE(str(vs[1], "status") == "superseded"); // older active is superseded

    store.record_created("shop", data("shop_v1_config_changed.json"));
    SPR_REQUIRE_OK(spr_set_status(store, "shop", 3, "failed"));
    REQUIRE(str(store.versions("shop")[0], "status") == "failed");

    out = nullptr;
    SPR_REQUIRE_OK(spr_plan_auto_rollback(store, "shop", &out));
    json::value plan = parse(take(out));
    REQUIRE(num(plan, "targetVersion") == 2);
    REQUIRE(num(plan, "baseVersion") == 3);
    json::value v = store.commit(json::serialize(plan));
    REQUIRE(num(v, "rollbackOf") == 2);
    REQUIRE(str(v, "status") == "pending");

    REQUIRE(spr_set_status(store, "shop", 1, "bogus") == SPR_E_INVALID);
    REQUIRE(last_error().path == "status");
    REQUIRE(spr_set_status(store, "shop", 99, "active") == SPR_E_NOT_FOUND);
    REQUIRE(spr_set_status(store, "nope", 1, "active") == SPR_E_NOT_FOUND);
    SPR_REQUIRE_OK(spr_set_status(store, "shop", 4, "pending"));
    SPR_REQUIRE_OK(spr_set_status(store, "shop", 4, "superseded"));
    REQUIRE(spr_plan_auto_rollback(store, "nope", &out) == SPR_E_NOT_FOUND);
}

// ---------------------------------------------------------------------------
TEST_CASE("requestId makes record and commit idempotent", "[capi][idempotency]") {
    TempDir dir;
    Store store(dir.store("s"));
    json::value a = store.record("shop", data("shop_v1.json"), R"({"requestId":"req-1"})");
    json::value b = store.record("shop", data("shop_v1.json"), R"({"requestId":"req-1"})");
    REQUIRE(str(a, "outcome") == "created");
    REQUIRE(str(b, "outcome") == "created"); // the first result, again
    REQUIRE(num(a.at("version"), "number") == 1);
    REQUIRE(num(b.at("version"), "number") == 1);
    REQUIRE(store.version_count("shop") == 1);

    REQUIRE(store.record_created("shop", data("shop_v2.json"), R"({"requestId":"req-2"})") == 2);
    // A late retry of req-1 after v2: still the first result, no new version.
    json::value late = store.record("shop", data("shop_v1.json"), R"({"requestId":"req-1"})");
    REQUIRE(num(late.at("version"), "number") == 1);
    REQUIRE(store.version_count("shop") == 2);
    REQUIRE(store.numbers("shop") == std::vector<std::int64_t>{2, 1});

    // The same requestId for a different state never creates a duplicate.
    std::string res;
    int rc = store.try_record("shop", data("shop_v1_config_changed.json"), R"({"requestId":"req-2"})", &res);
    if (rc == SPR_OK) REQUIRE(num(parse(res).at("version"), "number") == 2);
    else REQUIRE(rc == SPR_E_CONFLICT);
    REQUIRE(store.version_count("shop") == 2);

    // requestIds are per spinner.
    REQUIRE(store.record_created("other", data("plain_v1.json"), R"({"requestId":"req-1"})") == 1);

    // Commit.
    std::string plan = store.plan_raw("shop", 1);
    json::value c1 = store.commit(plan, R"({"requestId":"rb-1"})");
    json::value c2 = store.commit(plan, R"({"requestId":"rb-1"})");
    REQUIRE(num(c1, "number") == 3);
    REQUIRE(num(c2, "number") == 3);
    REQUIRE(store.version_count("shop") == 3);
    // Without the requestId the second commit is a conflict.
    REQUIRE(store.try_commit(plan) == SPR_E_CONFLICT);

    // Bad meta.
    REQUIRE(store.try_record("shop", data("shop_v2.json"), R"({"requestId":""})") == SPR_E_INVALID);
    REQUIRE(store.try_record("shop", data("shop_v2.json"), R"({"requestId":5})") == SPR_E_INVALID);
    REQUIRE(last_error().path == "meta.requestId");
    REQUIRE(store.try_record("shop", data("shop_v2.json"), R"({"bogus":1})") == SPR_E_INVALID);
    REQUIRE(last_error().path == "meta.bogus");
    REQUIRE(store.try_record("shop", data("shop_v2.json"), "{") == SPR_E_INVALID);
    REQUIRE(store.version_count("shop") == 3);
}

// ---------------------------------------------------------------------------
TEST_CASE("secret values need a key", "[capi][secrets]") {
    TempDir dir;
    std::string path = dir.store("s");
    {
        Store nokey(path, "");
        std::string res;
        REQUIRE(nokey.try_record("shop", data("shop_v1.json"), nullptr, &res) == SPR_E_NO_KEY);
        LastError e = last_error();
        REQUIRE(e.name == "SPR_E_NO_KEY");
        REQUIRE_FALSE(contains(e.raw, kSecretV1));
        REQUIRE(nokey.version_count("shop") == 0);
        // Documents without secret values need no key.
        REQUIRE(nokey.record_created("plain", data("plain_v1.json")) == 1);
    }
    {
        Store keyed(path);
        REQUIRE(keyed.record_created("shop", data("shop_v1.json")) == 1);
    }
    spr_store *h = reinterpret_cast<spr_store *>(sentinel());
    REQUIRE(spr_open(path.c_str(), ("{\"key\":\"" + kOtherKeyHex + "\"}").c_str(), &h) == SPR_E_NO_KEY);
    REQUIRE(h == nullptr);
    LastError e = last_error();
    REQUIRE(e.name == "SPR_E_NO_KEY");
    REQUIRE_FALSE(contains(e.raw, kOtherKeyHex));
    REQUIRE_FALSE(contains(e.raw, kKeyHex));
    {
        Store nokey(path, "");
        REQUIRE(nokey.version_count("shop") == 1);
        std::string masked = nokey.get_raw("shop", 1, false);
        REQUIRE_FALSE(contains(masked, kSecretV1));
        REQUIRE(nokey.try_get("shop", 1, true) == SPR_E_NO_KEY);
        REQUIRE(nokey.try_record("shop", data("shop_v2.json")) == SPR_E_NO_KEY);
        REQUIRE(nokey.version_count("shop") == 1);
    }
    {
        // The same 32 bytes in base64, and through a key file.
        Store b64(path, "{\"key\":\"" + kKeyB64 + "\"}");
        REQUIRE(b64.get("shop", 1, true).at("state").at("secrets").at("db").at("password").as_string() == kSecretV1);
    }
    {
        std::string key_file = dir.file("key.txt");
        std::ofstream(key_file) << kKeyHex << "\n";
        Store kf(path, "{\"keyFile\":\"" + key_file + "\"}");
        REQUIRE(kf.get("shop", 1, true).at("state").at("secrets").at("db").at("password").as_string() == kSecretV1);
    }
    // Malformed keys are refused without echoing them.
    for (const std::string bad : {kKeyHex.substr(1), std::string("zz") + kKeyHex.substr(2), std::string("short")}) {
        h = reinterpret_cast<spr_store *>(sentinel());
        REQUIRE(spr_open(path.c_str(), ("{\"key\":\"" + bad + "\"}").c_str(), &h) == SPR_E_INVALID);
        REQUIRE(h == nullptr);
        LastError le = last_error();
        REQUIRE(le.path == "options.key");
        REQUIRE_FALSE(contains(le.raw, bad));
    }
    h = reinterpret_cast<spr_store *>(sentinel());
    REQUIRE(spr_open(path.c_str(), ("{\"keyFile\":\"" + dir.file("missing-key") + "\"}").c_str(), &h) == SPR_E_NO_KEY);
    REQUIRE(h == nullptr);
}

TEST_CASE("secret values never appear in listings, diffs, plans, errors or the store files", "[capi][secrets]") {
    TempDir dir;
    std::string path = dir.store("s");
    std::vector<std::string> outputs;
    {
        Store store(path);
        store.record_created("shop", data("shop_v1.json"), R"({"message":"deploy"})");
        store.record_created("shop", data("shop_v2.json"));
        outputs.push_back(store.versions_raw("shop"));
        outputs.push_back(store.get_raw("shop", 1, false));
        outputs.push_back(store.get_raw("shop", 2, false));
        outputs.push_back(store.diff_raw("shop", 1, 2));
        outputs.push_back(store.diff_raw("shop", 2, 1));
        std::string plan = store.plan_raw("shop", 1);
        outputs.push_back(plan);
        outputs.push_back(json::serialize(store.commit(plan)));
        outputs.push_back(store.versions_raw("shop"));
        outputs.push_back(json::serialize(store.info("shop")));
        char *out = nullptr;
        SPR_REQUIRE_OK(spr_diff_states(data("shop_v1.json").c_str(), data("shop_v2.json").c_str(), &out));
        outputs.push_back(take(out));
        SPR_REQUIRE_OK(spr_policy_evaluate(nullptr, data("shop_v1.json").c_str(), data("shop_v2.json").c_str(), &out));
        outputs.push_back(take(out));
        // Errors about documents holding secrets.
        store.try_record("shop", data("invalid/unreferenced_secret.json"));
        outputs.push_back(spr_last_error());
        std::string bad_key = replace_all(data("shop_v1.json"), "\"password\": \"S3cr3t-Valu3-7f1e\"",
                                          "\"bad key!\": \"S3cr3t-Valu3-7f1e\"");
        store.try_record("shop", bad_key);
        outputs.push_back(spr_last_error());
        std::string secret_as_masked = replace_all(data("shop_v1.json"), "S3cr3t-Valu3-7f1e", "<redacted>");
        store.try_record("shop", secret_as_masked);
        outputs.push_back(spr_last_error());
        REQUIRE(store.try_plan("shop", 3) == SPR_E_CURRENT_VERSION);
        outputs.push_back(spr_last_error());

        // Revealed on request only.
        REQUIRE(contains(store.get_raw("shop", 1, true), kSecretV1));
        REQUIRE(contains(store.get_raw("shop", 2, true), kSecretV2));
        REQUIRE(contains(store.get_raw("shop", 3, true), kSecretV1));

        // What rests on disk while the store is open (SQLite: the WAL not yet
        // checkpointed; PostgreSQL: the data directory with its WAL).
        {
            std::string bytes = spr_backend::at_rest_bytes(path);
            INFO("bytes at rest: " << bytes.size());
            REQUIRE(bytes.size() > 0);
            REQUIRE_FALSE(contains(bytes, kSecretV1));
            REQUIRE_FALSE(contains(bytes, kSecretV2));
        }
    }
    for (const auto &o : outputs) {
        INFO(o);
        REQUIRE_FALSE(contains(o, kSecretV1));
        REQUIRE_FALSE(contains(o, kSecretV2));
    }
    // And after close.
    std::string bytes = spr_backend::at_rest_bytes(path);
    REQUIRE(bytes.size() > 0);
    REQUIRE_FALSE(contains(bytes, kSecretV1));
    REQUIRE_FALSE(contains(bytes, kSecretV2));
}

namespace {

// A toy KMS: XOR with a pad, framed with a magic header. Counts calls.
struct ToyKms {
    std::atomic<int> encrypts{0}, decrypts{0};
    bool fail = false;
    static int enc(void *ud, const unsigned char *in, size_t n, unsigned char **out, size_t *out_len) {
        auto *k = static_cast<ToyKms *>(ud);
        ++k->encrypts;
        if (k->fail) return -1;
        auto *buf = static_cast<unsigned char *>(std::malloc(n + 4));
        if (!buf) return -1;
        std::memcpy(buf, "TOY1", 4);
        for (size_t i = 0; i < n; ++i) buf[4 + i] = in[i] ^ static_cast<unsigned char>(0x5a + i * 7);
        *out = buf;
        *out_len = n + 4;
        return 0;
    }
    static int dec(void *ud, const unsigned char *in, size_t n, unsigned char **out, size_t *out_len) {
        auto *k = static_cast<ToyKms *>(ud);
        ++k->decrypts;
        if (k->fail || n < 4 || std::memcmp(in, "TOY1", 4) != 0) return -1;
        auto *buf = static_cast<unsigned char *>(std::malloc(n - 4 + 1));
        if (!buf) return -1;
        for (size_t i = 0; i < n - 4; ++i) buf[i] = in[4 + i] ^ static_cast<unsigned char>(0x5a + i * 7);
        *out = buf;
        *out_len = n - 4;
        return 0;
    }
    spr_cipher cipher() { return spr_cipher{this, &ToyKms::enc, &ToyKms::dec}; }
};

} // namespace

TEST_CASE("a host cipher (KMS) protects secret values", "[capi][secrets][cipher]") {
    TempDir dir;
    std::string path = dir.store("s");
    ToyKms kms;
    spr_cipher c = kms.cipher();
    {
        spr_store *h = nullptr;
        SPR_REQUIRE_OK(spr_open_with_cipher(path.c_str(), nullptr, &c, &h));
        Store store(h);
        REQUIRE(store.record_created("shop", data("shop_v1.json")) == 1);
        REQUIRE(kms.encrypts.load() >= 1);
        REQUIRE(store.get("shop", 1, true).at("state").at("secrets").at("db").at("password").as_string() == kSecretV1);
    }
    REQUIRE_FALSE(contains(spr_backend::at_rest_bytes(path), kSecretV1));
    {
        ToyKms kms2;
        spr_cipher c2 = kms2.cipher();
        spr_store *h = nullptr;
        SPR_REQUIRE_OK(spr_open_with_cipher(path.c_str(), "{\"busyTimeoutMs\": 1000}", &c2, &h));
        Store store(h);
        REQUIRE(store.get("shop", 1, true).at("state").at("secrets").at("db").at("password").as_string() == kSecretV1);
        REQUIRE(kms2.decrypts.load() >= 1);
        REQUIRE(store.record_created("shop", data("shop_v2.json")) == 2);
        REQUIRE(store.get("shop", 2, true).at("state").at("secrets").at("db").at("password").as_string() == kSecretV2);
    }
    {
        // Without the cipher: listing works, revealing does not.
        Store store(path, "");
        REQUIRE(store.version_count("shop") == 2);
        REQUIRE(store.try_get("shop", 1, true) == SPR_E_NO_KEY);
        REQUIRE(last_error().name == "SPR_E_NO_KEY");
    }
    {
        // A key is not the cipher.
        spr_store *h = nullptr;
        int rc = spr_open(path.c_str(), key_options().c_str(), &h);
        if (rc == SPR_OK) {
            Store store(h);
            REQUIRE(store.try_get("shop", 1, true) == SPR_E_NO_KEY);
        } else {
            REQUIRE(rc == SPR_E_NO_KEY);
            REQUIRE(h == nullptr);
        }
    }
    {
        // A cipher that fails.
        ToyKms broken;
        broken.fail = true;
        spr_cipher cb = broken.cipher();
        spr_store *h = nullptr;
        int rc = spr_open_with_cipher(path.c_str(), nullptr, &cb, &h);
        if (rc == SPR_OK) {
            Store store(h);
            REQUIRE(store.try_get("shop", 1, true) == SPR_E_NO_KEY);
        } else {
            REQUIRE(rc == SPR_E_NO_KEY);
            REQUIRE(h == nullptr);
        }
    }
    {
        // A fresh store with a failing cipher refuses secret values.
        ToyKms broken;
        broken.fail = true;
        spr_cipher cb = broken.cipher();
        spr_store *h = nullptr;
        SPR_REQUIRE_OK(spr_open_with_cipher(dir.file("fresh.db").c_str(), nullptr, &cb, &h));
        Store store(h);
        REQUIRE(store.try_record("shop", data("shop_v1.json")) == SPR_E_NO_KEY);
        REQUIRE(store.version_count("shop") == 0);
    }
    // Bad cipher arguments.
    spr_store *h = reinterpret_cast<spr_store *>(sentinel());
    REQUIRE(spr_open_with_cipher(path.c_str(), nullptr, nullptr, &h) == SPR_E_INVALID);
    REQUIRE(h == nullptr);
    REQUIRE(last_error().path == "cipher");
    spr_cipher half{&kms, &ToyKms::enc, nullptr};
    h = reinterpret_cast<spr_store *>(sentinel());
    REQUIRE(spr_open_with_cipher(path.c_str(), nullptr, &half, &h) == SPR_E_INVALID);
    REQUIRE(h == nullptr);
    h = reinterpret_cast<spr_store *>(sentinel());
    REQUIRE(spr_open_with_cipher(path.c_str(), key_options().c_str(), &c, &h) == SPR_E_INVALID);
    REQUIRE(h == nullptr);
}

// ---------------------------------------------------------------------------
TEST_CASE("NULL handles and arguments return SPR_E_INVALID naming the argument", "[capi][null]") {
    TempDir dir;
    Store store(dir.store("s"));
    store.record_created("shop", data("shop_v1.json"));
    store.record_created("shop", data("shop_v2.json"));
    const std::string plan = store.plan_raw("shop", 1);
    const std::string v1 = data("shop_v1.json");
    spr_store *s = store.get();

    auto expect_null_arg = [](int rc, const char *arg, char *const *out) {
        INFO("argument " << arg << ", last error " << spr_last_error());
        REQUIRE(rc == SPR_E_INVALID);
        if (out) REQUIRE(*out == nullptr);
        LastError e = last_error();
        REQUIRE(e.code == SPR_E_INVALID);
        REQUIRE(e.name == "SPR_E_INVALID");
        REQUIRE((e.path == arg || contains(e.message, arg)));
    };
    char *out;
#define OUT (out = sentinel(), &out)
    expect_null_arg(spr_record(nullptr, "shop", v1.c_str(), nullptr, OUT), "store", &out);
    expect_null_arg(spr_record(s, nullptr, v1.c_str(), nullptr, OUT), "spinner", &out);
    expect_null_arg(spr_record(s, "shop", nullptr, nullptr, OUT), "state_json", &out);
    expect_null_arg(spr_record(s, "fresh", v1.c_str(), nullptr, nullptr), "out_json", nullptr);
    REQUIRE(store.version_count("fresh") == 0); // nothing recorded without an out-pointer
    expect_null_arg(spr_versions(nullptr, "shop", OUT), "store", &out);
    expect_null_arg(spr_versions(s, nullptr, OUT), "spinner", &out);
    expect_null_arg(spr_versions(s, "shop", nullptr), "out_json", nullptr);
    expect_null_arg(spr_version_get(nullptr, "shop", 1, 0, OUT), "store", &out);
    expect_null_arg(spr_version_get(s, nullptr, 1, 0, OUT), "spinner", &out);
    expect_null_arg(spr_version_get(s, "shop", 1, 1, nullptr), "out_json", nullptr);
    expect_null_arg(spr_diff(nullptr, "shop", 1, 2, OUT), "store", &out);
    expect_null_arg(spr_diff(s, nullptr, 1, 2, OUT), "spinner", &out);
    expect_null_arg(spr_diff(s, "shop", 1, 2, nullptr), "out_json", nullptr);
    expect_null_arg(spr_diff_states(nullptr, v1.c_str(), OUT), "a_json", &out);
    expect_null_arg(spr_diff_states(v1.c_str(), nullptr, OUT), "b_json", &out);
    expect_null_arg(spr_diff_states(v1.c_str(), v1.c_str(), nullptr), "out_json", nullptr);
    expect_null_arg(spr_plan_rollback(nullptr, "shop", 1, nullptr, OUT), "store", &out);
    expect_null_arg(spr_plan_rollback(s, nullptr, 1, nullptr, OUT), "spinner", &out);
    expect_null_arg(spr_plan_rollback(s, "shop", 1, nullptr, nullptr), "out_json", nullptr);
    expect_null_arg(spr_plan_auto_rollback(nullptr, "shop", OUT), "store", &out);
    expect_null_arg(spr_plan_auto_rollback(s, nullptr, OUT), "spinner", &out);
    expect_null_arg(spr_plan_auto_rollback(s, "shop", nullptr), "out_json", nullptr);
    expect_null_arg(spr_commit_rollback(nullptr, plan.c_str(), nullptr, OUT), "store", &out);
    expect_null_arg(spr_commit_rollback(s, nullptr, nullptr, OUT), "plan_json", &out);
    expect_null_arg(spr_commit_rollback(s, plan.c_str(), nullptr, nullptr), "out_json", nullptr);
    REQUIRE(store.version_count("shop") == 2); // the plan was not committed
    expect_null_arg(spr_set_status(nullptr, "shop", 1, "active"), "store", nullptr);
    expect_null_arg(spr_set_status(s, nullptr, 1, "active"), "spinner", nullptr);
    expect_null_arg(spr_set_status(s, "shop", 1, nullptr), "status", nullptr);
    expect_null_arg(spr_spinner_info(nullptr, "shop", OUT), "store", &out);
    expect_null_arg(spr_spinner_info(s, nullptr, OUT), "spinner", &out);
    expect_null_arg(spr_spinner_info(s, "shop", nullptr), "out_json", nullptr);
    expect_null_arg(spr_spinners(nullptr, OUT), "store", &out);
    expect_null_arg(spr_spinners(s, nullptr), "out_json", nullptr);
    expect_null_arg(spr_store_info(nullptr, OUT), "store", &out);
    expect_null_arg(spr_store_info(s, nullptr), "out_json", nullptr);
    expect_null_arg(spr_snapshot_register(nullptr, "{}"), "store", nullptr);
    expect_null_arg(spr_snapshot_register(s, nullptr), "snapshot_json", nullptr);
    expect_null_arg(spr_snapshots(nullptr, nullptr, OUT), "store", &out);
    expect_null_arg(spr_snapshots(s, nullptr, nullptr), "out_json", nullptr);
    expect_null_arg(spr_snapshot_delete(nullptr, "x"), "store", nullptr);
    expect_null_arg(spr_snapshot_delete(s, nullptr), "snapshot_id", nullptr);
    expect_null_arg(spr_policy_evaluate(nullptr, nullptr, nullptr, OUT), "next_state_json", &out);
    expect_null_arg(spr_policy_evaluate(nullptr, nullptr, v1.c_str(), nullptr), "out_json", nullptr);

    spr_store *h = reinterpret_cast<spr_store *>(sentinel());
    expect_null_arg(spr_open(nullptr, nullptr, &h), "path", nullptr);
    REQUIRE(h == nullptr);
    expect_null_arg(spr_open(dir.file("x.db").c_str(), nullptr, nullptr), "out", nullptr);
    ToyKms kms;
    spr_cipher c = kms.cipher();
    h = reinterpret_cast<spr_store *>(sentinel());
    expect_null_arg(spr_open_with_cipher(nullptr, nullptr, &c, &h), "path", nullptr);
    REQUIRE(h == nullptr);
    expect_null_arg(spr_open_with_cipher(dir.file("y.db").c_str(), nullptr, &c, nullptr), "out", nullptr);
#undef OUT

    // No-ops.
    spr_free(nullptr);
    spr_close(nullptr);

    // The last error is cleared by the next successful call.
    REQUIRE(spr_versions(s, "nope", &out) == SPR_E_NOT_FOUND);
    REQUIRE(last_error().code == SPR_E_NOT_FOUND);
    SPR_REQUIRE_OK(spr_versions(s, "shop", &out));
    spr_free(out);
    LastError ok = last_error();
    REQUIRE(ok.code == 0);
    REQUIRE(ok.name == "SPR_OK");
    // ... also by a successful call without a store.
    REQUIRE(spr_diff_states("{", "{", &out) == SPR_E_INVALID);
    REQUIRE(last_error().code == SPR_E_INVALID);
    SPR_REQUIRE_OK(spr_policy_evaluate(nullptr, nullptr, v1.c_str(), &out));
    spr_free(out);
    REQUIRE(last_error().code == 0);
    REQUIRE(spr_set_status(s, "shop", 1, "bogus") == SPR_E_INVALID);
    SPR_REQUIRE_OK(spr_set_status(s, "shop", 1, "active"));
    REQUIRE(last_error().code == 0);
}

TEST_CASE("options and I/O errors at open", "[capi][open]") {
    TempDir dir;
    spr_store *h = reinterpret_cast<spr_store *>(sentinel());
    REQUIRE(spr_open(dir.store("s").c_str(), R"({"bogus": 1})", &h) == SPR_E_INVALID);
    REQUIRE(h == nullptr);
    REQUIRE(last_error().path == "options.bogus");
    REQUIRE(spr_open(dir.store("s").c_str(), "{", &h) == SPR_E_INVALID);
    REQUIRE(spr_open(dir.store("s").c_str(), R"({"busyTimeoutMs": -1})", &h) == SPR_E_INVALID);
    REQUIRE(spr_open(dir.store("s").c_str(), R"({"durability": "sometimes"})", &h) == SPR_E_INVALID);
    REQUIRE(last_error().path == "options.durability");
    REQUIRE(spr_open(dir.store("s").c_str(), R"({"pricing": {"currency": "EURO"}})", &h) == SPR_E_INVALID);
    REQUIRE(h == nullptr);

    // Every documented option together.
    Store ok(dir.store("s"), key_options(R"("pricing": {"currency": "USD", "perGiBMonth": {"standard": 0.1, "*": 0.1}}, "policy": {"triggers": ["image", "env"]}, "busyTimeoutMs": 5000, "durability": "normal")"));
    REQUIRE(ok.record_created("shop", data("shop_v1.json")) == 1);
}

TEST_CASE("I/O errors at open: a missing directory, a file that is not a store", "[capi][open][sqlite]") {
    TempDir dir;
    spr_store *h = reinterpret_cast<spr_store *>(sentinel());
    REQUIRE(spr_open((dir.path / "no" / "such" / "dir" / "s.db").c_str(), nullptr, &h) == SPR_E_IO);
    REQUIRE(h == nullptr);
    REQUIRE(last_error().name == "SPR_E_IO");

    std::string junk = dir.file("junk.db");
    std::ofstream(junk) << std::string(8192, 'x');
    h = reinterpret_cast<spr_store *>(sentinel());
    int rc = spr_open(junk.c_str(), nullptr, &h);
    REQUIRE((rc == SPR_E_CORRUPT || rc == SPR_E_IO));
    REQUIRE(h == nullptr);
}

TEST_CASE("I/O errors at open: no server, no schema, and the password is never echoed", "[capi][open][postgres]") {
    TempDir dir;
    spr_store *h = reinterpret_cast<spr_store *>(sentinel());
    // Nothing listens on this socket directory.
    std::string nowhere = "postgresql://spr:Pa55-NOT-ECHOED@/postgres?host=" + dir.path.string() +
                          "&port=1&connect_timeout=2";
    REQUIRE(spr_open(nowhere.c_str(), nullptr, &h) == SPR_E_IO);
    REQUIRE(h == nullptr);
    LastError e = last_error();
    CHECK(e.name == "SPR_E_IO");
    CHECK(e.path == "path");
    CHECK_FALSE(contains(e.raw, "Pa55-NOT-ECHOED"));
    CHECK(contains(e.message, "PostgreSQL"));
    // A search_path naming no schema: nothing to create the tables in.
    std::string base = spr_backend::pg_base();
    std::string no_schema = base + (contains(base, "?") ? "&" : "?") + "options=-csearch_path%3Dno_such_schema_x";
    h = reinterpret_cast<spr_store *>(sentinel());
    REQUIRE(spr_open(no_schema.c_str(), nullptr, &h) == SPR_E_IO);
    REQUIRE(h == nullptr);
    CHECK(contains(last_error().message, "schema"));
}

TEST_CASE("PostgreSQL: a connection cut while idle is re-established; one cut mid-call fails it cleanly",
          "[capi][postgres][faults]") {
    TempDir dir;
    const std::string base = spr_backend::pg_base();
    const std::string plain = dir.store("s");
    // Its own application_name (the URI's wins over the library's default),
    // so that only this handle's connection is cut.
    const std::string app = "spr_cut_" + std::to_string(::getpid());
    const std::string path = plain + "&application_name=" + app;
    Store store(path);
    REQUIRE(store.record_created("shop", data("shop_v1.json")) == 1);
    auto cut = [&] {
        return spr_backend::query_int(base, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                            "WHERE application_name = '" + app + "'");
    };
    // Cut while idle: neither the next read nor the next write notices.
    REQUIRE(cut() == 1);
    REQUIRE(store.version_count("shop") == 1);
    REQUIRE(cut() == 1);
    REQUIRE(store.record_created("shop", data("shop_v2.json")) == 2);
    {
        // Cut mid-call: a writer waiting for the store's lock loses its connection.
        spr_backend::WriterLock lock(plain);
        std::atomic<int> rc{-1};
        std::string err;
        std::thread writer([&] {
            rc = store.try_record("shop", shop_variant("cut-1"));
            err = spr_last_error();
        });
        REQUIRE(spr_backend::wait_for_writer_lock_wait(app));
        REQUIRE(cut() == 1);
        writer.join();
        INFO(err);
        REQUIRE(rc == SPR_E_IO);
        CHECK(contains(err, "connection"));
    }
    // Nothing was half-written, and the same handle works again.
    REQUIRE(store.record_created("shop", shop_variant("cut-2")) == 3);
    REQUIRE(check_history_shape(store.versions("shop")) == 3);
    REQUIRE(contains(store.get_raw("shop", 3, true), kSecretV1));
    // Without an application_name in the URI the library names itself.
    Store named(plain);
    named.version_count("shop");
    CHECK(spr_backend::query_int(base, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'spinner_rollback'") >= 1);
}

TEST_CASE("PostgreSQL: a server process that stops answering mid-call gives SPR_E_IO, not a hang",
          "[capi][postgres][faults]") {
    TempDir dir;
    const std::string base = spr_backend::pg_base();
    const std::string plain = dir.store("s");
    const std::string app = "spr_stall_" + std::to_string(::getpid());
    Store store(plain + "&application_name=" + app, key_options(R"("busyTimeoutMs": 3000)"));
    REQUIRE(store.record_created("shop", data("shop_v1.json")) == 1);
    const auto backend = static_cast<pid_t>(
        spr_backend::query_int(base, "SELECT pid FROM pg_stat_activity WHERE application_name = '" + app + "'"));
    REQUIRE(backend > 0);
    struct Resume {
        pid_t pid;
        ~Resume() { ::kill(pid, SIGCONT); }
    } resume{backend};
    const std::string meta = R"({"requestId": "stalled-1"})";
    std::atomic<int> rc{-1};
    std::string err;
    long long ms = 0;
    {
        // The writer is inside its transaction, waiting for the store's lock,
        // when the server process serving it stops (a frozen VM, a network
        // that drops packets); the lock is then released, but no answer comes.
        auto lock = std::make_unique<spr_backend::WriterLock>(plain);
        std::thread writer([&] {
            const auto t0 = std::chrono::steady_clock::now();
            rc = store.try_record("shop", data("shop_v2.json"), meta.c_str());
            ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
            err = spr_last_error();
        });
        REQUIRE(spr_backend::wait_for_writer_lock_wait(app));
        REQUIRE(::kill(backend, SIGSTOP) == 0);
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        lock.reset(); // released, but the stopped process cannot take it or answer
        writer.join();
    }
    INFO(err << " after " << ms << " ms");
    REQUIRE(rc == SPR_E_IO);
    CHECK(contains(err, "did not answer"));
    CHECK(ms >= 12000); // busyTimeoutMs + 10 s ...
    CHECK(ms < 30000);  // ... not forever
    ::kill(backend, SIGCONT);
    // A new connection serves the retry; the request is applied once.
    std::string out;
    REQUIRE(store.try_record("shop", data("shop_v2.json"), meta.c_str(), &out) == SPR_OK);
    REQUIRE(check_history_shape(store.versions("shop")) == 2);
}

TEST_CASE("a store persists across close and reopen", "[capi][open]") {
    TempDir dir;
    std::string path = dir.store("s");
    std::string digest2;
    {
        Store store(path);
        store.record_created("shop", data("shop_v1.json"));
        store.record_created("shop", data("shop_v2.json"));
        SPR_REQUIRE_OK(spr_set_status(store, "shop", 2, "active"));
        digest2 = str(store.versions("shop")[0], "digest");
    }
    Store store(path);
    json::array vs = store.versions("shop");
    REQUIRE(check_history_shape(vs) == 2);
    REQUIRE(str(vs[0], "digest") == digest2);
    REQUIRE(str(vs[0], "status") == "active");
    // Latest state kept: recording it again is "unchanged".
    REQUIRE(str(store.record("shop", data("shop_v2.json")), "outcome") == "unchanged");
    // A plan made before a reopen still commits (plan digests survive reopen).
    std::string plan = store.plan_raw("shop", 1);
    Store again(path);
    REQUIRE(num(again.commit(plan), "number") == 3);
}

TEST_CASE("content is stored deduplicated", "[capi][dedup]") {
    TempDir dir;
    std::string path = dir.store("s");
    // A 512 KiB config value of incompressible text.
    std::string big;
    std::uint64_t x = 0x9e3779b97f4a7c15ull;
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/";
    for (int i = 0; i < (512 << 10); ++i) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        big.push_back(alphabet[x % 64]);
    }
    std::string base = replace_all(data("shop_v1.json"), "\"listen: 8080\\n\"", "\"" + big + "\"");
    auto size_now = [&] { return static_cast<std::uintmax_t>(spr_backend::payload_bytes(path)); };
    Store store(path, key_options(R"("durability": "normal")"));
    store.record_created("shop", base);
    auto after_first = size_now();
    for (int i = 0; i < 20; ++i)
        store.record_created("shop", replace_all(base, "\"value\": \"prod\"", "\"value\": \"prod-" + std::to_string(i) + "\""));
    auto after_all = size_now();
    INFO("after first: " << after_first << " bytes, after 21 versions: " << after_all << " bytes");
    // Without deduplication 20 more versions would add ~20 x 384 KiB.
    REQUIRE(after_all < after_first + (2u << 20));
    // And each version still reads back with its own value and the shared config value.
    json::value g = store.get("shop", 21, false);
    REQUIRE(g.at("state").at("containers").at(0).at("env").at(0).at("value").as_string() == "prod-19");
    REQUIRE(g.at("state").at("configMaps").at("shop-config").at("app.yaml").as_string().size() == big.size());
}
