// Hostile environments for a SQLite store (docs/faults.md, "Hostile
// environments"): a disk that fills up during record and commit, a store
// file the process may only read, and a file truncated or overwritten in the
// middle. Each must end in a clean error code — never a crash, never wrong
// data — and leave the store readable and consistent.
#include <boost/json/src.hpp> // Boost.JSON, header-only, once per executable

#include "capi/capi_support.hpp"
#include "multiprocess/sqlite_check.hpp"

#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <map>
#include <random>

using namespace spr_test;

namespace {

// A directory on a small filesystem of its own: a tmpfs when this process
// may mount one (root, as in CI), else an ordinary directory with the
// process's file size limit (RLIMIT_FSIZE) standing in for the disk's size.
class SmallDisk {
public:
    explicit SmallDisk(std::size_t bytes) {
        std::string tmpl = (fs::temp_directory_path() / "spr-disk-XXXXXX").string();
        if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
        dir_ = tmpl;
        const std::string opts = "size=" + std::to_string(bytes);
        tmpfs_ = ::mount("tmpfs", dir_.c_str(), "tmpfs", 0, opts.c_str()) == 0;
        if (!tmpfs_) {
            std::signal(SIGXFSZ, SIG_IGN); // a write past the limit fails with EFBIG instead
            getrlimit(RLIMIT_FSIZE, &saved_);
            rlimit small = saved_;
            small.rlim_cur = bytes;
            setrlimit(RLIMIT_FSIZE, &small);
        }
    }
    ~SmallDisk() {
        if (tmpfs_) ::umount2(dir_.c_str(), MNT_DETACH);
        else setrlimit(RLIMIT_FSIZE, &saved_);
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }
    SmallDisk(const SmallDisk &) = delete;
    SmallDisk &operator=(const SmallDisk &) = delete;

    std::string file(const std::string &name) const { return dir_ + "/" + name; }
    const char *kind() const { return tmpfs_ ? "a 1 MiB tmpfs" : "RLIMIT_FSIZE (not root: no tmpfs)"; }
    // More room (the disk was cleaned up).
    void grow(std::size_t bytes) {
        if (tmpfs_) {
            const std::string opts = "size=" + std::to_string(bytes);
            REQUIRE(::mount("tmpfs", dir_.c_str(), "tmpfs", MS_REMOUNT, opts.c_str()) == 0);
        } else {
            setrlimit(RLIMIT_FSIZE, &saved_);
        }
    }

private:
    std::string dir_;
    bool tmpfs_ = false;
    rlimit saved_{};
};

// A state whose config value is `n` bytes of random hex: incompressible.
std::string big_state(std::mt19937_64 &rng, std::size_t n, int instances) {
    static const char hex[] = "0123456789abcdef";
    std::string v(n, '0');
    for (auto &c : v) c = hex[rng() & 15];
    std::string s = replace_all(data("shop_v1.json"), "\"flags\": \"a,b\"", "\"flags\": \"" + v + "\"");
    s = replace_all(s, "\"instances\": 2", "\"instances\": " + std::to_string(instances));
    return with_history_limit(s, 1000); // nothing pruned: every version stays to be checked
}

// Every version of `spinner` reads back (secrets revealed) and the history
// has its shape; returns the versions.
json::array require_readable(Store &store, const std::string &spinner) {
    json::array vs = store.versions(spinner);
    check_history_shape(vs);
    for (const auto &v : vs) store.get(spinner, num(v, "number"), true);
    return vs;
}

} // namespace

TEST_CASE("a full disk during record and commit gives SPR_E_IO and leaves the store readable and consistent",
          "[hostile]") {
    SmallDisk disk(1 << 20);
    WARN("the full disk is " << disk.kind());
    const std::string path = disk.file("s.db");
    std::mt19937_64 rng(7);
    Store store(path);
    std::int64_t made = 0;
    int rc = SPR_OK;
    std::string error;
    for (int i = 0; i < 400 && rc == SPR_OK; ++i) {
        char *out = nullptr;
        rc = spr_record(store, "shop", big_state(rng, 16 * 1024, 1 + i % 50).c_str(), nullptr, &out);
        error = spr_last_error();
        spr_free(out);
        if (rc == SPR_OK) ++made;
    }
    INFO("after " << made << " versions: " << error);
    REQUIRE(made >= 2);
    REQUIRE(rc == SPR_E_IO);
    REQUIRE(contains(error, "full"));
    // A commit on the full disk: applied, or refused the same way.
    char *plan = nullptr;
    SPR_REQUIRE_OK(spr_plan_rollback(store, "shop", 1, nullptr, &plan));
    char *out = nullptr;
    rc = spr_commit_rollback(store, plan, nullptr, &out);
    INFO("commit on a full disk: " << spr_last_error());
    spr_free(plan);
    spr_free(out);
    REQUIRE((rc == SPR_OK || rc == SPR_E_IO));
    if (rc == SPR_OK) ++made;
    // Nothing half-written: exactly the versions that were acknowledged.
    REQUIRE(check_history_shape(store.versions("shop")) == made);
    REQUIRE(static_cast<std::int64_t>(require_readable(store, "shop").size()) == made);
    REQUIRE(sqlite_integrity_check(path) == "ok");
    // Once there is room again, the same handle writes.
    disk.grow(8 << 20);
    store.record_created("shop", big_state(rng, 1024, 77));
    REQUIRE(check_history_shape(store.versions("shop")) == made + 1);
}

TEST_CASE("a read-only store file opens for reads and refuses writes clearly", "[hostile]") {
    TempDir dir;
    // Root ignores file permissions: make the filesystem read-only instead.
    const bool root = geteuid() == 0;
    std::unique_ptr<SmallDisk> disk;
    std::string path = dir.file("s.db");
    if (root) {
        disk = std::make_unique<SmallDisk>(8 << 20);
        path = disk->file("s.db");
    }
    std::string v1, listing;
    {
        Store store(path);
        store.record_created("shop", data("shop_v1.json"));
        store.record_created("shop", data("shop_v2.json"));
        v1 = json::serialize(store.get("shop", 1, true));
        listing = store.versions_raw("shop");
    }
    if (root) {
        const std::string d = path.substr(0, path.rfind('/'));
        REQUIRE(::mount("tmpfs", d.c_str(), "tmpfs", MS_REMOUNT | MS_RDONLY, nullptr) == 0);
    } else {
        REQUIRE(::chmod(path.c_str(), 0444) == 0);
    }
    Store store(path);
    REQUIRE(store.versions_raw("shop") == listing);
    REQUIRE(json::serialize(store.get("shop", 1, true)) == v1);
    char *out = sentinel();
    SPR_REQUIRE_OK(spr_diff(store, "shop", 1, 2, &out));
    spr_free(out);
    char *plan = nullptr;
    SPR_REQUIRE_OK(spr_plan_rollback(store, "shop", 1, nullptr, &plan));

    out = sentinel();
    REQUIRE(spr_record(store, "shop", data("shop_v1_config_changed.json").c_str(), nullptr, &out) == SPR_E_IO);
    REQUIRE(out == nullptr);
    LastError e = last_error();
    INFO(e.raw);
    REQUIRE(contains(e.message, "read-only"));
    REQUIRE(e.path == "store");
    REQUIRE(spr_commit_rollback(store, plan, nullptr, &out) == SPR_E_IO);
    REQUIRE(contains(last_error().message, "read-only"));
    spr_free(plan);
    REQUIRE(store.versions_raw("shop") == listing);
    if (!root) ::chmod(path.c_str(), 0644);
}

TEST_CASE("a store file truncated or overwritten in the middle is SPR_E_CORRUPT, never wrong data",
          "[hostile]") {
    TempDir dir;
    const std::string original = dir.file("s.db");
    std::mt19937_64 rng(11);
    std::map<std::int64_t, std::string> versions; // number -> get(reveal) as JSON
    std::string listing;
    {
        Store store(original);
        for (int i = 0; i < 60; ++i) store.record_created("shop", big_state(rng, 512 + 64 * i, 1 + i));
        for (std::int64_t n = 1; n <= 60; ++n) versions[n] = json::serialize(store.get("shop", n, true));
        listing = store.versions_raw("shop");
    } // closed: checkpointed into the file, no -wal left
    const auto size = static_cast<std::int64_t>(fs::file_size(original));
    REQUIRE(size > 16 * 4096);

    struct Damage {
        std::string what;
        std::int64_t truncate_to = -1; // or
        std::int64_t overwrite_at = -1;
    };
    std::vector<Damage> damages;
    for (double f : {0.1, 0.25, 0.5, 0.75, 0.9})
        damages.push_back({"truncated to " + std::to_string(f), static_cast<std::int64_t>(size * f) / 4096 * 4096});
    damages.push_back({"truncated by one page", -1});
    damages.back().truncate_to = size - 4096;
    for (std::int64_t page : {std::int64_t{1}, std::int64_t{2}, std::int64_t{3}, size / 4096 / 2, size / 4096 - 1})
        damages.push_back({"page " + std::to_string(page) + " overwritten", -1, page * 4096});

    int refused = 0, intact = 0;
    for (const Damage &d : damages) {
        INFO(d.what);
        const std::string path = dir.file("damaged.db");
        fs::copy_file(original, path, fs::copy_options::overwrite_existing);
        if (d.truncate_to >= 0) {
            fs::resize_file(path, static_cast<std::uintmax_t>(d.truncate_to));
        } else {
            std::string junk(4096, '\0');
            for (auto &c : junk) c = static_cast<char>(rng());
            std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
            f.seekp(d.overwrite_at);
            f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
        }
        spr_store *h = nullptr;
        int rc = spr_open(path.c_str(), key_options().c_str(), &h);
        INFO("open: " << spr_last_error());
        REQUIRE((rc == SPR_OK || rc == SPR_E_CORRUPT));
        if (rc != SPR_OK) {
            ++refused;
            continue;
        }
        Store store(h);
        // Every answer is the original one, or SPR_E_CORRUPT.
        char *out = nullptr;
        rc = spr_versions(store, "shop", &out);
        INFO("versions: " << spr_last_error());
        REQUIRE((rc == SPR_OK || rc == SPR_E_CORRUPT));
        if (rc == SPR_OK) REQUIRE(take(out) == listing);
        for (const auto &[n, want] : versions) {
            std::string got;
            rc = store.try_get("shop", n, true, &got);
            INFO("version " << n << ": " << spr_last_error());
            REQUIRE((rc == SPR_OK || rc == SPR_E_CORRUPT));
            if (rc == SPR_OK) {
                REQUIRE(json::serialize(parse(got)) == want);
                ++intact;
            } else {
                ++refused;
            }
        }
    }
    WARN(damages.size() << " damaged copies: " << refused << " refusals (SPR_E_CORRUPT), " << intact
                        << " versions read intact, none wrong");
    REQUIRE(refused >= static_cast<int>(damages.size()) / 2);
}
