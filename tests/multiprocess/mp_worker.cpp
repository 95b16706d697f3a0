// One process of the multi-process test: records `count` states of its own
// and retries the requests of its neighbour (same requestId, same state), all
// on one spinner of one store (file or PostgreSQL schema) shared with the
// other workers. After every fifth own record it also plans a rollback to
// version 1 and commits it (re-planning when another process moved the
// current version first), then commits the same plan again with the same
// requestId, as a host whose answer was lost would.
//
// usage: spr_mp_worker <store> <worker id> <workers> <count> <report file> [reopen]
// With "reopen" the store is closed and opened again before every request.
// Each successful request appends "<requestId> <number> <outcome>" to the
// report file (outcome "created" or "rollback"). Exit status 0 = every call
// succeeded.
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
    "{\"key\":\"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\","
    "\"busyTimeoutMs\":120000}";

std::string read_file(const std::string &p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string replace_once(std::string s, const std::string &from, const std::string &to) {
    auto p = s.find(from);
    if (p == std::string::npos) {
        std::fprintf(stderr, "worker: \"%s\" not found in the template\n", from.c_str());
        std::exit(3);
    }
    return s.replace(p, from.size(), to);
}

// A number field of a JSON object, found textually: "number":N.
long long number_in(const char *json) {
    const char *p = std::strstr(json, "\"number\":");
    return p ? std::atoll(p + 9) : -1;
}

} // namespace

int main(int argc, char **argv) {
    if (argc != 6 && argc != 7) {
        std::fprintf(stderr, "usage: %s <store> <id> <workers> <count> <report> [reopen]\n", argv[0]);
        return 2;
    }
    const std::string path = argv[1];
    const int id = std::atoi(argv[2]);
    const int workers = std::atoi(argv[3]);
    const int count = std::atoi(argv[4]);
    const bool reopen = argc == 7 && std::string(argv[6]) == "reopen";
    std::FILE *report = std::fopen(argv[5], "w");
    if (!report) return 2;

    std::string tmpl = read_file(std::string(SPR_TEST_DATA_DIR) + "/shop_v1.json");
    tmpl = replace_once(tmpl, "\"historyLimit\": 20", "\"historyLimit\": 100000");

    spr_store *store = nullptr;
    if (spr_open(path.c_str(), kOptions, &store) != SPR_OK) {
        std::fprintf(stderr, "worker %d: open failed: %s\n", id, spr_last_error());
        return 1;
    }
    int failures = 0;
    auto request = [&](int owner, int j) {
        if (reopen) {
            spr_close(store);
            store = nullptr;
            if (spr_open(path.c_str(), kOptions, &store) != SPR_OK) {
                std::fprintf(stderr, "worker %d: reopen failed: %s\n", id, spr_last_error());
                std::exit(1);
            }
        }
        const std::string rid = "w" + std::to_string(owner) + "-" + std::to_string(j);
        const std::string state = replace_once(tmpl, "\"9f3c2e1\"", "\"" + rid + "\"");
        const std::string meta = "{\"requestId\":\"" + rid + "\",\"author\":\"worker-" + std::to_string(id) + "\"}";
        char *out = nullptr;
        int rc = spr_record(store, "shared", state.c_str(), meta.c_str(), &out);
        if (rc != SPR_OK) {
            std::fprintf(stderr, "worker %d: record %s failed: %s\n", id, rid.c_str(), spr_last_error());
            ++failures;
            return;
        }
        long long n = number_in(out);
        const char *outcome = std::strstr(out, "\"created\"") ? "created" : "other";
        spr_free(out);
        // Read it back at once, with secrets, while the others write.
        rc = spr_version_get(store, "shared", n, 1, &out);
        if (rc != SPR_OK || !std::strstr(out, ("\"" + rid + "\"").c_str())) {
            std::fprintf(stderr, "worker %d: version %lld of %s does not read back: %s\n", id, n, rid.c_str(),
                         rc == SPR_OK ? "wrong content" : spr_last_error());
            ++failures;
        }
        spr_free(out);
        std::fprintf(report, "%s %lld %s\n", rid.c_str(), n, outcome);
        std::fflush(report);
    };
    // Roll back to v1: plan, commit; on a conflict (someone recorded in
    // between) plan again. Then the same commit once more: same version.
    auto rollback = [&](int j) {
        const std::string rid = "c" + std::to_string(id) + "-" + std::to_string(j);
        const std::string meta = "{\"requestId\":\"" + rid + "\",\"author\":\"worker-" + std::to_string(id) + "\"}";
        for (int attempt = 0; attempt < 200; ++attempt) {
            char *plan = nullptr;
            int rc = spr_plan_rollback(store, "shared", 1, nullptr, &plan);
            if (rc == SPR_E_CURRENT_VERSION || rc == SPR_E_IDENTICAL) return; // v1's content is current
            if (rc != SPR_OK) {
                std::fprintf(stderr, "worker %d: plan %s failed: %s\n", id, rid.c_str(), spr_last_error());
                ++failures;
                return;
            }
            char *out = nullptr;
            rc = spr_commit_rollback(store, plan, meta.c_str(), &out);
            if (rc == SPR_E_CONFLICT) {
                spr_free(plan);
                continue;
            }
            if (rc != SPR_OK) {
                std::fprintf(stderr, "worker %d: commit %s failed: %s\n", id, rid.c_str(), spr_last_error());
                ++failures;
                spr_free(plan);
                return;
            }
            const long long n = number_in(out);
            spr_free(out);
            rc = spr_commit_rollback(store, plan, meta.c_str(), &out);
            spr_free(plan);
            if (rc != SPR_OK || number_in(out) != n) {
                std::fprintf(stderr, "worker %d: retried commit %s gave %s\n", id, rid.c_str(),
                             rc == SPR_OK ? "another version" : spr_last_error());
                ++failures;
            }
            spr_free(out);
            std::fprintf(report, "%s %lld rollback\n", rid.c_str(), n);
            std::fflush(report);
            return;
        }
        std::fprintf(stderr, "worker %d: commit %s kept conflicting\n", id, rid.c_str());
        ++failures;
    };
    const int neighbour = (id + 1) % workers;
    for (int j = 0; j < count; ++j) {
        request(id, j);
        request(neighbour, j); // the neighbour's request, retried from here
        if (j % 5 == 4) rollback(j);
    }
    // Listing under contention stays well-formed.
    char *out = nullptr;
    if (spr_versions(store, "shared", &out) != SPR_OK) {
        std::fprintf(stderr, "worker %d: versions failed: %s\n", id, spr_last_error());
        ++failures;
    }
    spr_free(out);
    spr_close(store);
    std::fclose(report);
    return failures == 0 ? 0 : 1;
}
