// Export, import and migration (docs/bundles.md) on real SQLite files and
// PostgreSQL schemas: exact round trips, idempotent imports, refusals that
// write nothing, hostile bundles refused with the line and the reason.
#include <catch2/catch.hpp>

#include "fixtures.hpp"

#include <sodium.h>

#include <algorithm>
#include <fstream>
#include <sstream>

using namespace spinner_rollback;
using namespace fixtures;

namespace {

const std::string kBundleKey = std::string(64, '5');

BundleOptions bundle_key(const std::string &key = kBundleKey) {
    BundleOptions o;
    o.key = key;
    return o;
}

std::string state(int i, const std::string &secret) {
    return with([&](json::object &s) {
        container(s)["codeVersion"] = "c" + std::to_string(i);
        s["secrets"].as_object()["db"].as_object()["password"] = secret;
    });
}

// The state without its secret (and the env entry and mount that use it).
std::string no_secret_state() {
    return with([](json::object &st) {
        st.erase("secrets");
        auto &c = container(st);
        c["env"].as_array().erase(c["env"].as_array().begin() + 1);
        c["mounts"].as_array().erase(c["mounts"].as_array().begin() + 1);
    });
}

// A store with two spinners: secrets, a rollback, statuses, tags, notes, snapshots.
void fill(VersionStore &s) {
    for (int i = 1; i <= 5; ++i) s.record("shop", state(i, "pw-" + std::to_string(i % 3) + "-" + kSecretValue));
    s.set_status("shop", 4, RolloutStatus::active);
    s.set_status("shop", 5, RolloutStatus::failed);
    TagRequest t;
    t.name = "golden";
    t.note = "known good";
    t.author = "ops";
    s.tag("shop", 2, t);
    s.annotate("shop", 3, Note{"alice", "watch the latency", ""});
    Snapshot snap;
    snap.id = "snap-1";
    snap.volume = "vol-7f3a";
    snap.size_bytes = 1 << 30;
    snap.created_at = "2026-12-01T10:00:00Z";
    snap.ready = true;
    s.register_snapshot(snap);
    RollbackPlanner planner(s);
    planner.commit(planner.plan("shop", 2));
    s.record("plain", no_secret_state());
}

// Everything a reader can see of a store's histories, as text.
std::string everything(VersionStore &s, bool reveal) {
    std::string out;
    for (const auto &name : s.spinners()) {
        out += s.spinner_info(name).to_json() + "\n";
        for (const auto &v : s.versions(name)) {
            auto d = s.get(name, v.number, reveal);
            out += d.to_json() + "\n";
            out += s.restore_points(name, v.number).to_json() + "\n";
        }
    }
    return out;
}

std::string read_file(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void write_file(const std::string &path, const std::string &text) { std::ofstream(path, std::ios::binary) << text; }

std::vector<std::string> lines_of(const std::string &text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
}

// The lines joined again with a fresh end line: a bundle someone altered
// and then re-hashed (so only the deeper checks can catch it).
std::string rehashed(std::vector<std::string> lines) {
    lines.pop_back();
    std::string body;
    for (const auto &l : lines) body += l + "\n";
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, reinterpret_cast<const unsigned char *>(body.data()), body.size());
    char hex[2 * sizeof h + 1];
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    return body + R"({"end":{"lines":)" + std::to_string(lines.size() + 1) + R"(,"sha256":")" + hex + "\"}}\n";
}

} // namespace

TEST_CASE("export then import into an empty store gives the same history, digests and secrets", "[store][bundle]") {
    TempDir dir;
    auto a = VersionStore::open(dir.store("a"), keyed());
    fill(*a);
    const std::string file = dir.file("all.bundle");
    const ExportResult ex = a->export_bundle("", file, bundle_key());
    CHECK(ex.spinners == 2);
    CHECK(ex.versions == 7);
    CHECK(ex.secrets == 3);
    CHECK(ex.snapshots == 1);
    CHECK_FALSE(std::filesystem::exists(file + ".partial"));
    // Secret values never appear in the bundle, sealed or not.
    const std::string text = read_file(file);
    CHECK(text.find(kSecretValue) == std::string::npos);
    CHECK(text.find(a->info().store_id) != std::string::npos);

    StoreOptions other_key;
    other_key.key = std::string(64, '9'); // another store key: only the bundle key is shared
    auto b = VersionStore::open(dir.store("b"), other_key);
    const ImportResult im = b->import_bundle(file, bundle_key());
    CHECK(im.source_store_id == a->info().store_id);
    CHECK(im.spinners_imported == 2);
    CHECK(im.versions_imported == 7);
    CHECK(im.snapshots_imported == 1);
    CHECK(everything(*b, true) == everything(*a, true));
    CHECK(b->tagged("shop", "golden") == 2);
    // The lineage was adopted: an unchanged secret is still unchanged, so
    // recording the current state again creates nothing...
    auto cur = a->get("shop", 6, true);
    CHECK(b->record("shop", cur.state_json).outcome == Outcome::unchanged);
    // ...and a new version with version 1's secret deduplicates against it.
    auto v1 = a->get("shop", 1, true);
    CHECK(b->record("shop", v1.state_json).version->digest == a->versions("shop").back().digest);
    // An event per imported spinner.
    bool saw = false;
    for (const auto &e : b->events(0, 100).events) saw = saw || (e.type == "spinner.imported" && e.spinner == "shop");
    CHECK(saw);

    // "shop" has moved on here since: importing again is a conflict.
    CHECK(error_of([&] { b->import_bundle(file, bundle_key()); }).code() == ErrorCode::conflict);
}

TEST_CASE("importing the same bundle twice changes nothing", "[store][bundle]") {
    TempDir dir;
    auto a = VersionStore::open(dir.store("a"), keyed());
    fill(*a);
    const std::string file = dir.file("b1");
    a->export_bundle("", file, bundle_key());
    auto b = VersionStore::open(dir.store("b"), keyed());
    b->import_bundle(file, bundle_key());
    const std::string before = everything(*b, true);
    const auto events_before = b->events(0, 1000).events.size();
    const ImportResult again = b->import_bundle(file, bundle_key());
    CHECK(again.spinners_imported == 0);
    CHECK(again.spinners_skipped == 2);
    CHECK(again.versions_skipped == 7);
    CHECK(again.snapshots_skipped == 1);
    CHECK(everything(*b, true) == before);
    CHECK(b->events(0, 1000).events.size() == events_before);
}

TEST_CASE("a conflicting history or lineage is refused whole", "[store][bundle]") {
    TempDir dir;
    auto a = VersionStore::open(dir.store("a"), keyed());
    fill(*a);
    const std::string file = dir.file("b1");
    a->export_bundle("", file, bundle_key());

    // Another "shop" here: conflict, and "plain" is not imported either.
    auto b = VersionStore::open(dir.store("b"));
    b->record("shop", no_secret_state());
    StoreOptions k;
    k.key = kKey;
    b.reset();
    b = VersionStore::open(dir.store("b"), k);
    Error e = error_of([&] { b->import_bundle(file, bundle_key()); });
    CHECK(e.code() == ErrorCode::conflict);
    CHECK(std::string(e.what()).find("\"shop\"") != std::string::npos);
    CHECK(b->spinners() == std::vector<std::string>{"shop"});
    // The refused import made a data key and adopted the bundle's MAC key in
    // its transaction; both rolled back, so this handle must not seal under
    // them (found by fuzz_ops: the secret recorded next could not be revealed
    // once the store was reopened).
    b->record("web", state(1, "after-" + kSecretValue));
    b.reset();
    b = VersionStore::open(dir.store("b"), k);
    CHECK(json::parse(b->get("web", 1, true).state_json).at("secrets").at("db").at("password").as_string() ==
          "after-" + kSecretValue);

    // Secrets here under another MAC key: conflict, saying why.
    auto c = VersionStore::open(dir.store("c"), keyed());
    c->record("other", state(1, "mine"));
    e = error_of([&] { c->import_bundle(file, bundle_key()); });
    CHECK(e.code() == ErrorCode::conflict);
    CHECK(std::string(e.what()).find("MAC key") != std::string::npos);
    CHECK(c->spinners() == std::vector<std::string>{"other"});
}

TEST_CASE("bundle keys: needed for secrets, checked, never optional", "[store][bundle]") {
    TempDir dir;
    auto a = VersionStore::open(dir.store("a"), keyed());
    fill(*a);
    const std::string file = dir.file("b1");
    Error e = error_of([&] { a->export_bundle("", file, {}); });
    CHECK(e.code() == ErrorCode::no_key);
    CHECK_FALSE(std::filesystem::exists(file));
    // Without secrets no key is needed.
    CHECK(a->export_bundle("plain", dir.file("plain"), {}).versions == 1);
    a->export_bundle("shop", file, bundle_key());
    auto b = VersionStore::open(dir.store("b"), keyed());
    CHECK(error_of([&] { b->import_bundle(file, {}); }).code() == ErrorCode::no_key);
    e = error_of([&] { b->import_bundle(file, bundle_key(std::string(64, '6'))); });
    CHECK(e.code() == ErrorCode::no_key);
    CHECK(e.path() == "options.key");
    auto nokey = VersionStore::open(dir.store("n"));
    CHECK(error_of([&] { nokey->import_bundle(file, bundle_key()); }).code() == ErrorCode::no_key);
    CHECK(b->spinners().empty());
    CHECK(nokey->spinners().empty());
    CHECK(b->import_bundle(dir.file("plain"), {}).spinners_imported == 1);
    CHECK(b->import_bundle(file, bundle_key()).spinners_imported == 1);
    CHECK(error_of([] { BundleOptions::from_json(R"({"key": "nope"})"); }).path() == "options.key");
    CHECK(error_of([] { BundleOptions::from_json(R"({"keys": 1})"); }).path() == "options.keys");
}

TEST_CASE("hostile and truncated bundles are refused with the line and reason, nothing written", "[store][bundle]") {
    TempDir dir;
    auto a = VersionStore::open(dir.store("a"), keyed());
    fill(*a);
    const std::string file = dir.file("good");
    a->export_bundle("", file, bundle_key());
    const std::string good = read_file(file);
    const auto lines = lines_of(good);
    auto b = VersionStore::open(dir.store("b"), keyed());
    auto refused = [&](const std::string &text, const std::string &why) {
        const std::string bad = dir.file("bad");
        write_file(bad, text);
        Error e = error_of([&] { b->import_bundle(bad, bundle_key()); });
        INFO(e.what());
        CHECK(e.code() == ErrorCode::invalid);
        CHECK(std::string(e.what()).find(why) != std::string::npos);
        CHECK(e.path().rfind("bundle:", 0) == 0);
        CHECK(b->spinners().empty());
        return e;
    };
    // Cut short anywhere: the end line is missing or wrong.
    refused(good.substr(0, good.size() / 2), "line");
    std::string cut;
    for (std::size_t i = 0; i + 1 < lines.size(); ++i) cut += lines[i] + "\n";
    refused(cut, "cut short");
    // One byte altered: the sha256 of the end line does not match.
    std::string flipped = good;
    flipped.replace(flipped.find("known good"), 10, "known gooe");
    refused(flipped, "altered");
    // A newer format.
    std::string newer = good;
    newer.replace(newer.find("\"format\":1"), 10, "\"format\":2");
    Error e = refused(newer, "newer than this library reads");
    CHECK(e.path() == "bundle:1");
    refused("", "empty");
    refused("not json\n", "bundle line 1: not JSON");
    // Altered and re-hashed: the deeper checks catch it.
    auto swap = [&](const std::string &needle, const std::string &from, const std::string &to) {
        auto ls = lines;
        for (auto &l : ls)
            if (l.find(needle) != std::string::npos && l.find(from) != std::string::npos) {
                l.replace(l.find(from), from.size(), to);
                return rehashed(ls);
            }
        FAIL("no line with " << needle << " and " << from);
        return std::string();
    };
    refused(swap("\"kind\":\"core\"", "c3", "c9"), "does not match its id");
    refused(swap("\"kind\":\"secret\"", "\"sealed\":\"", "\"sealed\":\"AAAA"), "does not open under the bundle's key");
    refused(swap("\"version\":2", "\"status\":\"", "\"status\":\"x"), "unknown value");
    refused(swap("\"version\":2", "\"version\":2", "\"version\":1"), "increasing order");
    refused(swap("\"spinner\":\"shop\"", "\"spinner\":\"shop\"", "\"spinner\":\"Shop!\""), "bundle line");
    refused(swap("\"tag\":\"golden\"", "\"version\":2", "\"version\":99"), "integer");
    refused(swap("\"spinner\":\"shop\"", "\"tagged\":", "\"evil\":1,\"tagged\":"), "unknown field \"evil\"");
    // Lines out of order.
    auto ls = lines;
    std::swap(ls[1], ls[2]);
    refused(rehashed(ls), "bundle line");
    // The good bundle still imports after all this.
    CHECK(b->import_bundle(file, bundle_key()).spinners_imported == 2);
}

TEST_CASE("the tag lines alone decide which versions are tagged", "[store][bundle]") {
    TempDir dir;
    auto a = VersionStore::open(dir.store("a"), keyed());
    fill(*a);
    const std::string file = dir.file("good");
    a->export_bundle("shop", file, bundle_key());
    auto lines = lines_of(read_file(file));
    // A crafted bundle that says nothing is tagged, but keeps the tag line:
    // the version is tagged after import (retention will keep it).
    auto crafted = lines;
    for (auto &l : crafted) {
        if (l.rfind("{\"spinner\"", 0) == 0) l.replace(l.find("\"tagged\":1"), 10, "\"tagged\":0");
        if (l.rfind("{\"version\":2,", 0) == 0) {
            const auto at = l.find("\"tags\":[");
            REQUIRE(at != std::string::npos);
            l.replace(at, l.find("]", at) + 1 - at, "\"tags\":null");
        }
    }
    const std::string bad = dir.file("crafted");
    write_file(bad, rehashed(crafted));
    auto b = VersionStore::open(dir.store("b"), keyed());
    b->import_bundle(bad, bundle_key());
    CHECK(b->tagged("shop", "golden") == 2);
    const auto va = a->versions("shop"), vb = b->versions("shop");
    REQUIRE(va.size() == vb.size());
    for (std::size_t i = 0; i < va.size(); ++i) CHECK(va[i].to_json() == vb[i].to_json());
    // Tags claimed by a version without a tag line are dropped.
    auto untagged = lines;
    untagged.erase(std::remove_if(untagged.begin(), untagged.end(),
                                  [](const std::string &l) { return l.rfind("{\"tag\"", 0) == 0; }),
                   untagged.end());
    write_file(bad, rehashed(untagged));
    auto c = VersionStore::open(dir.store("c"), keyed());
    c->import_bundle(bad, bundle_key());
    CHECK(error_of([&] { c->tagged("shop", "golden"); }).code() == ErrorCode::not_found);
    for (const auto &v : c->versions("shop")) CHECK(v.tags.empty());
    // A tag name that is not a DNS label, or twice: refused.
    auto twice = lines;
    for (std::size_t i = 0; i < twice.size(); ++i)
        if (twice[i].rfind("{\"tag\"", 0) == 0) {
            twice.insert(twice.begin() + static_cast<std::ptrdiff_t>(i), twice[i]);
            break;
        }
    write_file(bad, rehashed(twice));
    auto d = VersionStore::open(dir.store("d"), keyed());
    Error e = error_of([&] { d->import_bundle(bad, bundle_key()); });
    CHECK(e.code() == ErrorCode::invalid);
    CHECK(std::string(e.what()).find("appears twice") != std::string::npos);
    CHECK(d->spinners().empty());
}

TEST_CASE("migrate_to copies every spinner and verifies it", "[store][bundle][migrate]") {
    TempDir dir;
    auto a = VersionStore::open(dir.store("a"), keyed());
    fill(*a);
    const std::string target = dir.store("b");
    const MigrateResult m = a->migrate_to(target, keyed());
    CHECK(m.versions_verified == 7);
    CHECK(m.imported.spinners_imported == 2);
    CHECK(m.target_store_id != a->info().store_id);
    auto b = VersionStore::open(target, keyed());
    CHECK(everything(*b, true) == everything(*a, true));
    // Running it again skips everything and still verifies.
    const MigrateResult again = a->migrate_to(target, keyed());
    CHECK(again.imported.spinners_skipped == 2);
    CHECK(again.versions_verified == 7);
    CHECK(m.to_json().find("\"versionsVerified\":7") != std::string::npos);
}

TEST_CASE("50 spinners x 200 versions with secrets migrate to the other engine and back, then work",
          "[store][bundle][migrate]") {
    // The source is always a SQLite file; the target is this run's engine
    // (PostgreSQL in the conformance run), and the copy comes back to SQLite.
    TempDir dir;
    const std::string source = dir.file("source.db");
    StoreOptions fast = keyed();
    fast.durability = Durability::normal;
    auto a = VersionStore::open(source, fast);
    for (int sp = 0; sp < 50; ++sp) {
        const std::string name = "app-" + std::to_string(sp);
        for (int n = 1; n <= 200; ++n)
            a->record(name, with([&](json::object &s) {
                          s["settings"].as_object()["rollback"].as_object()["historyLimit"] = 500;
                          container(s)["codeVersion"] = "c" + std::to_string(n);
                          // Secrets repeat (every 7th), so deduplication and lineage matter.
                          s["secrets"].as_object()["db"].as_object()["password"] =
                              "pw-" + std::to_string(sp) + "-" + std::to_string(n % 7);
                      }));
    }
    a->tag("app-3", 17, TagRequest{"golden", "good one", "ops", false});
    a->set_status("app-3", 200, RolloutStatus::active);

    const std::string target = dir.store("target");
    const MigrateResult m = a->migrate_to(target, fast);
    CHECK(m.versions_verified == 10000);
    CHECK(m.imported.spinners_imported == 50);

    // Checked independently of migrate_to's own check: every version, field
    // by field, and every secret revealed.
    auto b = VersionStore::open(target, fast);
    CHECK(b->spinners() == a->spinners());
    for (const auto &name : a->spinners()) {
        const auto va = a->versions(name), vb = b->versions(name);
        REQUIRE(va.size() == 200);
        REQUIRE(vb.size() == 200);
        for (std::size_t i = 0; i < va.size(); ++i) REQUIRE(va[i].to_json() == vb[i].to_json());
        CHECK(b->get(name, 1, true).to_json() == a->get(name, 1, true).to_json());
        CHECK(b->get(name, 200, true).to_json() == a->get(name, 200, true).to_json());
    }
    // The migrated store works like the source: an unchanged state is
    // unchanged, a rollback commits, secrets still deduplicate.
    const auto current = a->get("app-3", 200, true);
    CHECK(b->record("app-3", current.state_json).outcome == Outcome::unchanged);
    RollbackPlanner planner(*b);
    const Version rb = planner.commit(planner.plan("app-3", b->tagged("app-3", "golden")));
    CHECK(rb.number == 201);
    CHECK(rb.digest == b->get("app-3", 17).version.digest);
    CHECK(b->diff("app-3", 17, 201).changes.empty());

    // And back to SQLite: the same history again.
    const std::string back = dir.file("back.db");
    const MigrateResult m2 = b->migrate_to(back, fast);
    CHECK(m2.versions_verified == 10001);
    auto c = VersionStore::open(back, fast);
    for (const auto &name : {std::string("app-0"), std::string("app-3"), std::string("app-49")}) {
        const auto vb = b->versions(name), vc = c->versions(name);
        REQUIRE(vb.size() == vc.size());
        for (std::size_t i = 0; i < vb.size(); ++i) CHECK(vb[i].to_json() == vc[i].to_json());
    }
}
