// One process of the compare-and-set race: `count` times, read the spinner's
// current version N, then write with "expectedCurrent": N — a record of a
// state of its own, or (every third attempt) a commit of a rollback to
// version 1. Several of these run at once on one spinner, so most attempts
// race with another process for the same N.
//
// usage: spr_cas_worker <store> <worker id> <count> <report file>
// The report has one line per attempt: "win <N> <new number> <requestId>" or
// "lose <N>" (SPR_E_CONFLICT). Exit status 0 = nothing else went wrong.
#include "spinner_rollback.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#ifndef SPR_TEST_DATA_DIR
#error "SPR_TEST_DATA_DIR must be defined"
#endif

namespace {

const char *kOptions =
    "{\"key\":\"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\",\"busyTimeoutMs\":120000}";

long long field(const char *json, const char *name) {
    const std::string key = std::string("\"") + name + "\":";
    const char *p = std::strstr(json, key.c_str());
    return p ? std::atoll(p + key.size()) : -1;
}

} // namespace

int main(int argc, char **argv) {
    if (argc != 5) {
        std::fprintf(stderr, "usage: %s <store> <id> <count> <report>\n", argv[0]);
        return 2;
    }
    const std::string path = argv[1], id = argv[2];
    const int count = std::atoi(argv[3]);
    std::FILE *report = std::fopen(argv[4], "w");
    if (!report) return 2;
    std::ifstream in(std::string(SPR_TEST_DATA_DIR) + "/shop_v1.json", std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    const std::string tmpl = ss.str();
    const auto at = tmpl.find("\"9f3c2e1\"");
    if (at == std::string::npos) return 3;

    spr_store *store = nullptr;
    if (spr_open(path.c_str(), kOptions, &store) != SPR_OK) {
        std::fprintf(stderr, "cas worker %s: open failed: %s\n", id.c_str(), spr_last_error());
        return 1;
    }
    int failures = 0;
    for (int j = 0; j < count; ++j) {
        char *out = nullptr;
        if (spr_spinner_info(store, "race", &out) != SPR_OK) {
            std::fprintf(stderr, "cas worker %s: info failed: %s\n", id.c_str(), spr_last_error());
            ++failures;
            continue;
        }
        const long long expected = field(out, "currentVersion");
        spr_free(out);
        const std::string rid = "w" + id + "-" + std::to_string(j);
        const std::string meta = "{\"requestId\":\"" + rid + "\",\"expectedCurrent\":" + std::to_string(expected) + "}";
        int rc = 0;
        if (j % 3 == 2) {
            char *plan = nullptr;
            rc = spr_plan_rollback(store, "race", 1, nullptr, &plan);
            if (rc == SPR_E_CURRENT_VERSION || rc == SPR_E_IDENTICAL) continue; // nothing to race for
            if (rc == SPR_OK) {
                rc = spr_commit_rollback(store, plan, meta.c_str(), &out);
                spr_free(plan);
            }
        } else {
            std::string state = tmpl;
            state.replace(at, 9, "\"" + rid + "\"");
            rc = spr_record(store, "race", state.c_str(), meta.c_str(), &out);
        }
        if (rc == SPR_OK) {
            const char *v = std::strstr(out, "\"version\":{");
            std::fprintf(report, "win %lld %lld %s\n", expected, field(v ? v : out, "number"), rid.c_str());
            spr_free(out);
        } else if (rc == SPR_E_CONFLICT) {
            std::fprintf(report, "lose %lld\n", expected);
        } else {
            std::fprintf(stderr, "cas worker %s: %s failed: %s\n", id.c_str(), rid.c_str(), spr_last_error());
            ++failures;
        }
        std::fflush(report);
    }
    spr_close(store);
    std::fclose(report);
    return failures == 0 ? 0 : 1;
}
