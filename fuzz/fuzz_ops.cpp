// fuzz_ops: sequences of store operations through the C API, on a fresh
// SQLite store per input, then the store's invariants. Where fuzz_capi feeds
// one JSON document to every entry point, this target reaches what only a
// history reaches: tags and retention, statuses and auto-rollback, partial
// rollbacks, restore points, events, export/import, migration, key rotation
// with and without re-sealing, and reopening with other options.
//
// Input: lines; each line is one operation: byte 0 the operation, bytes 1 and
// 2 small arguments (a, b), the rest ("text") an optional JSON argument that
// replaces the operation's well-formed default when present:
//   r  record seed state a (tests/data/*.json when SPR_FUZZ_SEED_DIR is set),
//      text = meta            j  record text as a state
//   t  tag version a (text = tag request)   u  untag (text = name)
//   s  set status of version a              n  annotate version a (text = note)
//   p  plan a rollback to a and commit it (text = request when b & 0x40, else meta)
//   A  plan the auto-rollback and commit it P  restore points of version a
//   e  events after a, and a wait of 0 ms   k  rotate the key (text = options)
//   x  export (one spinner, or all when a & 1), import the bundle into the
//      same store and into a fresh one; the fresh one must list the same versions
//   m  migrate into a fresh SQLite file; it must list the same versions
//   S  register a snapshot (text = snapshot) D  delete one (text = id)
//   i  read everything: info, pages, a version revealed, a diff, store info
//   o  close and reopen with other options (text = options; on failure the
//      store reopens with the full keyring)
// The spinner is "a" or "b" (b & 1), or an invalid name (b & 0x80).
//
// With SPR_FUZZ_POSTGRES set to a libpq URI the store is the schema
// "spr_fuzz_ops" on that server, dropped and created again per input (the
// PostgreSQL engine then runs everything; export, import and migration
// targets stay SQLite files). Start a throwaway server with
// scripts/pg-server.sh start DIR PORT, which prints the URI.
//
// Checks: no crash or sanitizer report; SPR_E_INTERNAL and SPR_E_CORRUPT are
// bugs; a failure sets its out-pointer to NULL and spr_last_error() is JSON
// with the same code; outputs are JSON; no output except a revealed version
// and no error holds a seed secret value (unless the input itself does); and
// at the end: each spinner's versions are newest first with exactly the first
// current, every one reads back revealed, events are numbered without gaps.
#include "fuzz_common.hpp"

#include <spinner_rollback.h>

#include <boost/json.hpp>

#include <libpq-fe.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <unistd.h>
#include <vector>

namespace {

namespace json = boost::json;

const std::string kKey1(64, 'a');
const std::string kKey2(64, 'b');
const std::string kBundleKey(64, 'c');
const std::string kRing1 = R"({"keys":[{"id":"k1","key":")" + kKey1 + R"("}],"durability":"normal"})";
const std::string kRing21 = R"({"keys":[{"id":"k2","key":")" + kKey2 + R"("},{"id":"k1","key":")" + kKey1 +
                            R"("}],"durability":"normal"})";
const std::string kRing2 = R"({"keys":[{"id":"k2","key":")" + kKey2 + R"("}],"durability":"normal"})";
const std::string kBundleOpts = R"({"key":")" + kBundleKey + R"("})";

struct Globals {
    std::string dir;
    PGconn *admin = nullptr; // SPR_FUZZ_POSTGRES: empties the store's schema per input
    std::string pg_store;    // SPR_FUZZ_POSTGRES: the URI that makes that schema current
    std::vector<std::string> seeds;   // state documents
    std::vector<std::string> secrets; // secret values in the seeds (>= 6 bytes)
};
Globals g;

void cleanup() {
    if (g.admin) PQfinish(g.admin);
    std::error_code ec;
    if (!g.dir.empty()) std::filesystem::remove_all(g.dir, ec);
}

void collect_secrets(const json::value &state) {
    const auto *o = state.if_object();
    if (!o) return;
    const auto *secrets = o->if_contains("secrets");
    if (!secrets || !secrets->is_object()) return;
    for (const auto &[name, keys] : secrets->as_object()) {
        if (!keys.is_object()) continue;
        for (const auto &[k, v] : keys.as_object())
            if (v.is_string() && v.as_string().size() >= 6) g.secrets.emplace_back(v.as_string());
    }
}

void remove_store(const std::string &path) {
    for (const char *suffix : {"", "-wal", "-shm", "-journal"}) std::remove((path + suffix).c_str());
}

/// One input's run: the store, what the input may contain, the checks.
class Run {
  public:
    explicit Run(std::string_view input) : input_(input) {
        for (const auto &s : g.secrets)
            if (input_.find(s) != std::string_view::npos) secrets_in_input_ = true;
        if (g.admin) {
            PGresult *r = PQexec(g.admin, "DROP SCHEMA IF EXISTS spr_fuzz_ops CASCADE; CREATE SCHEMA spr_fuzz_ops");
            if (PQresultStatus(r) != PGRES_COMMAND_OK) spr_fuzz::bug("postgres", PQerrorMessage(g.admin));
            PQclear(r);
            path_ = g.pg_store;
        } else {
            path_ = g.dir + "/store.db";
            remove_store(path_);
        }
        if (spr_open(path_.c_str(), kRing1.c_str(), &store_) != SPR_OK) spr_fuzz::bug("spr_open", spr_last_error());
    }
    ~Run() { spr_close(store_); }
    Run(const Run &) = delete;
    Run &operator=(const Run &) = delete;

    void op(std::string_view line);
    void check_invariants();

  private:
    // Check one call's result; frees out (unless keep). Returns rc.
    int check(const char *fn, int rc, char *out, bool has_out = true, bool revealed = false) {
        if (rc == SPR_OK) {
            if (has_out) {
                if (!out) spr_fuzz::bug(fn, "SPR_OK with a NULL out_json");
                boost::system::error_code ec;
                (void)json::parse(out, ec);
                if (ec) spr_fuzz::bug(fn, "output is not JSON");
                if (!revealed) no_secret(fn, out);
            }
        } else {
            if (out) spr_fuzz::bug(fn, "failure left a non-NULL out_json");
            const char *e = spr_last_error();
            if (!e) spr_fuzz::bug(fn, "spr_last_error() is NULL after a failure");
            if (rc == SPR_E_INTERNAL || rc == SPR_E_CORRUPT) spr_fuzz::bug(fn, e);
            boost::system::error_code ec;
            json::value v = json::parse(e, ec);
            const auto *o = ec ? nullptr : v.if_object();
            const auto *code = o ? o->if_contains("code") : nullptr;
            if (!code || !code->is_int64() || code->as_int64() != rc)
                spr_fuzz::bug(fn, (std::string("spr_last_error() is not JSON with this code: ") + e).c_str());
            no_secret(fn, e);
        }
        return rc;
    }
    void no_secret(const char *fn, std::string_view text) const {
        if (secrets_in_input_) return;
        for (const auto &s : g.secrets)
            if (text.find(s) != std::string_view::npos) spr_fuzz::bug(fn, "a secret value in an output or error");
    }
    // Returns the output (parsed) of a call that must not fail with a bug.
    json::value call_json(const char *fn, int rc, char *out, bool revealed = false) {
        json::value v;
        if (check(fn, rc, out, true, revealed) == SPR_OK) v = json::parse(out);
        spr_free(out);
        return v;
    }
    void reopen(const std::string &options) {
        spr_close(store_);
        store_ = nullptr;
        const int rc = spr_open(path_.c_str(), options.c_str(), &store_);
        if (rc == SPR_OK) return;
        check("spr_open (reopen)", rc, nullptr, false);
        if (spr_open(path_.c_str(), kRing21.c_str(), &store_) != SPR_OK)
            spr_fuzz::bug("spr_open (full keyring)", spr_last_error());
    }
    void commit(const char *fn, char *plan, const std::string &meta);
    void export_import(bool all, const char *spinner, const std::string &text);
    void migrate();
    json::value versions(spr_store *s, const char *spinner);

    std::string_view input_;
    bool secrets_in_input_ = false;
    std::string path_;
    spr_store *store_ = nullptr;
};

std::int64_t number(unsigned char a) { return a < 0xF0 ? 1 + a % 12 : static_cast<std::int64_t>(a) - 0xF8; }

json::value Run::versions(spr_store *s, const char *spinner) {
    char *out = nullptr;
    int rc = spr_versions(s, spinner, &out);
    if (rc == SPR_E_NOT_FOUND) {
        check("spr_versions", rc, out);
        return json::array();
    }
    return call_json("spr_versions", rc, out);
}

void Run::commit(const char *fn, char *plan, const std::string &meta) {
    char *out = nullptr;
    check(fn, spr_commit_rollback(store_, plan, meta.empty() ? nullptr : meta.c_str(), &out), out);
    spr_free(out);
}

void Run::export_import(bool all, const char *spinner, const std::string &text) {
    const std::string bundle = g.dir + "/out.bundle";
    std::remove(bundle.c_str());
    const std::string &opts = text.empty() ? kBundleOpts : text;
    if (check("spr_export", spr_export(store_, all ? nullptr : spinner, bundle.c_str(), opts.c_str()), nullptr,
              false) != SPR_OK)
        return;
    char *out = nullptr;
    int rc = spr_import(store_, bundle.c_str(), kBundleOpts.c_str(), &out);
    // A bundle exported under the bundle key imports into its own store as a no-op.
    if (text.empty() && rc != SPR_OK) spr_fuzz::bug("spr_import of its own export", spr_last_error());
    check("spr_import (same store)", rc, out);
    spr_free(out);

    const std::string other = g.dir + "/other.db";
    remove_store(other);
    spr_store *fresh = nullptr;
    if (spr_open(other.c_str(), kRing2.c_str(), &fresh) != SPR_OK) spr_fuzz::bug("spr_open (other)", spr_last_error());
    out = nullptr;
    rc = spr_import(fresh, bundle.c_str(), kBundleOpts.c_str(), &out);
    if (text.empty() && rc != SPR_OK) spr_fuzz::bug("spr_import into a fresh store", spr_last_error());
    check("spr_import (fresh store)", rc, out);
    spr_free(out);
    if (rc == SPR_OK)
        for (const char *s : {"a", "b"})
            if ((all || std::strcmp(s, spinner) == 0) && versions(fresh, s) != versions(store_, s))
                spr_fuzz::bug("export/import", "the imported store lists other versions");
    spr_close(fresh);
}

void Run::migrate() {
    const std::string target = g.dir + "/migrated.db";
    remove_store(target);
    char *out = nullptr;
    int rc = spr_migrate(store_, target.c_str(), kRing21.c_str(), &out);
    check("spr_migrate", rc, out);
    spr_free(out);
    if (rc != SPR_OK) return;
    spr_store *t = nullptr;
    if (spr_open(target.c_str(), kRing21.c_str(), &t) != SPR_OK) spr_fuzz::bug("spr_open (migrated)", spr_last_error());
    for (const char *s : {"a", "b"})
        if (versions(t, s) != versions(store_, s)) spr_fuzz::bug("migrate", "the target lists other versions");
    spr_close(t);
}

void Run::op(std::string_view line) {
    const unsigned char a = line.size() > 1 ? static_cast<unsigned char>(line[1]) : 0;
    const unsigned char b = line.size() > 2 ? static_cast<unsigned char>(line[2]) : 0;
    const std::string text(line.size() > 3 ? line.substr(3) : std::string_view{});
    const char *spinner = (b & 0x80) ? "../x" : (b & 1) ? "b" : "a";
    const std::int64_t n = number(a);
    const char *opt = text.empty() ? nullptr : text.c_str();
    char *out = nullptr;
    switch (line[0]) {
    case 'r':
        check("spr_record", spr_record(store_, spinner, g.seeds[a % g.seeds.size()].c_str(), opt, &out), out);
        break;
    case 'j':
        check("spr_record (text)", spr_record(store_, spinner, text.c_str(), nullptr, &out), out);
        break;
    case 't': {
        const std::string tag = opt ? text : R"({"name":"t)" + std::to_string(b % 4) + R"(","move":)" +
                                                 ((b & 2) ? "true" : "false") + "}";
        check("spr_tag", spr_tag(store_, spinner, n, tag.c_str(), &out), out);
        break;
    }
    case 'u': {
        const std::string name = opt ? text : "t" + std::to_string(a % 4);
        check("spr_untag", spr_untag(store_, spinner, name.c_str()), nullptr, false);
        std::int64_t num = -1;
        int rc = spr_tagged_version(store_, spinner, name.c_str(), &num);
        if (rc == SPR_OK) spr_fuzz::bug("spr_tagged_version", "a tag just removed still names a version");
        check("spr_tagged_version", rc, nullptr, false);
        break;
    }
    case 's': {
        static const char *const statuses[] = {"pending", "active", "failed", "superseded"};
        check("spr_set_status", spr_set_status(store_, spinner, n, opt ? opt : statuses[b % 4]), nullptr, false);
        break;
    }
    case 'n': {
        const std::string note = opt ? text : R"({"author":"fuzz","text":"note )" + std::to_string(b) + "\"}";
        check("spr_annotate", spr_annotate(store_, spinner, n, note.c_str(), &out), out);
        break;
    }
    case 'p': {
        static const char *const requests[] = {
            nullptr,
            R"({"scope":"all"})",
            R"({"scope":["image"]})",
            R"({"scope":["env","instances"]})",
            R"({"data":{"data":{"snapshot":"snap-0"}}})",
            R"({"data":{"data":"current"}})",
            R"({"scope":["configMaps","secrets"],"data":{"data":{"snapshot":"snap-1"}}})",
            R"({"scope":"tracked"})",
        };
        const char *request = (b & 0x40) && opt ? opt : requests[(b >> 1) % 8];
        if (check("spr_plan_rollback", spr_plan_rollback(store_, spinner, n, request, &out), out) != SPR_OK) break;
        std::string meta = (b & 0x40) || !opt ? R"({"confirmed":true,"requestId":"r)" + std::to_string(a % 3) + "\"}"
                                              : text;
        commit("spr_commit_rollback", out, meta);
        break;
    }
    case 'A':
        if (check("spr_plan_auto_rollback", spr_plan_auto_rollback(store_, spinner, &out), out) != SPR_OK) break;
        commit("spr_commit_rollback (auto)", out, R"({"confirmed":true})");
        break;
    case 'P':
        check("spr_restore_points", spr_restore_points(store_, spinner, n, &out), out);
        break;
    case 'e':
        check("spr_events", spr_events(store_, static_cast<std::int8_t>(a), 1 + b % 20, &out), out);
        spr_free(out);
        out = nullptr;
        check("spr_events_wait", spr_events_wait(store_, a, 0, &out), out);
        break;
    case 'k': {
        const std::string opts =
            opt ? text : std::string(R"({"reseal":)") + ((a & 1) ? "true" : "false") +
                             R"(,"batchSize":)" + std::to_string(1 + b % 4) + "}";
        check("spr_rotate_key", spr_rotate_key(store_, opts.c_str(), &out), out);
        break;
    }
    case 'x':
        export_import(a & 1, spinner, text);
        break;
    case 'm':
        migrate();
        break;
    case 'S': {
        const std::string snap = opt ? text
                                     : R"({"id":"snap-)" + std::to_string(a % 3) +
                                           R"(","volume":"vol-data-1","sizeBytes":)" +
                                           std::to_string((1 + b % 3) << 30) + R"(,"ready":)" +
                                           ((b & 2) ? "false" : "true") + R"(,"storageClass":"standard"})";
        check("spr_snapshot_register", spr_snapshot_register(store_, snap.c_str()), nullptr, false);
        break;
    }
    case 'D': {
        const std::string id = opt ? text : "snap-" + std::to_string(a % 3);
        check("spr_snapshot_delete", spr_snapshot_delete(store_, id.c_str()), nullptr, false);
        break;
    }
    case 'i':
        check("spr_spinner_info", spr_spinner_info(store_, spinner, &out), out);
        spr_free(out), out = nullptr;
        check("spr_versions_page", spr_versions_page(store_, spinner, static_cast<std::int8_t>(a), 1 + b % 5, &out),
              out);
        spr_free(out), out = nullptr;
        check("spr_version_get", spr_version_get(store_, spinner, n, 1, &out), out, true, true);
        spr_free(out), out = nullptr;
        check("spr_version_get", spr_version_get(store_, spinner, n, 0, &out), out);
        spr_free(out), out = nullptr;
        check("spr_diff", spr_diff(store_, spinner, n, number(b), &out), out);
        spr_free(out), out = nullptr;
        check("spr_store_info", spr_store_info(store_, &out), out);
        spr_free(out), out = nullptr;
        check("spr_spinners", spr_spinners(store_, &out), out);
        spr_free(out), out = nullptr;
        check("spr_snapshots", spr_snapshots(store_, nullptr, &out), out);
        break;
    case 'o':
        switch (a % 5) {
        case 0: reopen(kRing1); break;
        case 1: reopen(kRing21); break;
        case 2: reopen(kRing2); break;
        case 3:
            reopen(R"({"keys":[{"id":"k2","key":")" + kKey2 + R"("},{"id":"k1","key":")" + kKey1 +
                   R"("}],"durability":"normal","maxTaggedVersions":)" + std::to_string(1 + b % 3) +
                   R"(,"eventsLimit":)" + std::to_string(1 + b % 5) + "}");
            break;
        default: reopen(text); break;
        }
        return;
    default:
        return;
    }
    spr_free(out);
}

void Run::check_invariants() {
    reopen(kRing21); // an 'o' may have left it open without a key
    for (const char *s : {"a", "b"}) {
        const json::value list = versions(store_, s);
        const auto &arr = list.as_array();
        std::int64_t prev = INT64_MAX;
        for (std::size_t i = 0; i < arr.size(); ++i) {
            const auto &v = arr[i].as_object();
            const std::int64_t num = v.at("number").as_int64();
            if (num >= prev) spr_fuzz::bug("invariant", "versions are not listed newest first");
            prev = num;
            if (v.at("current").as_bool() != (i == 0)) spr_fuzz::bug("invariant", "not exactly the newest is current");
            char *out = nullptr;
            if (spr_version_get(store_, s, num, 1, &out) != SPR_OK)
                spr_fuzz::bug("invariant: a listed version does not read back", spr_last_error());
            spr_free(out);
        }
    }
    char *out = nullptr;
    const json::value page = call_json("spr_events", spr_events(store_, 0, 10000, &out), out);
    const auto &events = page.at("events").as_array();
    for (std::size_t i = 1; i < events.size(); ++i)
        if (events[i].at("seq").as_int64() != events[i - 1].at("seq").as_int64() + 1)
            spr_fuzz::bug("invariant", "event numbers have a gap");
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
    const char *base = std::getenv("SPR_FUZZ_TMPDIR");
    if (!base) base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    std::string templ = std::string(base) + "/spr-fuzz-ops-XXXXXX";
    if (!mkdtemp(templ.data())) spr_fuzz::bug("init", "mkdtemp failed");
    g.dir = templ;
    std::atexit(cleanup);
    if (const char *uri = std::getenv("SPR_FUZZ_POSTGRES")) {
        g.admin = PQconnectdb(uri);
        if (PQstatus(g.admin) != CONNECTION_OK) spr_fuzz::bug("SPR_FUZZ_POSTGRES", PQerrorMessage(g.admin));
        PQclear(PQexec(g.admin, "SET client_min_messages = warning"));
        g.pg_store = std::string(uri) + (std::string_view(uri).find('?') == std::string_view::npos ? "?" : "&") +
                     "options=-csearch_path%3Dspr_fuzz_ops";
    }
    for (const char *name : {"shop_v1.json", "shop_v2.json", "shop_v1_config_changed.json",
                             "shop_v1_dedicated_volume.json", "shop_v1_history_limit_2.json",
                             "shop_v1_rollback_disabled.json", "shop_v1_untracked_changed.json", "plain_v1.json",
                             "plain_v2.json", "minimal.json"}) {
        std::string s = spr_fuzz::seed_document(name);
        if (s.empty()) continue;
        collect_secrets(json::parse(s));
        g.seeds.push_back(std::move(s));
    }
    if (g.seeds.empty()) g.seeds = {spr_fuzz::kMinimalV1, spr_fuzz::kMinimalV2};
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const std::string_view in(reinterpret_cast<const char *>(data), size);
    Run run(in);
    std::size_t pos = 0, ops = 0;
    while (pos < in.size() && ops < 48) {
        std::size_t end = in.find('\n', pos);
        if (end == std::string_view::npos) end = in.size();
        std::string_view line = in.substr(pos, end - pos);
        pos = end + 1;
        if (line.empty()) continue;
        // The C API takes NUL-terminated strings: a NUL ends the line's text.
        if (std::size_t nul = line.find('\0'); nul != std::string_view::npos && nul >= 3) line = line.substr(0, nul);
        run.op(line);
        ++ops;
    }
    run.check_invariants();
    return 0;
}
