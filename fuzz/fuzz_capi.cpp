// fuzz_capi: every C API entry point that takes JSON, on one store created
// once per process in a temp dir (with a key, durability "normal"), seeded
// with tests/data-like states for spinner "shop" (versions 1 and 2).
// Per input (as a NUL-terminated string): spr_record, spr_plan_rollback,
// spr_commit_rollback, spr_snapshot_register, spr_policy_evaluate,
// spr_diff_states. Invariants: no crash / sanitizer report; a failing call
// sets its out-pointer to NULL and spr_last_error() parses as a JSON object
// with a matching "code"; a successful call's output parses as JSON.
// Env SPR_FUZZ_DUMP_PLAN=1: print a valid plan at start-up (seed material).
#include "fuzz_common.hpp"

#include <spinner_rollback.h>

#include <boost/json.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <unistd.h>

namespace {

spr_store *g_store = nullptr;
std::string g_dir;

void check_last_error(const char *fn, int rc) {
    const char *e = spr_last_error();
    if (!e) spr_fuzz::bug(fn, "spr_last_error() is NULL after a failure");
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(e, ec);
    if (ec) spr_fuzz::bug(fn, (std::string("spr_last_error() is not JSON: ") + e).c_str());
    const auto *o = v.if_object();
    if (!o) spr_fuzz::bug(fn, "spr_last_error() is not an object");
    const auto *code = o->if_contains("code");
    if (!code || !code->is_int64() || code->as_int64() != rc)
        spr_fuzz::bug(fn, (std::string("spr_last_error() code does not match: ") + e).c_str());
}

void check_json_out(const char *fn, const char *out) {
    if (!out) spr_fuzz::bug(fn, "SPR_OK with a NULL out_json");
    boost::system::error_code ec;
    (void)boost::json::parse(out, ec);
    if (ec) spr_fuzz::bug(fn, "output is not JSON");
}

// Check one call that returned rc with out-pointer out; frees out.
void check(const char *fn, int rc, char *out, bool has_out = true) {
    if (rc == SPR_OK) {
        if (has_out) check_json_out(fn, out);
    } else {
        if (out) spr_fuzz::bug(fn, "failure left a non-NULL out_json");
        if (rc == SPR_E_INTERNAL) spr_fuzz::bug(fn, spr_last_error());
        check_last_error(fn, rc);
    }
    spr_free(out);
}

// At exit only the temp dir is removed: glibc destroys thread_locals (the
// library's last-error buffer) before atexit handlers run, so no API call
// (not even spr_close) is made from here. SQLite's file is simply abandoned.
void cleanup() {
    std::error_code ec;
    if (!g_dir.empty()) std::filesystem::remove_all(g_dir, ec);
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
    const char *base = std::getenv("SPR_FUZZ_TMPDIR");
    if (!base) base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    std::string templ = std::string(base) + "/spr-fuzz-capi-XXXXXX";
    if (!mkdtemp(templ.data())) spr_fuzz::bug("init", "mkdtemp failed");
    g_dir = templ;
    const std::string path = g_dir + "/store.db";
    const char *opts =
        R"({"key":"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f","durability":"normal"})";
    if (spr_open(path.c_str(), opts, &g_store) != SPR_OK) spr_fuzz::bug("spr_open", spr_last_error());
    std::atexit(cleanup);

    // Seed: spinner "shop" with versions 1 and 2. Prefer the repo's richer
    // documents when SPR_FUZZ_SEED_DIR points at tests/data.
    std::string v1 = spr_fuzz::seed_document("shop_v1.json"), v2 = spr_fuzz::seed_document("shop_v2.json");
    if (v1.empty() || v2.empty()) v1 = spr_fuzz::kMinimalV1, v2 = spr_fuzz::kMinimalV2;
    for (const std::string *s : {&v1, &v2}) {
        char *out = nullptr;
        if (spr_record(g_store, "shop", s->c_str(), nullptr, &out) != SPR_OK)
            spr_fuzz::bug("seed spr_record", spr_last_error());
        spr_free(out);
    }
    if (std::getenv("SPR_FUZZ_DUMP_PLAN")) {
        char *plan = nullptr;
        if (spr_plan_rollback(g_store, "shop", 1, nullptr, &plan) != SPR_OK)
            spr_fuzz::bug("seed spr_plan_rollback", spr_last_error());
        std::printf("%s\n", plan);
        std::fflush(stdout);
        spr_free(plan);
    }
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    // The C API takes NUL-terminated strings: embedded NULs just truncate.
    const std::string in(reinterpret_cast<const char *>(data), size);
    const char *s = in.c_str();
    char *out = nullptr;
    int rc;

    out = nullptr;
    rc = spr_record(g_store, "fuzz", s, nullptr, &out);
    check("spr_record", rc, out);

    out = nullptr;
    rc = spr_plan_rollback(g_store, "shop", 1, s, &out);
    check("spr_plan_rollback", rc, out);

    out = nullptr;
    rc = spr_commit_rollback(g_store, s, nullptr, &out);
    check("spr_commit_rollback", rc, out);

    rc = spr_snapshot_register(g_store, s);
    check("spr_snapshot_register", rc, nullptr, false);

    out = nullptr;
    rc = spr_policy_evaluate(s, nullptr, s, &out);
    check("spr_policy_evaluate", rc, out);

    out = nullptr;
    rc = spr_diff_states(s, s, &out);
    check("spr_diff_states", rc, out);
    return 0;
}
