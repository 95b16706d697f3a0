#include "diff_internal.hpp"

#include "digest.hpp"

#include <boost/container/flat_map.hpp>
#include <boost/container/flat_set.hpp>

#include <algorithm>
#include <array>

namespace spinner_rollback::detail {

namespace {

const json::object kEmpty;

const json::object &obj_or_empty(const json::object &o, std::string_view key) {
    auto it = o.find(key);
    if (it == o.end() || !it->value().is_object()) return kEmpty;
    return it->value().get_object();
}

const json::value &get_or_null(const json::object &o, std::string_view key) {
    static const json::value null;
    auto it = o.find(key);
    return it == o.end() ? null : it->value();
}

void emit(std::vector<RawChange> &out, std::string path, Category category,
          const json::value &from, const json::value &to) {
    if (from == to) return;
    ChangeKind kind = from.is_null() ? ChangeKind::added
                      : to.is_null() ? ChangeKind::removed
                                     : ChangeKind::changed;
    out.push_back({std::move(path), category, kind, from, to});
}

std::string_view key_of(const json::key_value_pair &kv) { return kv.key(); }
template <class Pair> std::string_view key_of(const Pair &kv) { return kv.first; }

std::string member_path(const std::string &base, std::string_view key) {
    bool simple = !key.empty();
    for (char c : key)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) simple = false;
    if (simple) return base.empty() ? std::string(key) : base + "." + std::string(key);
    return base + "[" + json::serialize(json::string_view(key.data(), key.size())) + "]";
}

// The keys of two objects or indexes, sorted by byte value, each once. The
// views point into `a` and `b`, which must outlive the result.
using Keys = boost::container::flat_set<std::string_view>;
template <class Map> Keys key_union(const Map &a, const Map &b) {
    Keys keys;
    keys.reserve(a.size() + b.size());
    for (const auto &kv : a) keys.insert(key_of(kv));
    for (const auto &kv : b) keys.insert(key_of(kv));
    return keys;
}

// Leaf-level diff of two JSON values; objects recurse, anything else is a leaf.
void diff_generic(std::vector<RawChange> &out, const std::string &path, Category category,
                  const json::value &a, const json::value &b) {
    static const json::value empty_object = json::object();
    // Objects recurse (an absent side counts as {}), so reasons name leaves.
    const bool ao = a.is_object(), bo = b.is_object();
    if ((ao || a.is_null()) && (bo || b.is_null()) && (ao || bo)) {
        const auto &oa = a.is_object() ? a.get_object() : empty_object.get_object();
        const auto &ob = b.is_object() ? b.get_object() : empty_object.get_object();
        for (std::string_view k : key_union(oa, ob))
            diff_generic(out, member_path(path, k), category, get_or_null(oa, k), get_or_null(ob, k));
        return;
    }
    emit(out, path, category, a, b);
}

// Arrays of objects identified by a key function: entries compared whole.
using KeyFn = std::function<std::string(const json::object &)>;

using Index = boost::container::flat_map<std::string, const json::value *>;

Index index_by(const json::value *arr, const KeyFn &key) {
    Index m;
    if (arr && arr->is_array())
        for (const auto &e : arr->get_array())
            if (e.is_object()) m.emplace(key(e.get_object()), &e);
    return m;
}

void diff_keyed(std::vector<RawChange> &out, const std::string &path, Category category,
                const json::value *a, const json::value *b, const KeyFn &key,
                std::string_view drop_field) {
    const Index ia = index_by(a, key);
    const Index ib = index_by(b, key);
    auto strip = [&](const json::value *v) -> json::value {
        if (!v) return nullptr;
        if (drop_field.empty()) return *v;
        json::object o = v->get_object();
        o.erase(drop_field);
        if (o.size() == 1 && o.contains("value")) return o.at("value");
        return o;
    };
    for (std::string_view k : key_union(ia, ib)) {
        auto fa = ia.find(std::string(k));
        auto fb = ib.find(std::string(k));
        emit(out, path + "[" + std::string(k) + "]", category, strip(fa == ia.end() ? nullptr : fa->second),
             strip(fb == ib.end() ? nullptr : fb->second));
    }
}

std::string str_field(const json::object &o, std::string_view k) {
    auto it = o.find(k);
    if (it == o.end() || !it->value().is_string()) return {};
    return std::string(it->value().get_string());
}

const json::value *field(const json::object &o, std::string_view k) {
    auto it = o.find(k);
    return it == o.end() ? nullptr : &it->value();
}

void diff_container(std::vector<RawChange> &out, const std::string &name, const json::object &a,
                    const json::object &b) {
    const std::string base = "containers[" + name + "]";
    auto v = [](const json::object &o, std::string_view k) { return get_or_null(o, k); };
    emit(out, base + ".image", Category::image, v(a, "image"), v(b, "image"));
    emit(out, base + ".codeVersion", Category::codeVersion, v(a, "codeVersion"), v(b, "codeVersion"));
    emit(out, base + ".command", Category::command, v(a, "command"), v(b, "command"));
    emit(out, base + ".args", Category::args, v(a, "args"), v(b, "args"));
    emit(out, base + ".workingDir", Category::workingDir, v(a, "workingDir"), v(b, "workingDir"));
    diff_keyed(out, base + ".env", Category::env, field(a, "env"), field(b, "env"),
               [](const json::object &e) { return str_field(e, "name"); }, "name");
    diff_keyed(out, base + ".ports", Category::ports, field(a, "ports"), field(b, "ports"),
               [](const json::object &p) {
                   auto it = p.find("containerPort");
                   std::string port = it == p.end() ? "?" : json::serialize(it->value());
                   return port + "/" + str_field(p, "protocol");
               },
               "");
    const auto &ra = obj_or_empty(a, "resources");
    const auto &rb = obj_or_empty(b, "resources");
    emit(out, base + ".resources.cpu", Category::cpu, v(ra, "cpu"), v(rb, "cpu"));
    emit(out, base + ".resources.memory", Category::memory, v(ra, "memory"), v(rb, "memory"));
    diff_generic(out, base + ".securityContext", Category::securityContext,
                 json::value(obj_or_empty(a, "securityContext")),
                 json::value(obj_or_empty(b, "securityContext")));
    diff_keyed(out, base + ".mounts", Category::mounts, field(a, "mounts"), field(b, "mounts"),
               [](const json::object &m) { return str_field(m, "path"); }, "");
    diff_generic(out, base + ".probes", Category::probes, json::value(obj_or_empty(a, "probes")),
                 json::value(obj_or_empty(b, "probes")));
}

void diff_values(std::vector<RawChange> &out, const std::string &base, Category category,
                 const json::object &a, const json::object &b, const MapLoader &load) {
    for (std::string_view n : key_union(a, b)) {
        const json::value &va = get_or_null(a, n);
        const json::value &vb = get_or_null(b, n);
        if (va == vb) continue; // same placeholder or same values: unchanged
        // The map's values, by reference: loaded (shared, cached) when sealed.
        std::shared_ptr<const json::object> held_a, held_b;
        auto resolve = [&](const json::value &x, std::shared_ptr<const json::object> &held) -> const json::object & {
            static const json::object none;
            if (x.is_object()) return x.get_object();
            if (!x.is_null() && load) held = load(x);
            return held ? *held : none;
        };
        const json::object &ma = resolve(va, held_a);
        const json::object &mb = resolve(vb, held_b);
        for (std::string_view k : key_union(ma, mb))
            emit(out, base + "[" + std::string(n) + "][" + std::string(k) + "]", category, get_or_null(ma, k),
                 get_or_null(mb, k));
    }
}

std::string short_image(const json::value &img) {
    if (!img.is_object()) return "none";
    std::string ref = str_field(img.get_object(), "reference");
    auto slash = ref.rfind('/');
    if (slash != std::string::npos) ref = ref.substr(slash + 1);
    return ref;
}

std::string text_of(const json::value &v) {
    if (v.is_null()) return "none";
    if (v.is_string()) return std::string(v.get_string());
    return json::serialize(v);
}

// "containers[web].env[DEBUG]" -> "DEBUG"; the last bracketed key of a path.
std::string last_key(const std::string &path) {
    auto open = path.rfind('[');
    auto close = path.rfind(']');
    if (open == std::string::npos || close == std::string::npos || close < open) return path;
    return path.substr(open + 1, close - open - 1);
}

// "configMaps[shop][app.yaml]" -> "shop"
std::string first_key(const std::string &path) {
    auto open = path.find('[');
    auto close = path.find(']');
    if (open == std::string::npos || close == std::string::npos) return path;
    return path.substr(open + 1, close - open - 1);
}

char sign(ChangeKind k) { return k == ChangeKind::added ? '+' : k == ChangeKind::removed ? '-' : '~'; }

} // namespace

std::vector<RawChange> diff_objects(const json::object &a, const json::object &b,
                                    const MapLoader &load) {
    std::vector<RawChange> out;
    emit(out, "instances", Category::instances, get_or_null(a, "instances"), get_or_null(b, "instances"));

    // Containers by name, in b's order then removed ones.
    using Containers = boost::container::flat_map<std::string, const json::object *>;
    Containers ca, cb;
    std::vector<std::string> order;
    auto collect = [&](const json::object &doc, Containers &m) {
        if (auto *arr = field(doc, "containers"); arr && arr->is_array())
            for (const auto &c : arr->get_array())
                if (c.is_object()) {
                    std::string n = str_field(c.get_object(), "name");
                    if (m.emplace(n, &c.get_object()).second &&
                        std::find(order.begin(), order.end(), n) == order.end())
                        order.push_back(n);
                }
    };
    collect(b, cb);
    collect(a, ca);
    for (const auto &n : order) {
        auto ia = ca.find(n);
        auto ib = cb.find(n);
        diff_container(out, n, ia == ca.end() ? kEmpty : *ia->second,
                       ib == cb.end() ? kEmpty : *ib->second);
    }

    diff_keyed(out, "volumes", Category::mounts, field(a, "volumes"), field(b, "volumes"),
               [](const json::object &v) { return str_field(v, "name"); }, "");
    diff_values(out, "configMaps", Category::configValues, obj_or_empty(a, "configMaps"),
                obj_or_empty(b, "configMaps"), load);
    diff_values(out, "secrets", Category::secretValues, obj_or_empty(a, "secrets"),
                obj_or_empty(b, "secrets"), {});
    diff_generic(out, "labels", Category::labels, json::value(obj_or_empty(a, "labels")),
                 json::value(obj_or_empty(b, "labels")));
    diff_generic(out, "extensions", Category::extensions, json::value(obj_or_empty(a, "extensions")),
                 json::value(obj_or_empty(b, "extensions")));
    return out;
}

namespace {
constexpr std::array<std::pair<ChangeKind, std::string_view>, 3> kKinds{
    {{ChangeKind::added, "added"}, {ChangeKind::removed, "removed"}, {ChangeKind::changed, "changed"}}};
} // namespace

std::string_view kind_name(ChangeKind k) {
    for (const auto &[kind, name] : kKinds)
        if (kind == k) return name;
    return "changed";
}

std::optional<ChangeKind> kind_named(std::string_view name) {
    for (const auto &[kind, n] : kKinds)
        if (n == name) return kind;
    return std::nullopt;
}

json::object diff_json(const Diff &d) {
    json::array arr;
    arr.reserve(d.changes.size());
    for (const auto &c : d.changes)
        arr.emplace_back(json::object{{"path", c.path},
                                      {"category", c.category},
                                      {"kind", kind_name(c.kind)},
                                      {"from", json::parse(c.from)},
                                      {"to", json::parse(c.to)}});
    return json::object{{"changes", std::move(arr)}};
}

Diff to_public(const std::vector<RawChange> &changes, std::size_t summarize_over) {
    const std::string masked =
        json::serialize(json::value(json::string_view(masked_value.data(), masked_value.size())));
    // A long config value is shown by its size and content id, not its text.
    auto text = [&](const json::value &v) {
        if (summarize_over && v.is_string() && v.get_string().size() > summarize_over) {
            const auto &str = v.get_string();
            return canonical(json::object{
                {"bytes", static_cast<std::int64_t>(str.size())},
                {"sha256", to_hex(sha256_raw(std::string_view(str.data(), str.size())))}});
        }
        return canonical(v);
    };
    Diff d;
    d.changes.reserve(changes.size());
    for (const auto &c : changes) {
        Change pc;
        pc.path = c.path;
        pc.category = std::string(name(c.category));
        pc.kind = c.kind;
        if (c.category == Category::secretValues) {
            pc.from = c.from.is_null() ? "null" : masked;
            pc.to = c.to.is_null() ? "null" : masked;
        } else if (c.category == Category::configValues) {
            pc.from = text(c.from);
            pc.to = text(c.to);
        } else {
            pc.from = canonical(c.from);
            pc.to = canonical(c.to);
        }
        d.changes.push_back(std::move(pc));
    }
    return d;
}

std::vector<Reason> tracked_reasons(const std::vector<RawChange> &changes,
                                    const SnapshotPolicy &policy) {
    std::vector<Reason> r;
    for (const auto &c : changes)
        if (policy.tracks_change(name(c.category), c.path)) r.push_back({std::string(name(c.category)), c.path});
    return r;
}

std::string summarize_raw(const std::vector<RawChange> &changes) {
    // One clause per category, in table order; a volume rebinding gets its
    // own clause ("volume data vol-1 → shop-data-v3") right after mounts.
    std::array<std::vector<std::string>, kCategories.size()> parts;
    std::vector<std::string> volume;
    for (const auto &c : changes) {
        auto &p = parts[static_cast<std::size_t>(c.category)];
        switch (c.category) {
        case Category::image: {
            std::string from = short_image(c.from), to = short_image(c.to);
            if (from == to && c.from.is_object() && c.to.is_object()) {
                auto dig = [](const json::value &v) {
                    std::string d = str_field(v.get_object(), "digest");
                    return d.empty() ? std::string("none") : d.substr(0, 19);
                };
                p.push_back(from + " (digest " + dig(c.from) + " → " + dig(c.to) + ")");
            } else {
                p.push_back(from + " → " + to);
            }
            break;
        }
        case Category::codeVersion:
        case Category::instances:
        case Category::cpu:
        case Category::memory: p.push_back(text_of(c.from) + " → " + text_of(c.to)); break;
        case Category::mounts:
            if (c.path.rfind("volumes[", 0) == 0 && c.from.is_object() && c.to.is_object()) {
                std::string from = str_field(c.from.get_object(), "volumeId");
                std::string to = str_field(c.to.get_object(), "volumeId");
                volume.push_back(from == to ? last_key(c.path) + " changed"
                                            : last_key(c.path) + " " + (from.empty() ? "none" : from) +
                                                  " → " + (to.empty() ? "none" : to));
                break;
            }
            [[fallthrough]];
        case Category::env:
        case Category::ports: p.push_back(std::string(1, sign(c.kind)) + last_key(c.path)); break;
        case Category::configValues:
        case Category::secretValues: {
            std::string name = first_key(c.path);
            if (std::find(p.begin(), p.end(), name) == p.end()) p.push_back(name);
            break;
        }
        default:
            if (p.empty()) p.push_back("changed");
        }
    }
    std::string out;
    auto clause = [&](std::string_view label, const std::vector<std::string> &items, std::string_view sep,
                      std::string_view suffix) {
        if (items.empty()) return;
        if (!out.empty()) out += "; ";
        out += label;
        out += ' ';
        for (std::size_t i = 0; i < items.size(); ++i) {
            if (i) out += sep;
            out += items[i];
        }
        out += suffix;
    };
    for (const auto &cat : kCategories) {
        const bool listed = cat.id == Category::env || cat.id == Category::ports || cat.id == Category::mounts;
        const bool values = cat.id == Category::configValues || cat.id == Category::secretValues;
        clause(cat.label, parts[static_cast<std::size_t>(cat.id)], listed ? " " : ", ", values ? " changed" : "");
        if (cat.id == Category::mounts) clause("volume", volume, ", ", "");
    }
    return out.empty() ? "no changes" : out;
}

std::string summarize_first(const json::object &state) {
    std::string out = "first version:";
    std::vector<std::string> imgs;
    if (auto *arr = field(state, "containers"); arr && arr->is_array())
        for (const auto &c : arr->get_array())
            if (c.is_object()) imgs.push_back(short_image(get_or_null(c.get_object(), "image")));
    out += " image ";
    for (std::size_t i = 0; i < imgs.size(); ++i) out += (i ? ", " : "") + imgs[i];
    auto inst = get_or_null(state, "instances");
    out += "; " + text_of(inst) + (inst.is_int64() && inst.get_int64() == 1 ? " instance" : " instances");
    return out;
}

} // namespace spinner_rollback::detail
