// The state document's schema, top level: settings, volumes, config maps and
// secrets, labels, and normalize_state(), which walks the whole document.
//
// normalize_state() walks the document once, checking every rule and
// building the normalised copy as it goes. The first broken rule throws
// Error(invalid) through fail() with the JSON path of the offending value and
// a message that states the rule. Messages quote at most 64 bytes of any
// input value and never a secret value.

#include "state_schema.hpp"

#include "names.hpp"
#include "quantity.hpp"
#include "state_walk.hpp"

#include <spinner_rollback/state.hpp>

namespace spinner_rollback::detail {

namespace {

constexpr std::size_t kMaxVolumes = 256;
constexpr std::size_t kMaxVolumeId = 253;
constexpr std::size_t kMaxMaps = 1024;
constexpr std::size_t kMaxMapKeys = 4096;
constexpr std::size_t kMaxMapBytes = 4u << 20;
constexpr std::size_t kMaxLabels = 256;
constexpr std::size_t kMaxDescription = 1024;

// ---- settings -----------------------------------------------------------------------

json::object normalize_rollback(const json::value *v, const std::string &path) {
    bool enabled = true;
    std::int64_t history_limit = 20;
    if (v != nullptr) {
        const json::object &o = as_object(*v, path);
        only_keys(o, {"enabled", "historyLimit"}, path);
        if (const json::value *e = o.if_contains("enabled"))
            enabled = as_bool(*e, path_key(path, "enabled"));
        if (const json::value *h = o.if_contains("historyLimit"))
            history_limit = int_in(*h, path_key(path, "historyLimit"), "historyLimit", 1, 100000);
    }
    json::object out;
    out["enabled"] = enabled;
    out["historyLimit"] = history_limit;
    return out;
}

json::object normalize_settings(const json::value *v, const std::string &path) {
    const json::object *o = nullptr;
    if (v != nullptr) {
        o = &as_object(*v, path);
        only_keys(*o, {"rollback", "description"}, path);
    }
    json::object out;
    out["rollback"] =
        normalize_rollback(o ? o->if_contains("rollback") : nullptr, path_key(path, "rollback"));
    if (const json::value *d = o ? o->if_contains("description") : nullptr) {
        std::string p = path_key(path, "description");
        const json::string &s = as_string(*d, p);
        if (utf8_length(s) > kMaxDescription)
            fail(p, "description must be at most 1024 characters");
        out["description"] = s;
    }
    return out;
}

// ---- config maps and secrets ------------------------------------------------------

// One config map or secret: key -> string value. Secret values never reach
// a message.
json::object normalize_map(const json::value &v, const std::string &path, const MapKind &kind) {
    if (!v.is_object())
        fail(path, std::string(kind.noun) + " must be an object of key -> string value");
    const json::object &o = v.get_object();
    if (o.size() > kMaxMapKeys)
        fail(path, std::string(kind.noun) + " must have at most 4096 keys");
    std::size_t total = 0;
    json::object out;
    for (const auto &kv : o) {
        std::string_view key(kv.key().data(), kv.key().size());
        std::string p = path_key(path, key);
        if (!is_map_key(key))
            fail(p, std::string(kind.noun) +
                        " keys must match ^[-._a-zA-Z0-9]+$, be at most 253 characters and not be "
                        "'.' or start with '..'");
        if (!kv.value().is_string())
            fail(p, std::string(kind.noun) + " values must be strings");
        const json::string &value = kv.value().get_string();
        if (kind.secret && std::string_view(value) == masked_value)
            fail(p, "masked secret value: fetch the version with reveal_secrets to reuse its values");
        total += value.size();
        if (total > kMaxMapBytes)
            fail(path, std::string(kind.noun) + " values must total at most 4 MiB");
        out.emplace(key, value);
    }
    return out;
}

json::object normalize_maps(const json::value *v, const std::string &path, const MapKind &kind) {
    json::object out;
    if (v == nullptr) return out;
    const json::object &o = object_max(*v, path, kind.field, kMaxMaps);
    for (const auto &kv : o) {
        std::string_view name(kv.key().data(), kv.key().size());
        std::string p = path_key(path, name);
        if (!is_dns_subdomain(name))
            fail(p, std::string(kind.noun) +
                        " name must be a DNS-1123 subdomain (lowercase letters, digits, '-' and "
                        "'.', at most 253 characters), got " + quote(name));
        out.emplace(name, normalize_map(kv.value(), p, kind));
    }
    return out;
}

void check_all_referenced(const MapRefs &refs, const std::string &path, const MapKind &kind) {
    for (const auto &kv : *refs.maps) {
        std::string_view name(kv.key().data(), kv.key().size());
        if (refs.used.find(name) == refs.used.end())
            fail(path_key(path, name),
                 std::string(kind.noun) + " " + quote(name) +
                     " is not referenced by any container (env ref or mount): the document must "
                     "hold exactly the values in use");
    }
}

// ---- volumes ---------------------------------------------------------------------------

json::object normalize_volume(const json::value &v, const std::string &path, Context *ctx) {
    const json::object &o = as_object(v, path);
    only_keys(o, {"name", "mode", "size", "storageClass", "volumeId"}, path);
    json::object out;
    out["name"] = unique_dns_name(o, path, "volume", &ctx->volume_names);

    std::string mode = "shared";
    if (const json::value *m = o.if_contains("mode")) {
        std::string p = path_key(path, "mode");
        mode = sv(as_string(*m, p));
        if (mode != "shared" && mode != "dedicated")
            fail(p, "mode must be \"shared\" or \"dedicated\"");
    }
    out["mode"] = mode;

    std::string size_path = path_key(path, "size");
    std::string size = quantity_text(required(o, "size", path), size_path, "size");
    out["size"] = format_bytes(parse_bytes(size, size_path));

    if (const json::value *s = o.if_contains("storageClass")) {
        std::string p = path_key(path, "storageClass");
        const json::string &sc = as_string(*s, p);
        if (!is_dns_subdomain(sc))
            fail(p, "storageClass must be a DNS-1123 subdomain, got " + quote(sc));
        out["storageClass"] = sc;
    }
    if (const json::value *id = o.if_contains("volumeId")) {
        std::string p = path_key(path, "volumeId");
        const json::string &s = as_string(*id, p);
        if (s.empty() || s.size() > kMaxVolumeId || has_space_or_control(s))
            fail(p, "volumeId must be 1-253 characters without whitespace or control characters");
        out["volumeId"] = s;
    }
    return out;
}

json::array normalize_volumes(const json::value *v, const std::string &path, Context *ctx) {
    if (v == nullptr) return json::array();
    return normalize_each(array_max(*v, path, "volumes", kMaxVolumes), path,
                          [&](const json::value &e, const std::string &p) {
                              return normalize_volume(e, p, ctx);
                          });
}

// ---- labels ------------------------------------------------------------------------------

json::object normalize_labels(const json::value *v, const std::string &path) {
    json::object out;
    if (v == nullptr) return out;
    const json::object &o = object_max(*v, path, "labels", kMaxLabels);
    for (const auto &kv : o) {
        std::string_view key(kv.key().data(), kv.key().size());
        std::string p = path_key(path, key);
        if (!is_label_key(key))
            fail(p, "label key must be [prefix/]name: prefix a DNS-1123 subdomain, name 1-63 "
                    "characters [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?, got " + quote(key));
        const json::string &value = as_string(kv.value(), p);
        if (!value.empty() && !is_label_name(value))
            fail(p, "label value must be empty or 1-63 characters "
                    "[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?, got " + quote(value));
        out.emplace(key, value);
    }
    return out;
}

// ---- the document ---------------------------------------------------------------------------

void check_schema_version(const json::object &o, const std::string &root) {
    std::string p = path_key(root, "schemaVersion");
    const json::value *v = o.if_contains("schemaVersion");
    if (v == nullptr) fail(p, "schemaVersion is required");
    bool one = (v->is_int64() && v->get_int64() == 1) || (v->is_uint64() && v->get_uint64() == 1);
    if (!one) fail(p, "unsupported schemaVersion: only 1 is supported");
}

json::object normalize_extensions(const json::value *v, const std::string &path) {
    if (v == nullptr) return json::object();
    return as_object(*v, path);
}

}  // namespace

json::object normalize_state(const json::value &doc) {
    const std::string root = "$";
    const json::object &o = as_object(doc, root);
    check_schema_version(o, root);
    only_keys(o, {"schemaVersion", "settings", "instances", "containers", "volumes", "configMaps",
                  "secrets", "labels", "extensions"},
              root);
    Context ctx;
    json::object settings = normalize_settings(o.if_contains("settings"), path_key(root, "settings"));
    std::int64_t instances =
        int_in(required(o, "instances", root), path_key(root, "instances"), "instances", 0, 10000);
    std::string containers_path = path_key(root, "containers");
    const json::array &containers_in =
        containers_array(required(o, "containers", root), containers_path);
    json::array volumes = normalize_volumes(o.if_contains("volumes"), path_key(root, "volumes"), &ctx);
    std::string config_path = path_key(root, "configMaps");
    std::string secrets_path = path_key(root, "secrets");
    json::object config_maps = normalize_maps(o.if_contains("configMaps"), config_path, kConfigMap);
    json::object secrets = normalize_maps(o.if_contains("secrets"), secrets_path, kSecret);
    json::object labels = normalize_labels(o.if_contains("labels"), path_key(root, "labels"));
    json::object extensions =
        normalize_extensions(o.if_contains("extensions"), path_key(root, "extensions"));

    ctx.config_maps.maps = &config_maps;
    ctx.secrets.maps = &secrets;
    json::array containers = normalize_containers(containers_in, containers_path, &ctx);
    check_all_referenced(ctx.config_maps, config_path, kConfigMap);
    check_all_referenced(ctx.secrets, secrets_path, kSecret);

    json::object out;
    out["schemaVersion"] = 1;
    out["settings"] = std::move(settings);
    out["instances"] = instances;
    out["containers"] = std::move(containers);
    out["volumes"] = std::move(volumes);
    out["configMaps"] = std::move(config_maps);
    out["secrets"] = std::move(secrets);
    out["labels"] = std::move(labels);
    out["extensions"] = std::move(extensions);
    return out;
}

json::object parse_state(std::string_view text, std::string_view what) {
    return normalize_state(parse_strict(text, what));
}

} // namespace spinner_rollback::detail
