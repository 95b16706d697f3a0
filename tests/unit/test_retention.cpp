// Operators steer history (issue [3/6]): tags pin versions outside
// historyLimit, the newest active version is kept, notes are appended after
// the fact, and expectedCurrent makes writes compare-and-set. On real SQLite
// files and PostgreSQL schemas.
#include <catch2/catch.hpp>

#include "fixtures.hpp"

#include <set>

using namespace spinner_rollback;
using namespace fixtures;

namespace {

// Version i of the spinner: env MODE = "v<i>", with historyLimit `limit`.
std::string state(int i, int limit = 20) {
    return with([&](auto &s) {
        container(s)["env"].as_array()[0].as_object()["value"] = "v" + std::to_string(i);
        s["settings"].as_object()["rollback"].as_object()["historyLimit"] = limit;
    });
}

std::vector<std::int64_t> numbers(VersionStore &store, const std::string &spinner = "shop") {
    std::vector<std::int64_t> out;
    for (const auto &v : store.versions(spinner)) out.push_back(v.number);
    return out;
}

TagRequest tag(std::string name, bool move = false) {
    TagRequest t;
    t.name = std::move(name);
    t.note = "known good";
    t.author = "ops";
    t.move = move;
    return t;
}

} // namespace

TEST_CASE("tagged versions are never pruned and do not count toward historyLimit", "[store][tags]") {
    TempDir dir;
    auto store = VersionStore::open(dir.store(), keyed());
    store->record("shop", state(1, 3));
    store->record("shop", state(2, 3));
    const Version golden = store->tag("shop", 2, tag("golden"));
    REQUIRE(golden.tags.size() == 1);
    CHECK(golden.tags[0].name == "golden");
    CHECK(golden.tags[0].note == "known good");
    CHECK(golden.tags[0].author == "ops");
    CHECK(!golden.tags[0].created_at.empty());
    for (int i = 3; i <= 12; ++i) store->record("shop", state(i, 3));
    // current (12) + the newest 3 older untagged (11, 10, 9) + the tagged one
    CHECK(numbers(*store) == std::vector<std::int64_t>{12, 11, 10, 9, 2});
    CHECK(store->versions("shop").back().tags.at(0).name == "golden");
    CHECK(store->get("shop", 2).version.tags.at(0).name == "golden");
    CHECK(store->tagged("shop", "golden") == 2);

    SECTION("a tag inside the window frees a place: the window reaches one further back") {
        store->tag("shop", 10, tag("canary"));
        store->record("shop", state(13, 3));
        // older untagged: 12, 11, 9 (10 is tagged, 2 is tagged)
        CHECK(numbers(*store) == std::vector<std::int64_t>{13, 12, 11, 10, 9, 2});
    }
    SECTION("historyLimit 1 with tags: the current, one older, and every tagged version") {
        store->tag("shop", 9, tag("also"));
        store->record("shop", state(13, 1));
        CHECK(numbers(*store) == std::vector<std::int64_t>{13, 12, 9, 2});
        store->record("shop", state(14, 1));
        CHECK(numbers(*store) == std::vector<std::int64_t>{14, 13, 9, 2});
    }
    SECTION("untag: the version is subject to retention again from the next write") {
        store->untag("shop", "golden");
        CHECK(numbers(*store) == std::vector<std::int64_t>{12, 11, 10, 9, 2}); // nothing removed yet
        CHECK(store->versions("shop").back().tags.empty());
        store->record("shop", state(13, 3));
        CHECK(numbers(*store) == std::vector<std::int64_t>{13, 12, 11, 10});
        CHECK(error_of([&] { store->tagged("shop", "golden"); }).code() == ErrorCode::not_found);
    }
    SECTION("a rollback to the tagged version works after its neighbours are gone") {
        RollbackPlanner planner(*store);
        const Version v = planner.commit(planner.plan("shop", 2));
        CHECK(v.rollback_of == 2);
        REQUIRE(v.scope);
        CHECK(v.scope->kind == RollbackScope::Kind::tracked);
        CHECK(store->versions("shop").front().to_json().find("\"scope\":\"tracked\"") != std::string::npos);
    }
}

TEST_CASE("the newest active version is never pruned", "[store][tags]") {
    TempDir dir;
    auto store = VersionStore::open(dir.store(), keyed());
    store->record("shop", state(1, 2));
    store->set_status("shop", 1, RolloutStatus::active);
    for (int i = 2; i <= 6; ++i) store->record("shop", state(i, 2));
    CHECK(numbers(*store) == std::vector<std::int64_t>{6, 5, 4, 1});
    store->set_status("shop", 5, RolloutStatus::active); // 1 becomes superseded
    store->record("shop", state(7, 2));
    CHECK(numbers(*store) == std::vector<std::int64_t>{7, 6, 5});
}

TEST_CASE("tags: unique names, move, caps, bad input changes nothing", "[store][tags]") {
    TempDir dir;
    StoreOptions o = keyed();
    o.max_tagged_versions = 2;
    auto store = VersionStore::open(dir.store(), o);
    for (int i = 1; i <= 4; ++i) store->record("shop", state(i));
    store->tag("shop", 1, tag("golden"));

    // a taken name without move: conflict, nothing changes
    Error e = error_of([&] { store->tag("shop", 2, tag("golden")); });
    CHECK(e.code() == ErrorCode::conflict);
    CHECK(e.path() == "tag.name");
    CHECK(std::string(e.what()).find("version 1") != std::string::npos);
    CHECK(store->tagged("shop", "golden") == 1);

    // with move: the name moves, version 1 has no tag left
    CHECK(store->tag("shop", 2, tag("golden", true)).tags.at(0).name == "golden");
    CHECK(store->tagged("shop", "golden") == 2);
    CHECK(store->get("shop", 1).version.tags.empty());

    // tagging the holder again updates the note, keeps one tag
    TagRequest again = tag("golden");
    again.note = "checkout verified";
    const Version v2 = store->tag("shop", 2, again);
    REQUIRE(v2.tags.size() == 1);
    CHECK(v2.tags[0].note == "checkout verified");

    // a second name on the same version does not count as another tagged version
    store->tag("shop", 2, tag("prod"));
    store->tag("shop", 3, tag("canary"));
    e = error_of([&] { store->tag("shop", 4, tag("extra")); });
    CHECK(e.code() == ErrorCode::conflict);
    CHECK(std::string(e.what()).find("maxTaggedVersions 2") != std::string::npos);
    CHECK(store->get("shop", 4).version.tags.empty());
    // moving a version's only tag elsewhere keeps the count: allowed
    CHECK(store->tag("shop", 4, tag("canary", true)).tags.at(0).name == "canary");

    CHECK(error_of([&] { store->tag("shop", 1, tag("Not_A_Label")); }).path() == "tag.name");
    TagRequest long_note = tag("long");
    long_note.note.assign(4097, 'x');
    CHECK(error_of([&] { store->tag("shop", 1, long_note); }).path() == "tag.note");
    TagRequest long_author = tag("long");
    long_author.author.assign(257, 'x');
    CHECK(error_of([&] { store->tag("shop", 1, long_author); }).path() == "tag.author");
    CHECK(error_of([&] { store->tag("shop", 99, tag("x")); }).code() == ErrorCode::not_found);
    CHECK(error_of([&] { store->tag("nope", 1, tag("x")); }).code() == ErrorCode::not_found);
    CHECK(error_of([&] { store->untag("shop", "missing"); }).code() == ErrorCode::not_found);
    CHECK(error_of([&] { TagRequest::from_json(R"({"note":"x"})"); }).path() == "tag.name");
    CHECK(error_of([&] { TagRequest::from_json(R"({"name":"a","color":"red"})"); }).path() == "tag.color");
    CHECK(error_of([&] { StoreOptions::from_json(R"({"maxTaggedVersions":0})"); }).path() ==
          "options.maxTaggedVersions");
    CHECK(StoreOptions::from_json(R"({"maxTaggedVersions":7})").max_tagged_versions == 7);
}

TEST_CASE("notes are appended after the fact; a retried note is not doubled", "[store][notes]") {
    TempDir dir;
    auto store = VersionStore::open(dir.store(), keyed());
    store->record("shop", state(1));
    store->record("shop", state(2));
    Note n;
    n.author = "oncall";
    n.text = "v2 broke checkout";
    VersionNotes out = store->annotate("shop", 2, n);
    REQUIRE(out.notes.size() == 1);
    CHECK(out.number == 2);
    CHECK(store->annotate("shop", 2, n).notes.size() == 1); // a retry
    n.text = "root cause: FLAGS";
    CHECK(store->annotate("shop", 2, n).notes.size() == 2);
    const VersionDetail d = store->get("shop", 2);
    REQUIRE(d.notes.size() == 2);
    CHECK(d.notes[0].text == "v2 broke checkout");
    CHECK(d.notes[1].author == "oncall");
    CHECK(d.to_json().find("\"notes\":[{\"author\":\"oncall\",\"text\":\"v2 broke checkout\"") != std::string::npos);
    CHECK(store->get("shop", 1).notes.empty());
    // bad input: refused naming the field, nothing appended
    CHECK(error_of([&] { Note::from_json(R"({"author":"x"})"); }).path() == "note.text");
    Note empty;
    CHECK(error_of([&] { store->annotate("shop", 2, empty); }).path() == "note.text");
    CHECK(store->get("shop", 2).notes.size() == 2);
    CHECK(error_of([&] { store->annotate("shop", 3, n); }).code() == ErrorCode::not_found);
}

TEST_CASE("expectedCurrent: a write happens only on the expected current version", "[store][cas]") {
    TempDir dir;
    auto store = VersionStore::open(dir.store(), keyed());
    ChangeMeta m;
    m.expected_current = 1; // the spinner has no version yet: 0 is expected
    Error e = error_of([&] { store->record("shop", state(1), m); });
    CHECK(e.code() == ErrorCode::conflict);
    CHECK(e.path() == "meta.expectedCurrent");
    CHECK(store->spinners().empty()); // nothing written
    m.expected_current = 0;
    CHECK(store->record("shop", state(1), m).version->number == 1);

    m.expected_current = 0; // stale
    CHECK(error_of([&] { store->record("shop", state(2), m); }).code() == ErrorCode::conflict);
    CHECK(error_of([&] { store->record("shop", state(1), m); }).code() == ErrorCode::conflict); // also unchanged
    CHECK(numbers(*store) == std::vector<std::int64_t>{1});
    m.expected_current = 1;
    CHECK(store->record("shop", state(2), m).version->number == 2);

    // a retry with the same requestId returns the first result, not a conflict
    m.request_id = "deploy-3";
    m.expected_current = 2;
    CHECK(store->record("shop", state(3), m).version->number == 3);
    CHECK(store->record("shop", state(3), m).version->number == 3);

    // commit: the plan's base and expectedCurrent must both hold
    RollbackPlanner planner(*store);
    const Plan p = planner.plan("shop", 1);
    ChangeMeta c;
    c.expected_current = 2;
    CHECK(error_of([&] { planner.commit(p, c); }).code() == ErrorCode::conflict);
    CHECK(numbers(*store) == std::vector<std::int64_t>{3, 2, 1});
    c.expected_current = 3;
    CHECK(planner.commit(p, c).number == 4);

    CHECK(ChangeMeta::from_json(R"({"expectedCurrent":5})").expected_current == 5);
    CHECK(error_of([&] { ChangeMeta::from_json(R"({"expectedCurrent":-1})"); }).path() == "meta.expectedCurrent");
    CHECK(error_of([&] { ChangeMeta::from_json(R"({"expectedCurrent":"5"})"); }).path() == "meta.expectedCurrent");
}

TEST_CASE("the active version counts toward historyLimit when it is among the newest older versions",
          "[store][retention]") {
    // Found by the model-based test: as a retention candidate the active
    // version was skipped without being counted, so lowering the limit
    // without a new version kept one version too many.
    TempDir dir;
    auto store = VersionStore::open(dir.store(), keyed());
    store->record("shop", state(1, 1));
    store->record("shop", state(2, 1));
    store->set_status("shop", 2, RolloutStatus::active);
    store->record("shop", state(3, 2));
    CHECK(numbers(*store) == std::vector<std::int64_t>{3, 2, 1});
    CHECK(store->record("shop", state(3, 1)).outcome == Outcome::unchanged);
    CHECK(numbers(*store) == std::vector<std::int64_t>{3, 2});
    // Beyond the limit it is kept all the same.
    store->record("shop", state(4, 1));
    store->set_status("shop", 2, RolloutStatus::active);
    store->record("shop", state(5, 1));
    CHECK(numbers(*store) == std::vector<std::int64_t>{5, 4, 2});
}
