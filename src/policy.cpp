#include "category.hpp"
#include "decide.hpp"
#include "diff_internal.hpp"
#include "reasons.hpp"
#include "state_schema.hpp"

#include <spinner_rollback/snapshot_policy.hpp>
#include <spinner_rollback/state.hpp>

#include <algorithm>
#include <optional>

namespace spinner_rollback {

using namespace detail;

namespace {

bool path_covers(std::string_view prefix, std::string_view path) {
    if (path.size() < prefix.size() || path.substr(0, prefix.size()) != prefix) return false;
    return path.size() == prefix.size() || path[prefix.size()] == '.' || path[prefix.size()] == '[';
}

} // namespace

const std::vector<std::string> &SnapshotPolicy::all_categories() {
    static const std::vector<std::string> all = [] {
        std::vector<std::string> v;
        for (const auto &c : kCategories) v.emplace_back(c.name);
        return v;
    }();
    return all;
}

const std::vector<std::string> &SnapshotPolicy::default_triggers() {
    static const std::vector<std::string> d = [] {
        std::vector<std::string> v;
        for (const auto &c : kCategories)
            if (c.default_trigger) v.emplace_back(c.name);
        return v;
    }();
    return d;
}

SnapshotPolicy::SnapshotPolicy() : categories_(default_triggers()) {}

SnapshotPolicy SnapshotPolicy::from_json(std::string_view text) {
    SnapshotPolicy p;
    if (text.empty()) return p;
    json::value v = parse_strict(text, "policy");
    const auto &o = as_object(v, "policy");
    only_keys(o, {"triggers"}, "policy");
    auto it = o.find("triggers");
    if (it == o.end()) return p;
    const auto &arr = as_array(it->value(), "policy.triggers");
    if (arr.size() > 1024) fail("policy.triggers", "more than 1024 triggers");
    p.categories_.clear();
    for (std::size_t i = 0; i < arr.size(); ++i) {
        std::string path = path_index("policy.triggers", i);
        std::string t(as_string(arr[i], path));
        if (t.rfind("extensions.", 0) == 0 && t.size() > 11) {
            for (char c : t)
                if (static_cast<unsigned char>(c) < 0x21 || c == '[' || c == ']')
                    fail(path, "extension path must be dot-separated keys");
            if (t.find("..") != std::string::npos || t.back() == '.')
                fail(path, "extension path has an empty key");
            p.extension_paths_.push_back(t);
            continue;
        }
        if (!category_named(t))
            fail(path, "unknown category \"" + t.substr(0, 64) + "\" (categories: " +
                           std::string(category_list()) + ", or extensions.<path>)");
        if (std::find(p.categories_.begin(), p.categories_.end(), t) == p.categories_.end())
            p.categories_.push_back(t);
    }
    return p;
}

bool SnapshotPolicy::tracks(std::string_view category) const {
    return std::find(categories_.begin(), categories_.end(), category) != categories_.end();
}

bool SnapshotPolicy::tracks_change(std::string_view category, std::string_view path) const {
    if (tracks(category)) return true;
    if (category == "extensions")
        for (const auto &p : extension_paths_)
            if (path_covers(p, path) || path_covers(path, p)) return true;
    return false;
}

std::string SnapshotPolicy::to_json() const {
    json::array t;
    for (const auto &c : categories_) t.emplace_back(json::string(c));
    for (const auto &p : extension_paths_) t.emplace_back(json::string(p));
    return dump(json::object{{"triggers", std::move(t)}});
}

namespace {
// Parse one of two documents; errors say which one ("next state: …").
json::object parse_named(std::string_view text, const char *name) {
    try {
        return parse_state(text, name);
    } catch (const Error &e) {
        throw Error(e.code(), std::string(name) + " state: " + e.what(), e.path());
    }
}
} // namespace

Decision SnapshotPolicy::evaluate(std::string_view previous, std::string_view next) const {
    json::object n = parse_named(next, "next");
    // A disabled next state is decided without reading the previous one.
    std::optional<json::object> p;
    if (rollback_enabled(n) && !previous.empty()) p = parse_named(previous, "previous");
    Decided d = decide(p ? &*p : nullptr, !p || rollback_enabled(*p), n, *this);
    Decision out;
    out.outcome = d.outcome;
    out.snapshot = d.outcome == Outcome::created;
    out.reason = d.reason;
    out.reasons = std::move(d.reasons);
    return out;
}

std::string Decision::to_json() const {
    return dump(json::object{{"snapshot", snapshot}, {"outcome", to_string(outcome)}, {"reasons", reasons_json(reasons)}});
}

std::string canonical_state(std::string_view state_json) {
    return canonical(parse_state(state_json, "state"));
}

std::string Diff::to_json() const { return dump(diff_json(*this)); }

Diff diff_states(std::string_view a, std::string_view b) {
    json::object oa = parse_named(a, "a");
    json::object ob = parse_named(b, "b");
    return to_public(diff_objects(oa, ob));
}

std::string summarize(const Diff &diff) {
    std::vector<RawChange> raw;
    for (const auto &c : diff.changes)
        if (auto cat = category_named(c.category))
            raw.push_back({c.path, *cat, c.kind, json::parse(c.from), json::parse(c.to)});
    return summarize_raw(raw);
}

} // namespace spinner_rollback
