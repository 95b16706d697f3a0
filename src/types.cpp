// JSON forms of the public value types.
#include "clock.hpp"
#include "json.hpp"
#include "crypto.hpp"
#include "names.hpp"
#include "reasons.hpp"
#include "scope.hpp"
#include "state_schema.hpp"

#include <spinner_rollback/rollback_planner.hpp>
#include <spinner_rollback/spinner_rollback.hpp>

namespace spinner_rollback {

using namespace detail;

const char *version_string() noexcept { return SPR_VERSION_STRING; }

namespace {

json::value tag_value(const Tag &t) {
    return json::object{{"name", t.name}, {"note", t.note}, {"author", t.author}, {"createdAt", t.created_at}};
}

json::value note_value(const Note &n) {
    return json::object{{"author", n.author}, {"text", n.text}, {"createdAt", n.created_at}};
}

json::value version_value(const Version &v) {
    json::object o{{"spinner", v.spinner},
                   {"number", v.number},
                   {"current", v.current},
                   {"createdAt", v.created_at},
                   {"author", v.author},
                   {"message", v.message},
                   {"reason", to_string(v.reason)},
                   {"reasons", reasons_json(v.reasons)},
                   {"summary", v.summary},
                   {"digest", v.digest},
                   {"rollbackOf", v.rollback_of ? json::value(*v.rollback_of) : json::value(nullptr)},
                   {"scope", v.scope ? scope_value(*v.scope) : json::value(nullptr)},
                   {"status", to_string(v.status)}};
    json::array tags;
    for (const auto &t : v.tags) tags.push_back(tag_value(t));
    o["tags"] = std::move(tags);
    return o;
}


} // namespace

std::string Version::to_json() const { return dump(version_value(*this)); }

std::string VersionDetail::to_json() const {
    json::value v = version_value(version);
    v.get_object()["state"] = json::parse(state_json);
    json::array notes_json;
    for (const auto &n : notes) notes_json.push_back(note_value(n));
    v.get_object()["notes"] = std::move(notes_json);
    return dump(v);
}

std::string VersionNotes::to_json() const {
    json::array arr;
    for (const auto &n : notes) arr.push_back(note_value(n));
    return dump(json::object{{"spinner", spinner}, {"number", number}, {"notes", std::move(arr)}});
}

std::string RecordResult::to_json() const {
    return dump(json::object{{"outcome", to_string(outcome)},
                             {"version", version ? version_value(*version) : json::value(nullptr)},
                             {"reasons", reasons_json(reasons)}});
}

ChangeMeta ChangeMeta::from_json(std::string_view text) {
    ChangeMeta m;
    if (text.empty()) return m;
    json::value v = parse_strict(text, "meta", {1u << 20, 8, 64u << 10});
    const auto &o = as_object(v, "meta");
    only_keys(o, {"author", "message", "requestId", "confirmed", "expectedCurrent"}, "meta");
    if (auto *x = o.if_contains("author")) m.author = as_string_max(*x, "meta.author", 256);
    if (auto *x = o.if_contains("message")) m.message = as_string_max(*x, "meta.message", 4096);
    if (auto *x = o.if_contains("requestId")) {
        m.request_id = as_string_max(*x, "meta.requestId", 256);
        if (m.request_id.empty()) fail("meta.requestId", "must not be empty");
    }
    if (auto *x = o.if_contains("confirmed")) m.confirmed = as_bool(*x, "meta.confirmed");
    if (auto *x = o.if_contains("expectedCurrent")) {
        m.expected_current = as_int(*x, "meta.expectedCurrent");
        if (*m.expected_current < 0) fail("meta.expectedCurrent", "must be >= 0 (0: no version yet)");
    }
    return m;
}

TagRequest TagRequest::from_json(std::string_view text) {
    json::value v = parse_strict(text, "tag", {64u << 10, 4, 8u << 10});
    const auto &o = as_object(v, "tag");
    only_keys(o, {"name", "note", "author", "move"}, "tag");
    TagRequest t;
    auto *name = o.if_contains("name");
    if (!name) fail("tag.name", "is required");
    t.name = as_string_max(*name, "tag.name", 63);
    if (auto *x = o.if_contains("note")) t.note = as_string_max(*x, "tag.note", 4096);
    if (auto *x = o.if_contains("author")) t.author = as_string_max(*x, "tag.author", 256);
    if (auto *x = o.if_contains("move")) t.move = as_bool(*x, "tag.move");
    return t;
}

Note Note::from_json(std::string_view text) {
    json::value v = parse_strict(text, "note", {64u << 10, 4, 8u << 10});
    const auto &o = as_object(v, "note");
    only_keys(o, {"author", "text"}, "note");
    Note n;
    auto *body = o.if_contains("text");
    if (!body) fail("note.text", "is required");
    n.text = as_string_max(*body, "note.text", 4096);
    if (auto *x = o.if_contains("author")) n.author = as_string_max(*x, "note.author", 256);
    return n;
}

Snapshot Snapshot::from_json(std::string_view text) {
    json::value v = parse_strict(text, "snapshot", {1u << 20, 32, 64u << 10});
    const auto &o = as_object(v, "snapshot");
    only_keys(o, {"id", "volume", "sizeBytes", "createdAt", "ready", "storageClass", "metadata"}, "snapshot");
    Snapshot s;
    auto req = [&](const char *k) -> const json::value & {
        auto *x = o.if_contains(k);
        if (!x) fail(std::string("snapshot.") + k, "is required");
        return *x;
    };
    s.id = as_string_max(req("id"), "snapshot.id", 253);
    for (char c : s.id)
        if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
            fail("snapshot.id", "must not contain whitespace or control characters");
    if (s.id.empty()) fail("snapshot.id", "must not be empty");
    s.volume = as_string_max(req("volume"), "snapshot.volume", 253);
    if (s.volume.empty()) fail("snapshot.volume", "must not be empty");
    s.size_bytes = as_int(req("sizeBytes"), "snapshot.sizeBytes");
    if (s.size_bytes <= 0) fail("snapshot.sizeBytes", "must be a positive integer");
    if (auto *x = o.if_contains("createdAt")) {
        s.created_at = normalize_rfc3339(as_string_max(*x, "snapshot.createdAt", 64));
        if (s.created_at.empty()) fail("snapshot.createdAt", "must be an RFC 3339 timestamp");
    } else {
        s.created_at = now_rfc3339();
    }
    s.ready = as_bool(req("ready"), "snapshot.ready");
    if (auto *x = o.if_contains("storageClass")) {
        s.storage_class = as_string_max(*x, "snapshot.storageClass", 253);
        if (!s.storage_class.empty() && !is_dns_subdomain(s.storage_class))
            fail("snapshot.storageClass", "must be a DNS-1123 subdomain");
    }
    if (auto *x = o.if_contains("metadata")) {
        as_object(*x, "snapshot.metadata");
        s.metadata_json = canonical(*x);
    }
    return s;
}

std::string Snapshot::to_json() const {
    json::value meta = metadata_json.empty() ? json::value(json::object()) : json::parse(metadata_json);
    return dump(json::object{{"id", id},
                             {"volume", volume},
                             {"sizeBytes", size_bytes},
                             {"createdAt", created_at},
                             {"ready", ready},
                             {"storageClass", storage_class},
                             {"metadata", std::move(meta)}});
}

double Pricing::price_for(std::string_view storage_class) const {
    auto it = per_gib_month.find(std::string(storage_class));
    if (it != per_gib_month.end()) return it->second;
    it = per_gib_month.find("*");
    return it != per_gib_month.end() ? it->second : 0.0;
}

StoreOptions StoreOptions::from_json(std::string_view text) {
    StoreOptions opt;
    if (text.empty()) return opt;
    json::value v = parse_strict(text, "options", {1u << 20, 16, 64u << 10});
    const auto &o = as_object(v, "options");
    only_keys(o, {"key", "keyFile", "keys", "pricing", "policy", "busyTimeoutMs", "durability", "maxTaggedVersions",
                  "eventsLimit"},
              "options");
    if (auto *x = o.if_contains("key")) {
        if (!x->is_string()) fail("options.key", "must be a string");
        opt.key = std::string(x->get_string());
        parse_key(opt.key, "options.key"); // validate now, without echoing it
    }
    if (auto *x = o.if_contains("keyFile")) opt.key_file = as_string_max(*x, "options.keyFile", 4096);
    if (!opt.key.empty() && !opt.key_file.empty()) fail("options.keyFile", "give key or keyFile, not both");
    if (auto *x = o.if_contains("keys")) {
        if (!opt.key.empty() || !opt.key_file.empty()) fail("options.keys", "give keys, or key or keyFile, not both");
        const auto &ring = as_array(*x, "options.keys");
        if (ring.empty() || ring.size() > 16) fail("options.keys", "must list 1-16 keys");
        for (std::size_t i = 0; i < ring.size(); ++i) {
            const std::string path = "options.keys[" + std::to_string(i) + "]";
            const auto &e = as_object(ring[i], path);
            only_keys(e, {"id", "key", "keyFile"}, path);
            KeyringEntry k;
            const auto *id = e.if_contains("id");
            if (!id) fail(path + ".id", "is required");
            k.id = as_string_max(*id, path + ".id", 64);
            if (auto *kv = e.if_contains("key")) {
                if (!kv->is_string()) fail(path + ".key", "must be a string");
                k.key = std::string(kv->get_string());
            }
            if (auto *kf = e.if_contains("keyFile")) k.key_file = as_string_max(*kf, path + ".keyFile", 4096);
            opt.keys.push_back(std::move(k));
        }
    }
    if (auto *x = o.if_contains("pricing")) {
        const auto &p = as_object(*x, "options.pricing");
        only_keys(p, {"currency", "perGiBMonth"}, "options.pricing");
        if (auto *c = p.if_contains("currency")) {
            opt.pricing.currency = as_string_max(*c, "options.pricing.currency", 8);
            if (opt.pricing.currency.size() != 3)
                fail("options.pricing.currency", "must be a 3-letter currency code");
        }
        if (auto *m = p.if_contains("perGiBMonth")) {
            opt.pricing.per_gib_month.clear();
            for (const auto &kv : as_object(*m, "options.pricing.perGiBMonth")) {
                std::string path = path_key("options.pricing.perGiBMonth", kv.key());
                double d = as_number(kv.value(), path);
                if (!(d >= 0) || d > 1e9) fail(path, "must be a price >= 0");
                opt.pricing.per_gib_month[std::string(kv.key())] = d;
            }
        }
    }
    if (auto *x = o.if_contains("policy")) {
        as_object(*x, "options.policy");
        try {
            opt.policy = SnapshotPolicy::from_json(dump(*x));
        } catch (const Error &e) {
            throw Error(e.code(), e.what(), "options." + e.path());
        }
    }
    if (auto *x = o.if_contains("busyTimeoutMs")) {
        std::int64_t ms = as_int(*x, "options.busyTimeoutMs");
        if (ms < 0 || ms > 3600000) fail("options.busyTimeoutMs", "must be 0-3600000");
        opt.busy_timeout_ms = static_cast<int>(ms);
    }
    if (auto *x = o.if_contains("durability")) {
        std::string d = as_string_max(*x, "options.durability", 16);
        if (d == "full") opt.durability = Durability::full;
        else if (d == "normal") opt.durability = Durability::normal;
        else fail("options.durability", "must be \"full\" or \"normal\"");
    }
    if (auto *x = o.if_contains("eventsLimit")) {
        opt.events_limit = as_int(*x, "options.eventsLimit");
        if (opt.events_limit < 1 || opt.events_limit > 100000000) fail("options.eventsLimit", "must be 1-100000000");
    }
    if (auto *x = o.if_contains("maxTaggedVersions")) {
        opt.max_tagged_versions = as_int(*x, "options.maxTaggedVersions");
        if (opt.max_tagged_versions < 1 || opt.max_tagged_versions > 10000)
            fail("options.maxTaggedVersions", "must be 1-10000");
    }
    return opt;
}

std::string StoreInfo::to_json() const {
    return dump(json::object{{"storeId", store_id},
                             {"engine", engine},
                             {"schemaVersion", schema_version},
                             {"libraryVersion", library_version}});
}

std::string SpinnerInfo::to_json() const {
    return dump(json::object{{"spinner", spinner},
                             {"rollbackEnabled", rollback_enabled},
                             {"historyLimit", history_limit},
                             {"currentVersion", current_version},
                             {"versionsCreated", versions_created},
                             {"lastRecordedAt", last_recorded_at}});
}

} // namespace spinner_rollback
