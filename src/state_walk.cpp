// What the parts of the state schema walk share: field readers that fail with
// the JSON path, and the one resolver of references to config maps and secrets.

#include "state_walk.hpp"

#include "names.hpp"

#include <charconv>

namespace spinner_rollback::detail {

namespace {

constexpr std::size_t kMaxArgs = 4096;
constexpr std::size_t kMaxArgBytes = 64u << 10;

// Fail at `path` unless a collection of `size` entries has at most `max`.
void check_max(std::size_t size, const std::string &path, std::string_view what, std::size_t max) {
    if (size > max)
        fail(path, std::string(what) + " must have at most " + std::to_string(max) + " entries");
}

// A string that is a DNS-1123 label (`what` names it in the message).
std::string dns_label(const json::value &v, const std::string &path, std::string_view what) {
    std::string s = sv(as_string(v, path));
    if (!is_dns_label(s))
        fail(path, std::string(what) +
                       " must be a DNS-1123 label (1-63 lowercase letters, digits or '-', starting "
                       "and ending with a letter or digit), got " + quote(s));
    return s;
}

}  // namespace

// ---- cross references ----------------------------------------------------------

void unresolved(const std::string &path, std::string_view noun, std::string_view name,
                std::string_view where) {
    fail(path, "reference does not resolve: no " + std::string(noun) + " named " + quote(name) +
                   " in " + std::string(where));
}

const json::object &resolve_map(const std::string &name, const std::string &path,
                                const MapKind &kind, Context *ctx) {
    MapRefs &refs = ctx->refs(kind);
    const json::value *map = refs.maps->if_contains(name);
    if (map == nullptr) unresolved(path, kind.noun, name, "$." + std::string(kind.field));
    refs.used.insert(name);
    return map->get_object();
}

// ---- field readers ---------------------------------------------------------------

const json::value &required(const json::object &o, std::string_view key, const std::string &path) {
    if (const json::value *v = o.if_contains(key)) return *v;
    fail(path_key(path, key), std::string(key) + " is required");
}

std::int64_t int_in(const json::value &v, const std::string &path, std::string_view what,
                    std::int64_t lo, std::int64_t hi) {
    if (v.is_int64() && v.get_int64() >= lo && v.get_int64() <= hi) return v.get_int64();
    if (v.is_uint64() && lo <= 0 && v.get_uint64() <= static_cast<std::uint64_t>(hi))
        return static_cast<std::int64_t>(v.get_uint64());
    fail(path, std::string(what) + " must be an integer " + std::to_string(lo) + "-" +
                   std::to_string(hi));
}

const json::array &array_max(const json::value &v, const std::string &path, std::string_view what,
                             std::size_t max) {
    const json::array &a = as_array(v, path);
    check_max(a.size(), path, what, max);
    return a;
}

const json::object &object_max(const json::value &v, const std::string &path,
                               std::string_view what, std::size_t max) {
    const json::object &o = as_object(v, path);
    check_max(o.size(), path, what, max);
    return o;
}

std::string_view one_of(const json::object &o, std::initializer_list<std::string_view> keys,
                        const std::string &path, std::string_view what, bool optional) {
    std::string_view found;
    std::size_t present = 0;
    std::string names;
    for (std::string_view key : keys) {
        if (o.contains(key)) {
            found = key;
            ++present;
        }
        names += names.empty() ? "" : ", ";
        names += key;
    }
    if (present > 1 || (present == 0 && !optional))
        fail(path, std::string(what) + " must have " + (optional ? "at most" : "exactly") +
                       " one of " + names);
    return found;
}

std::string unique_dns_name(const json::object &o, const std::string &path, std::string_view what,
                            NameSet *names) {
    std::string name_path = path_key(path, "name");
    std::string name = dns_label(required(o, "name", path), name_path, std::string(what) + " name");
    if (!names->insert(name).second)
        fail(name_path, "duplicate " + std::string(what) + " name " + quote(name));
    return name;
}

json::array string_list(const json::value &v, const std::string &path, std::string_view what) {
    const json::array &a = array_max(v, path, what, kMaxArgs);
    json::array out;
    out.reserve(a.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
        std::string p = path_index(path, i);
        const json::string &s = as_string(a[i], p);
        if (s.size() > kMaxArgBytes)
            fail(p, std::string(what) + " entries must be at most 65536 bytes");
        if (std::string_view(s).find('\0') != std::string_view::npos)
            fail(p, std::string(what) + " entries must not contain NUL characters");
        out.emplace_back(s);
    }
    return out;
}

std::string quantity_text(const json::value &v, const std::string &path, std::string_view what) {
    if (v.is_string()) return sv(v.get_string());
    if (v.is_int64()) return std::to_string(v.get_int64());
    if (v.is_uint64()) return std::to_string(v.get_uint64());
    if (v.is_double()) {
        char buf[64];
        auto r = std::to_chars(buf, buf + sizeof buf, v.get_double());
        if (r.ec == std::errc()) return std::string(buf, r.ptr);
    }
    fail(path, std::string(what) + " must be a quantity (a string such as \"1Gi\" or a number)");
}

} // namespace spinner_rollback::detail
