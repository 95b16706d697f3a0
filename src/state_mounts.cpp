// The state schema for a container's mounts: path rules, exactly one source
// (config map, secret or volume) that must resolve, and no overlapping paths.

#include "names.hpp"
#include "state_walk.hpp"

#include <algorithm>
#include <vector>

namespace spinner_rollback::detail {

namespace {

constexpr std::size_t kMaxMounts = 256;

// Orders paths segment by segment ('/' sorts before every other byte), so a
// path's descendants follow it directly.
bool segment_less(std::string_view a, std::string_view b) {
    auto key = [](char c) { return c == '/' ? 0 : static_cast<unsigned char>(c) + 1; };
    return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(),
                                        [&](char x, char y) { return key(x) < key(y); });
}

bool is_segment_prefix(std::string_view prefix, std::string_view s) {
    return s.substr(0, prefix.size()) == prefix &&
           (s.size() == prefix.size() || s[prefix.size()] == '/');
}

void check_mount_overlap(const json::array &mounts, const std::string &path) {
    std::vector<std::pair<std::string_view, std::size_t>> paths;
    paths.reserve(mounts.size());
    for (std::size_t i = 0; i < mounts.size(); ++i) {
        const json::string &p = mounts[i].get_object().at("path").get_string();
        paths.emplace_back(std::string_view(p), i);
    }
    std::sort(paths.begin(), paths.end(), [](const auto &a, const auto &b) {
        if (a.first == b.first) return a.second < b.second;
        return segment_less(a.first, b.first);
    });
    for (std::size_t i = 1; i < paths.size(); ++i) {
        const auto &[outer, outer_index] = paths[i - 1];
        const auto &[inner, inner_index] = paths[i];
        if (!is_segment_prefix(outer, inner)) continue;
        std::size_t later = std::max(outer_index, inner_index);
        std::string p = path_key(path_index(path, later), "path");
        if (outer == inner) fail(p, "duplicate mount path " + quote(inner));
        fail(p, "mount paths must not overlap: " + quote(inner) + " is inside " + quote(outer));
    }
}

json::object normalize_mount(const json::value &v, const std::string &path, Context *ctx) {
    const json::object &o = as_object(v, path);
    only_keys(o, {"path", "configMap", "secret", "volume", "readOnly"}, path);
    json::object out;
    std::string path_path = path_key(path, "path");
    const json::string &mount_path = as_string(required(o, "path", path), path_path);
    if (const char *rule = check_mount_path(mount_path)) fail(path_path, rule);
    out["path"] = mount_path;

    std::string_view source = one_of(o, {"configMap", "secret", "volume"}, path, "mount");
    std::string p = path_key(path, source);
    std::string name = sv(as_string(o.at(source), p));
    if (source == "volume") {
        if (ctx->volume_names.find(name) == ctx->volume_names.end())
            unresolved(p, "volume", name, "$.volumes");
    } else {
        resolve_map(name, p, source == "secret" ? kSecret : kConfigMap, ctx);
    }
    out[source] = name;
    if (const json::value *r = o.if_contains("readOnly"))
        out["readOnly"] = as_bool(*r, path_key(path, "readOnly"));
    return out;
}

}  // namespace

json::array normalize_mounts(const json::value &v, const std::string &path, Context *ctx) {
    json::array out = normalize_each(array_max(v, path, "mounts", kMaxMounts), path,
                                     [&](const json::value &e, const std::string &p) {
                                         return normalize_mount(e, p, ctx);
                                     });
    check_mount_overlap(out, path);
    return out;
}

} // namespace spinner_rollback::detail
