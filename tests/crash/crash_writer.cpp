// The process the crash test kills: it writes to a store in a loop, forever,
// and reports every write the library confirmed, flushed at once, so the
// driver knows what must survive a SIGKILL at any instant.
//
// usage: spr_crash_writer <store> <full|normal> <report file> <writer tag>
// Report lines (appended):
//   "<number> record <codeVersion> <secret>"   after spr_record created a version
//   "<number> rollback <target>"               after spr_commit_rollback
//   "<number> status active"                   after spr_set_status
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

std::string read_file(const std::string &p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string replace_once(std::string s, const std::string &from, const std::string &to) {
    auto p = s.find(from);
    if (p == std::string::npos) {
        std::fprintf(stderr, "writer: \"%s\" not found in the template\n", from.c_str());
        std::exit(3);
    }
    return s.replace(p, from.size(), to);
}

long long number_in(const char *json, const char *key) {
    std::string k = std::string("\"") + key + "\":";
    const char *p = std::strstr(json, k.c_str());
    return p ? std::atoll(p + k.size()) : -1;
}

} // namespace

int main(int argc, char **argv) {
    if (argc != 5) {
        std::fprintf(stderr, "usage: %s <store> <full|normal> <report> <tag>\n", argv[0]);
        return 2;
    }
    const std::string path = argv[1], durability = argv[2], tag = argv[4];
    std::FILE *report = std::fopen(argv[3], "a");
    if (!report) return 2;
    const std::string options =
        "{\"key\":\"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\","
        "\"busyTimeoutMs\":30000,\"durability\":\"" + durability + "\"}";
    std::string tmpl = read_file(std::string(SPR_TEST_DATA_DIR) + "/shop_v1.json");
    tmpl = replace_once(tmpl, "\"historyLimit\": 20", "\"historyLimit\": 100000");

    spr_store *store = nullptr;
    if (spr_open(path.c_str(), options.c_str(), &store) != SPR_OK) {
        std::fprintf(stderr, "writer %s: open failed: %s\n", tag.c_str(), spr_last_error());
        return 1;
    }
    std::string secret = "crash-secret-" + tag + "-0";
    std::string flags = "a,b";
    long long current = 0;
    for (long long i = 0;; ++i) {
        char *out = nullptr;
        if (i % 7 == 6 && current >= 2) {
            // A rollback to the previous version (may race with another writer).
            char *plan = nullptr;
            int rc = spr_plan_rollback(store, "crash", current - 1, nullptr, &plan);
            if (rc == SPR_OK) {
                const std::string meta = "{\"requestId\":\"" + tag + "-rb-" + std::to_string(i) + "\"}";
                rc = spr_commit_rollback(store, plan, meta.c_str(), &out);
                spr_free(plan);
                if (rc == SPR_OK) {
                    current = number_in(out, "number");
                    std::fprintf(report, "%lld rollback %lld\n", current, number_in(out, "rollbackOf"));
                    std::fflush(report);
                    spr_free(out);
                    continue;
                }
            }
            if (rc != SPR_E_CONFLICT && rc != SPR_E_IDENTICAL && rc != SPR_E_CURRENT_VERSION) {
                std::fprintf(stderr, "writer %s: rollback failed: %s\n", tag.c_str(), spr_last_error());
                return 1;
            }
        }
        if (i % 4 == 3) secret = "crash-secret-" + tag + "-" + std::to_string(i);
        if (i % 3 == 2) flags = "f-" + tag + "-" + std::to_string(i);
        const std::string code = tag + "-" + std::to_string(i);
        std::string state = replace_once(tmpl, "\"9f3c2e1\"", "\"" + code + "\"");
        state = replace_once(state, "\"S3cr3t-Valu3-7f1e\"", "\"" + secret + "\"");
        state = replace_once(state, "\"flags\": \"a,b\"", "\"flags\": \"" + flags + "\"");
        const std::string meta = "{\"requestId\":\"" + code + "\",\"author\":\"crash-writer\"}";
        int rc = spr_record(store, "crash", state.c_str(), meta.c_str(), &out);
        if (rc != SPR_OK) {
            std::fprintf(stderr, "writer %s: record failed: %s\n", tag.c_str(), spr_last_error());
            return 1;
        }
        current = number_in(out, "number");
        spr_free(out);
        std::fprintf(report, "%lld record %s %s\n", current, code.c_str(), secret.c_str());
        std::fflush(report);
        if (i % 5 == 4) {
            rc = spr_set_status(store, "crash", current, "active");
            if (rc != SPR_OK) {
                std::fprintf(stderr, "writer %s: set_status failed: %s\n", tag.c_str(), spr_last_error());
                return 1;
            }
            std::fprintf(report, "%lld status active\n", current);
            std::fflush(report);
        }
        if (i % 11 == 10) {
            const std::string snap = "{\"id\":\"snap-" + code + "\",\"volume\":\"vol-data-1\",\"sizeBytes\":1024,\"ready\":true}";
            if (spr_snapshot_register(store, snap.c_str()) != SPR_OK ||
                (i % 22 == 21 && spr_snapshot_delete(store, ("snap-" + code).c_str()) != SPR_OK)) {
                std::fprintf(stderr, "writer %s: snapshot failed: %s\n", tag.c_str(), spr_last_error());
                return 1;
            }
        }
    }
}
