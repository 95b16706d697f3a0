// What a rollback takes from its target: "tracked", "all" or a list of the
// categories a rollback can restore (the version-making ones of category.hpp).
#include "scope.hpp"

#include "category.hpp"

#include <algorithm>

namespace spinner_rollback {

using namespace detail;

namespace detail {

RollbackScope scope_from_value(const json::value &v, const std::string &path) {
    RollbackScope s;
    if (v.is_string()) {
        const std::string_view word = v.get_string();
        if (word == "tracked") return s;
        if (word == "all") {
            s.kind = RollbackScope::Kind::all;
            return s;
        }
        fail(path, "must be \"tracked\", \"all\" or an array of categories");
    }
    if (!v.is_array()) fail(path, "must be \"tracked\", \"all\" or an array of categories");
    const auto &arr = v.get_array();
    if (arr.empty()) fail(path, "must name at least one category");
    std::vector<bool> chosen(kCategories.size(), false);
    for (std::size_t i = 0; i < arr.size(); ++i) {
        const std::string at = path_index(path, i);
        const auto c = arr[i].is_string() ? category_named(arr[i].get_string()) : std::nullopt;
        if (!c || !info(*c).default_trigger)
            fail(at, "is not a category a rollback restores (image, codeVersion, env, ports, securityContext, "
                     "cpu, memory, command, args, instances, mounts, configValues, secretValues)");
        const auto k = static_cast<std::size_t>(*c);
        if (chosen[k]) fail(at, "names a category twice");
        chosen[k] = true;
    }
    s.kind = RollbackScope::Kind::categories;
    for (const auto &c : kCategories)
        if (chosen[static_cast<std::size_t>(c.id)]) s.categories.emplace_back(c.name);
    return s;
}

json::value scope_value(const RollbackScope &s) {
    switch (s.kind) {
    case RollbackScope::Kind::tracked: return "tracked";
    case RollbackScope::Kind::all: return "all";
    case RollbackScope::Kind::categories: break;
    }
    json::array a;
    for (const auto &c : s.categories) a.emplace_back(c);
    return a;
}

} // namespace detail

bool RollbackScope::includes(std::string_view category, const SnapshotPolicy &policy) const {
    switch (kind) {
    case Kind::tracked: return policy.tracks(category);
    case Kind::all: return true;
    case Kind::categories: break;
    }
    return std::find(categories.begin(), categories.end(), category) != categories.end();
}

RollbackScope RollbackScope::from_json(std::string_view json, const std::string &path) {
    return scope_from_value(parse_strict(json, path, {64u << 10, 4, 256}), path);
}

std::string RollbackScope::to_json() const { return dump(scope_value(*this)); }

} // namespace spinner_rollback
