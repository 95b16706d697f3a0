// Key rotation with reseal killed at random instants (docs/operations.md,
// "Rotating keys"): after every SIGKILL the store opens with the new keyring,
// every secret of every version still reveals and every digest is unchanged;
// a final run completes the reseal, after which the retired key alone no
// longer opens the store (no_key). SQLite, durability full.
#include "fault_check.hpp"
#include "multiprocess/sqlite_check.hpp"
#include "support/backend.hpp"

#include <spinner_rollback/spinner_rollback.hpp>

using namespace spr_test;
namespace sr = spinner_rollback;

namespace {

const std::string kOld = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
const std::string kNew = std::string(64, '7');

std::string secret_state(int spinner, int n) {
    std::ifstream in(std::string(SPR_TEST_DATA_DIR) + "/shop_v1.json");
    std::stringstream ss;
    ss << in.rdbuf();
    json::value v = json::parse(ss.str());
    v.as_object()["secrets"].as_object()["db"].as_object()["password"] =
        "reseal-" + std::to_string(spinner) + "-" + std::to_string(n) + "-SECRET";
    v.as_object()["settings"].as_object()["rollback"].as_object()["historyLimit"] = 100;
    return json::serialize(v);
}

// Every version of every spinner: its digest, and its secret revealed.
std::map<std::string, std::string> read_all(const std::string &path, const sr::StoreOptions &o) {
    auto s = sr::VersionStore::open(path, o);
    std::map<std::string, std::string> out;
    for (const auto &name : s->spinners())
        for (const auto &v : s->versions(name)) {
            auto d = s->get(name, v.number, true);
            const auto secret = json::parse(d.state_json).at("secrets").at("db").at("password").as_string();
            out[name + "/" + std::to_string(v.number)] = v.digest + " " + std::string(secret);
        }
    return out;
}

pid_t start_reseal(const std::string &path, const std::string &options) {
    std::vector<std::string> args{SPR_RESEAL_WORKER, path, options};
    std::vector<char *> argv;
    for (const auto &a : args) argv.push_back(const_cast<char *>(a.c_str()));
    argv.push_back(nullptr);
    pid_t pid = 0;
    REQUIRE(posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ) == 0);
    return pid;
}

} // namespace

TEST_CASE("SQLite: a reseal killed at any point resumes; every secret reveals throughout", "[crash][sqlite][keys]") {
    const auto t0 = std::chrono::steady_clock::now();
    TempDir dir;
    const std::string path = dir.file("reseal.db");
    sr::StoreOptions old_key;
    old_key.key = kOld;
    {
        auto s = sr::VersionStore::open(path, old_key);
        for (int sp = 0; sp < 6; ++sp)
            for (int n = 0; n < 40; ++n) s->record("app-" + std::to_string(sp), secret_state(sp, n));
    }
    const auto expected = read_all(path, old_key);
    REQUIRE(expected.size() == 240);
    REQUIRE(expected.begin()->second.find("-SECRET") != std::string::npos);

    const std::string ring_json = R"({"keys": [{"id": "k2", "key": ")" + kNew + R"("}, {"id": "k1", "key": ")" + kOld + R"("}]})";
    const sr::StoreOptions ring = sr::StoreOptions::from_json(ring_json);
    std::mt19937_64 rng(campaign_seed());
    const int kills = std::max(4, kills_per_backend() / 8);
    int mid_reseal = 0;
    // How long a whole reseal takes here (a first reseal, run to the end, on
    // a copy): kills land at random instants within it.
    std::uint64_t window_us = 0;
    {
        const std::string copy = dir.file("copy.db");
        std::filesystem::copy_file(path, copy);
        const auto t = std::chrono::steady_clock::now();
        auto st = wait_for(start_reseal(copy, ring_json), 120);
        REQUIRE(st);
        REQUIRE(WEXITSTATUS(*st) == 0);
        window_us = static_cast<std::uint64_t>(seconds_since(t) * 1e6) + 1;
    }
    for (int k = 0; k < kills; ++k) {
        const pid_t pid = start_reseal(path, ring_json);
        std::this_thread::sleep_for(std::chrono::microseconds(rng() % window_us));
        kill(pid, SIGKILL);
        int status = 0;
        waitpid(pid, &status, 0);
        REQUIRE(sqlite_integrity_check(path) == "ok");
        if (spr_backend::query_int(path, "SELECT count(*) FROM meta WHERE key = 'data_key_prev'") == 1) ++mid_reseal;
        INFO("kill " << k);
        REQUIRE(read_all(path, ring) == expected);
    }
    // The kills must have landed inside reseals, not only before or after.
    CHECK(mid_reseal > 0);
    // A run to the end completes the reseal, while a reader opened before it
    // keeps reading every secret (it reloads the store's keys as needed).
    auto reader = sr::VersionStore::open(path, ring);
    const pid_t pid = start_reseal(path, ring_json);
    int reads = 0;
    std::optional<int> status;
    do {
        for (const auto &name : reader->spinners()) {
            const auto d = reader->get(name, 1 + reads % 40, true);
            REQUIRE(json::parse(d.state_json).at("secrets").at("db").at("password").as_string().starts_with("reseal-"));
            ++reads;
        }
        status = wait_for(pid, 0);
    } while (!status);
    CHECK(reads > 0);
    REQUIRE(WIFEXITED(*status));
    REQUIRE(WEXITSTATUS(*status) == 0);
    CHECK(spr_backend::query_int(path, "SELECT count(*) FROM meta WHERE key IN ('data_key_prev', 'reseal_cursor')") == 0);
    sr::StoreOptions new_only;
    new_only.key = kNew;
    CHECK(read_all(path, new_only) == expected);
    // The retired key alone opens nothing.
    try {
        sr::VersionStore::open(path, old_key);
        FAIL("the retired key still opens the store");
    } catch (const sr::Error &e) {
        CHECK(e.code() == sr::ErrorCode::no_key);
    }
    std::ostringstream line;
    line << "sqlite reseal kill: " << kills << " SIGKILLs (" << mid_reseal << " inside a reseal), 240 secrets, "
         << reads << " reads during the last reseal, "
         << seconds_since(t0) << " s";
    summary(line.str());
}
