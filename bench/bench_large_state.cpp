// Large states through the C API (docs/benchmarks.md, "Large states"): a
// spinner whose config maps hold `--mib` MiB of config-file text (one map of
// 1 MiB by default; `--mib 10` gives ten maps of 1 MiB each), on a fresh
// SQLite store, against floors measured in the same run on the same bytes:
//
//   parse+hash      Boost.JSON parse of the state document and SHA-256 of its bytes
//   serialise+hash  Boost.JSON serialisation of the parsed document and SHA-256 of it
//
// Operations (p50 and p99 of --samples runs each):
//   record, map changed     a new version whose config value changed
//   record, map unchanged   a new version (env changed), the large value as stored
//   record, unchanged       the latest state again (what a reconcile loop does)
//   plan                    a rollback to the previous version (map differs)
//   commit                  that plan
// and the plan JSON's size and how often the large value appears in it, and
// the process's peak RSS (getrusage) before and after the operations.
//
//   spr_bench_large_state [--mib 1|10] [--samples 30] [--durability normal|full] [--dir /tmp]
#include <spinner_rollback.h>

#include <boost/json.hpp>
#include <openssl/evp.h>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace json = boost::json;
using Clock = std::chrono::steady_clock;

namespace {

const char *const kKey = "6b1f0c9e2d4a7b3c5e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9011223344ff";

// Config-file-like text: "key_N = <16 hex>\n" lines, `bytes` long.
std::string config_text(std::size_t bytes, unsigned seed) {
    std::mt19937_64 rng(seed);
    std::string s;
    s.reserve(bytes + 64);
    char line[64];
    for (unsigned n = 0; s.size() < bytes; ++n) {
        std::snprintf(line, sizeof line, "key_%u = %016llx\n", n, static_cast<unsigned long long>(rng()));
        s += line;
    }
    s.resize(bytes);
    return s;
}

// The state: `maps` config maps "cfg-0".."cfg-N", each with one value
// "big.txt" of 1 MiB, mounted by the one container; env REV = `rev`.
std::string make_state(const std::vector<std::string> &values, const std::string &rev) {
    json::object st{{"schemaVersion", 1},
                    {"instances", 2},
                    {"settings", {{"rollback", {{"enabled", true}, {"historyLimit", 20}}}}}};
    json::array mounts;
    json::object maps;
    for (std::size_t i = 0; i < values.size(); ++i) {
        const std::string name = "cfg-" + std::to_string(i);
        mounts.push_back(json::object{{"path", "/etc/" + name}, {"configMap", name}});
        maps[name] = json::object{{"big.txt", values[i]}, {"flags", "a,b"}};
    }
    st["containers"] = json::array{json::object{
        {"name", "web"},
        {"image", {{"reference", "registry.example/shop:1.4"},
                   {"digest", "sha256:4f2a9c0d1e3b5a7c9e1f3a5b7c9d1e3f5a7b9c1d3e5f7a9b1c3d5e7f9a1b3c5d"}}},
        {"env", json::array{json::object{{"name", "REV"}, {"value", rev}}}},
        {"resources", {{"cpu", "500m"}, {"memory", "256Mi"}}},
        {"mounts", std::move(mounts)}}};
    st["configMaps"] = std::move(maps);
    return json::serialize(st);
}

std::string sha256(const std::string &bytes) {
    unsigned char md[32];
    unsigned len = 0;
    EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr);
    return std::string(reinterpret_cast<char *>(md), len);
}

double ms_since(Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

struct Stats {
    double p50 = 0, p99 = 0;
};
Stats stats(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    auto at = [&](double q) { return v[std::min(v.size() - 1, static_cast<std::size_t>(q * double(v.size())))]; };
    return {at(0.50), at(0.99)};
}

long peak_rss_kib() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss;
}

void check(int rc, const char *what) {
    if (rc != SPR_OK) throw std::runtime_error(std::string(what) + ": " + spr_last_error());
}

// Record `state`; returns the new version's number (0 when unchanged).
std::int64_t record(spr_store *s, const std::string &state) {
    char *out = nullptr;
    check(spr_record(s, "shop", state.c_str(), nullptr, &out), "record");
    json::value v = json::parse(out);
    spr_free(out);
    const auto *n = v.as_object().if_contains("version");
    return n && n->is_object() ? n->as_object().at("number").as_int64() : 0;
}

std::size_t count_of(const std::string &hay, const std::string &needle) {
    std::size_t n = 0;
    for (auto p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1)) ++n;
    return n;
}

} // namespace

int main(int argc, char **argv) {
    int mib = 1, samples = 30;
    std::string durability = "normal", dir = "/tmp";
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string a = argv[i];
        if (a == "--mib") mib = std::atoi(argv[i + 1]);
        else if (a == "--samples") samples = std::atoi(argv[i + 1]);
        else if (a == "--durability") durability = argv[i + 1];
        else if (a == "--dir") dir = argv[i + 1];
        else {
            std::fprintf(stderr, "usage: %s [--mib N] [--samples K] [--durability normal|full] [--dir D]\n", argv[0]);
            return 2;
        }
    }
    if (mib < 1 || mib > 12 || samples < 2) {
        std::fprintf(stderr, "--mib must be 1..12 and --samples at least 2\n");
        return 2;
    }
    try {
        // Two sets of values: X and Y differ in every map's last line.
        std::vector<std::string> x, y;
        for (int i = 0; i < mib; ++i) {
            x.push_back(config_text(1u << 20, 1000u + unsigned(i)));
            y.push_back(x.back());
            y.back().replace(y.back().size() - 17, 16, "0123456789abcdef");
        }
        const std::string a = make_state(x, "1"), b = make_state(x, "2"), c = make_state(y, "1");
        const long rss_start = peak_rss_kib();

        // Floors, on the same bytes.
        std::vector<double> f_parse, f_ser;
        for (int i = 0; i < samples; ++i) {
            auto t0 = Clock::now();
            json::value v = json::parse(a);
            std::string h = sha256(a);
            f_parse.push_back(ms_since(t0));
            t0 = Clock::now();
            std::string text = json::serialize(v);
            h = sha256(text);
            f_ser.push_back(ms_since(t0));
        }

        const std::string path = dir + "/spr-bench-large-" + std::to_string(::getpid()) + ".db";
        std::remove(path.c_str());
        spr_store *s = nullptr;
        const std::string opts = std::string("{\"key\":\"") + kKey + "\",\"durability\":\"" + durability + "\"}";
        check(spr_open(path.c_str(), opts.c_str(), &s), "open");

        std::vector<double> r_changed, r_same_map, r_unchanged, t_plan, t_commit;
        std::size_t plan_bytes = 0, occurrences = 0;
        record(s, a);
        for (int i = 0; i < samples; ++i) {
            // A new version whose map changed (X <-> Y), then one whose map did not.
            auto t0 = Clock::now();
            if (!record(s, i % 2 ? a : c)) throw std::runtime_error("expected a new version");
            r_changed.push_back(ms_since(t0));
            t0 = Clock::now();
            if (!record(s, i % 2 ? b : make_state(y, "2"))) throw std::runtime_error("expected a new version");
            r_same_map.push_back(ms_since(t0));
        }
        const std::string latest = samples % 2 ? make_state(y, "2") : b;
        for (int i = 0; i < samples; ++i) {
            auto t0 = Clock::now();
            if (record(s, latest)) throw std::runtime_error("expected unchanged");
            r_unchanged.push_back(ms_since(t0));
        }
        // Plan and commit a rollback to the version before the latest, again and again.
        std::int64_t last = 0;
        {
            char *out = nullptr;
            check(spr_spinner_info(s, "shop", &out), "info");
            json::value info = json::parse(out);
            spr_free(out);
            last = info.at("versionsCreated").as_int64();
        }
        // A line from the middle of the first large value (as it is written in JSON: no escapes).
        const std::size_t mid = x[0].find('\n', x[0].size() / 2) + 1;
        const std::string marker = x[0].substr(mid, x[0].find('\n', mid) - mid);
        const std::string marker_y = marker; // X and Y differ only in their last line
        for (int i = 0; i < samples; ++i) {
            char *plan = nullptr, *out = nullptr;
            auto t0 = Clock::now();
            check(spr_plan_rollback(s, "shop", last - 1, nullptr, &plan), "plan");
            t_plan.push_back(ms_since(t0));
            plan_bytes = std::strlen(plan);
            occurrences = std::max(occurrences, count_of(plan, marker) + (marker_y == marker ? 0 : count_of(plan, marker_y)));
            t0 = Clock::now();
            check(spr_commit_rollback(s, plan, nullptr, &out), "commit");
            t_commit.push_back(ms_since(t0));
            spr_free(plan);
            spr_free(out);
            ++last;
        }
        spr_close(s);
        const long rss_end = peak_rss_kib();
        std::remove(path.c_str());
        std::remove((path + "-wal").c_str());
        std::remove((path + "-shm").c_str());

        const Stats fp = stats(f_parse), fs = stats(f_ser);
        std::printf("# spr_bench_large_state: %d MiB of config values in %d map(s); state document %zu bytes; "
                    "SQLite, durability %s; %d samples; library %s\n",
                    mib, mib, a.size(), durability.c_str(), samples, spr_version_string());
        std::printf("| measure | p50 (ms) | p99 (ms) | p50 / floor |\n|---|---|---|---|\n");
        std::printf("| floor: parse+hash of the document | %.2f | %.2f | 1.00 |\n", fp.p50, fp.p99);
        std::printf("| floor: serialise+hash of the document | %.2f | %.2f | 1.00 |\n", fs.p50, fs.p99);
        auto row = [&](const char *name, const std::vector<double> &v, const Stats &floor, const char *fname) {
            const Stats st = stats(v);
            std::printf("| %s | %.2f | %.2f | %.2f× %s |\n", name, st.p50, st.p99, st.p50 / floor.p50, fname);
        };
        row("record, map changed (new version)", r_changed, fp, "parse+hash");
        row("record, map unchanged (new version, env changed)", r_same_map, fp, "parse+hash");
        row("record, unchanged state", r_unchanged, fp, "parse+hash");
        row("plan (rollback to the previous version)", t_plan, fs, "serialise+hash");
        row("commit of that plan", t_commit, fs, "serialise+hash");
        std::printf("\nplan JSON: %zu bytes; a large value appears in it %zu time(s)\n", plan_bytes, occurrences);
        std::printf("peak RSS: %.1f MiB after building the states, %.1f MiB at the end\n", double(rss_start) / 1024.0,
                    double(rss_end) / 1024.0);
    } catch (const std::exception &e) {
        std::fprintf(stderr, "spr_bench_large_state: %s\n", e.what());
        return 1;
    }
    return 0;
}
