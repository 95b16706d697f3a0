// Internal to the state schema (state_*.cpp): what the parts of the walk share —
// its context of cross references, field readers, and each part's entry point.
#pragma once

#include "json.hpp"

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <set>
#include <string>
#include <string_view>
#include <utility>

namespace spinner_rollback::detail {

using NameSet = std::set<std::string, std::less<>>;

// ---- cross references ----------------------------------------------------------

/// Config maps or secrets: the two kinds of named key -> value maps.
struct MapKind {
    bool secret;
    const char *noun;   // "config map" / "secret"
    const char *field;  // "configMaps" / "secrets"
};

inline constexpr MapKind kConfigMap{false, "config map", "configMaps"};
inline constexpr MapKind kSecret{true, "secret", "secrets"};

/// The maps of one kind (normalised) and the names referenced so far.
struct MapRefs {
    const json::object *maps = nullptr;
    NameSet used;
};

/// What the walk learns of the document as it goes.
struct Context {
    MapRefs config_maps;
    MapRefs secrets;
    NameSet volume_names;
    NameSet container_names;
    std::set<std::pair<std::int64_t, std::string>> ports;  // across the spinner
    NameSet port_names;                                    // across the spinner

    MapRefs &refs(const MapKind &kind) { return kind.secret ? secrets : config_maps; }
};

/// Fail at `path`: the reference to the `noun` `name` does not resolve in `where`.
[[noreturn]] void unresolved(const std::string &path, std::string_view noun, std::string_view name,
                             std::string_view where);

/// The config map or secret `name`, marked as used; fails at `path` when the
/// document has none of that name.
const json::object &resolve_map(const std::string &name, const std::string &path,
                                const MapKind &kind, Context *ctx);

// ---- field readers ---------------------------------------------------------------

inline std::string sv(const json::string &s) { return std::string(s.data(), s.size()); }

/// o[key], or fail at path.key: "<key> is required".
const json::value &required(const json::object &o, std::string_view key, const std::string &path);

/// An integer lo..hi.
std::int64_t int_in(const json::value &v, const std::string &path, std::string_view what,
                    std::int64_t lo, std::int64_t hi);

/// An array / object of at most `max` entries.
const json::array &array_max(const json::value &v, const std::string &path, std::string_view what,
                             std::size_t max);
const json::object &object_max(const json::value &v, const std::string &path,
                               std::string_view what, std::size_t max);

/// The one of `keys` that `o` has. Fails at `path` ("<what> must have exactly
/// one of k1, k2, ...") unless it has exactly one, or with `optional` at most
/// one; then the result is empty when it has none.
std::string_view one_of(const json::object &o, std::initializer_list<std::string_view> keys,
                        const std::string &path, std::string_view what, bool optional = false);

/// o["name"] of a volume or container (`what`): a DNS-1123 label not yet in
/// `names`, which it joins.
std::string unique_dns_name(const json::object &o, const std::string &path, std::string_view what,
                            NameSet *names);

/// An array of strings such as command or args.
json::array string_list(const json::value &v, const std::string &path, std::string_view what);

/// The text of a quantity given as a JSON string or number.
std::string quantity_text(const json::value &v, const std::string &path, std::string_view what);

/// Each entry of `a` normalised by f(entry, path of the entry), in order.
template <class F>
json::array normalize_each(const json::array &a, const std::string &path, F &&f) {
    json::array out;
    out.reserve(a.size());
    for (std::size_t i = 0; i < a.size(); ++i) out.emplace_back(f(a[i], path_index(path, i)));
    return out;
}

// ---- the parts -------------------------------------------------------------------

/// The containers array (state_container.cpp): containers_array() checks its
/// size before any other work, so a huge array is refused at once.
const json::array &containers_array(const json::value &v, const std::string &path);
json::array normalize_containers(const json::array &a, const std::string &path, Context *ctx);

/// A container's mounts (state_mounts.cpp).
json::array normalize_mounts(const json::value &v, const std::string &path, Context *ctx);

/// A container's probes (state_probes.cpp); `port_names` are the container's.
json::object normalize_probes(const json::value &v, const std::string &path,
                              const NameSet &port_names);

} // namespace spinner_rollback::detail
