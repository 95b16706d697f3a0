// The state schema for one container: name, image, command and args, env,
// ports, resources and security context; mounts and probes are in their own files.

#include "names.hpp"
#include "quantity.hpp"
#include "state_walk.hpp"

#include <algorithm>

namespace spinner_rollback::detail {

namespace {

constexpr std::size_t kMaxContainers = 64;
constexpr std::size_t kMaxEnv = 1024;
constexpr std::size_t kMaxPorts = 256;
constexpr std::size_t kMaxCapabilities = 64;
constexpr std::size_t kMaxCodeVersion = 256;
constexpr std::int64_t kMaxId = 2147483647;

const json::value kEmptyArray = json::array();
const json::value kEmptyObject = json::object();

const json::value &or_default(const json::object &o, std::string_view key, const json::value &def) {
    const json::value *v = o.if_contains(key);
    return v != nullptr ? *v : def;
}

// ---- image -------------------------------------------------------------------------

json::object normalize_image(const json::value &v, const std::string &path) {
    const json::object &o = as_object(v, path);
    only_keys(o, {"reference", "digest"}, path);
    json::object out;
    std::string ref_path = path_key(path, "reference");
    const json::string &ref = as_string(required(o, "reference", path), ref_path);
    std::string_view ref_digest;
    if (const char *rule = check_image_reference(ref, &ref_digest))
        fail(ref_path, std::string(rule) + ", got " + quote(ref));
    out["reference"] = ref;
    if (const json::value *d = o.if_contains("digest")) {
        std::string p = path_key(path, "digest");
        const json::string &digest = as_string(*d, p);
        if (!is_sha256_digest(digest))
            fail(p, "image digest must be \"sha256:\" followed by 64 lowercase hex digits");
        if (!ref_digest.empty() && ref_digest != std::string_view(digest))
            fail(p, "image digest must equal the digest in the image reference");
        out["digest"] = digest;
    }
    return out;
}

// ---- env ---------------------------------------------------------------------------

// {"name": map, "key": key} naming a key of a config map or secret.
json::object normalize_ref(const json::value &v, const std::string &path, const MapKind &kind,
                           Context *ctx) {
    const json::object &o = as_object(v, path);
    only_keys(o, {"name", "key"}, path);
    std::string name_path = path_key(path, "name");
    std::string key_path = path_key(path, "key");
    std::string name = sv(as_string(required(o, "name", path), name_path));
    std::string key = sv(as_string(required(o, "key", path), key_path));
    if (!resolve_map(name, name_path, kind, ctx).contains(key))
        fail(key_path, "reference does not resolve: " + std::string(kind.noun) + " " +
                           quote(name) + " has no key " + quote(key));
    json::object out;
    out["name"] = name;
    out["key"] = key;
    return out;
}

json::object normalize_env_var(const json::value &v, const std::string &path, NameSet *names,
                               Context *ctx) {
    const json::object &o = as_object(v, path);
    only_keys(o, {"name", "value", "secretRef", "configMapRef"}, path);
    json::object out;
    std::string name_path = path_key(path, "name");
    std::string name = sv(as_string(required(o, "name", path), name_path));
    if (!is_env_name(name))
        fail(name_path, "env var name must match ^[-._a-zA-Z][-._a-zA-Z0-9]*$ and be at most 256 "
                        "characters, got " + quote(name));
    if (!names->insert(name).second) fail(name_path, "duplicate env var name " + quote(name));
    out["name"] = name;

    std::string_view source = one_of(o, {"value", "secretRef", "configMapRef"}, path, "env var");
    std::string p = path_key(path, source);
    if (source == "value")
        out[source] = as_string(o.at(source), p);
    else
        out[source] = normalize_ref(o.at(source), p, source == "secretRef" ? kSecret : kConfigMap, ctx);
    return out;
}

json::array normalize_env(const json::value &v, const std::string &path, Context *ctx) {
    NameSet names;
    return normalize_each(array_max(v, path, "env", kMaxEnv), path,
                          [&](const json::value &e, const std::string &p) {
                              return normalize_env_var(e, p, &names, ctx);
                          });
}

// ---- ports -------------------------------------------------------------------------

json::object normalize_port(const json::value &v, const std::string &path, NameSet *local_names,
                            Context *ctx) {
    const json::object &o = as_object(v, path);
    only_keys(o, {"name", "containerPort", "protocol", "expose"}, path);
    json::object out;
    if (const json::value *n = o.if_contains("name")) {
        std::string p = path_key(path, "name");
        std::string name = sv(as_string(*n, p));
        if (!is_port_name(name))
            fail(p, "port name must be an IANA service name (1-15 lowercase letters, digits or "
                    "'-', at least one letter, no leading, trailing or double '-'), got " +
                        quote(name));
        if (!ctx->port_names.insert(name).second)
            fail(p, "duplicate port name " + quote(name) + ": port names must be unique in the spinner");
        local_names->insert(name);
        out["name"] = name;
    }
    std::string port_path = path_key(path, "containerPort");
    std::int64_t port = int_in(required(o, "containerPort", path), port_path, "port", 1, 65535);
    out["containerPort"] = port;

    std::string protocol = "TCP";
    if (const json::value *pr = o.if_contains("protocol")) {
        std::string p = path_key(path, "protocol");
        protocol = sv(as_string(*pr, p));
        if (protocol != "TCP" && protocol != "UDP" && protocol != "SCTP")
            fail(p, "protocol must be \"TCP\", \"UDP\" or \"SCTP\"");
    }
    out["protocol"] = protocol;
    if (!ctx->ports.emplace(port, protocol).second)
        fail(port_path, "duplicate port " + std::to_string(port) + "/" + protocol +
                            ": containerPort and protocol must be unique in the spinner");

    bool expose = false;
    if (const json::value *e = o.if_contains("expose")) expose = as_bool(*e, path_key(path, "expose"));
    out["expose"] = expose;
    return out;
}

json::array normalize_ports(const json::value &v, const std::string &path, NameSet *local_names,
                            Context *ctx) {
    return normalize_each(array_max(v, path, "ports", kMaxPorts), path,
                          [&](const json::value &e, const std::string &p) {
                              return normalize_port(e, p, local_names, ctx);
                          });
}

// ---- resources and security context ----------------------------------------------

json::object normalize_resources(const json::value &v, const std::string &path) {
    const json::object &o = as_object(v, path);
    only_keys(o, {"cpu", "memory"}, path);
    json::object out;
    if (const json::value *c = o.if_contains("cpu")) {
        std::string p = path_key(path, "cpu");
        out["cpu"] = format_cpu_millis(parse_cpu_millis(quantity_text(*c, p, "cpu"), p));
    }
    if (const json::value *m = o.if_contains("memory")) {
        std::string p = path_key(path, "memory");
        out["memory"] = format_bytes(parse_bytes(quantity_text(*m, p, "memory"), p));
    }
    return out;
}

json::array capability_list(const json::value &v, const std::string &path) {
    const json::array &a = array_max(v, path, "capabilities", kMaxCapabilities);
    json::array out;
    for (std::size_t i = 0; i < a.size(); ++i) {
        std::string p = path_index(path, i);
        const json::string &s = as_string(a[i], p);
        if (!is_capability(s))
            fail(p, "capability must match ^[A-Z][A-Z0-9_]*$ (e.g. \"NET_BIND_SERVICE\" or "
                    "\"ALL\"), got " + quote(s));
        out.emplace_back(s);
    }
    return out;
}

json::object normalize_capabilities(const json::value &v, const std::string &path) {
    const json::object &o = as_object(v, path);
    only_keys(o, {"add", "drop"}, path);
    json::object out;
    for (std::string_view key : {"add", "drop"})
        if (const json::value *list = o.if_contains(key))
            out[key] = capability_list(*list, path_key(path, key));
    return out;
}

json::object normalize_security_context(const json::value &v, const std::string &path) {
    const json::object &o = as_object(v, path);
    only_keys(o, {"runAsUser", "runAsGroup", "fsGroup", "runAsNonRoot", "readOnlyRootFilesystem",
                  "allowPrivilegeEscalation", "privileged", "capabilities"},
              path);
    json::object out;
    for (std::string_view key : {"runAsUser", "runAsGroup", "fsGroup"})
        if (const json::value *id = o.if_contains(key))
            out[key] = int_in(*id, path_key(path, key), key, 0, kMaxId);
    for (std::string_view key :
         {"runAsNonRoot", "readOnlyRootFilesystem", "allowPrivilegeEscalation", "privileged"})
        if (const json::value *b = o.if_contains(key)) out[key] = as_bool(*b, path_key(path, key));
    if (const json::value *c = o.if_contains("capabilities"))
        out["capabilities"] = normalize_capabilities(*c, path_key(path, "capabilities"));

    auto flag = [&](std::string_view key, bool want) {
        const json::value *b = out.if_contains(key);
        return b != nullptr && b->get_bool() == want;
    };
    const json::value *user = out.if_contains("runAsUser");
    if (flag("runAsNonRoot", true) && user != nullptr && user->get_int64() == 0)
        fail(path_key(path, "runAsUser"), "runAsUser must not be 0 when runAsNonRoot is true");
    if (flag("privileged", true) && flag("allowPrivilegeEscalation", false))
        fail(path_key(path, "allowPrivilegeEscalation"),
             "allowPrivilegeEscalation must not be false when privileged is true");
    return out;
}

// ---- the container -------------------------------------------------------------------

void add_code_version(const json::object &o, const std::string &path, json::object *out) {
    const json::value *v = o.if_contains("codeVersion");
    if (v == nullptr) return;
    std::string p = path_key(path, "codeVersion");
    const json::string &s = as_string(*v, p);
    bool printable = std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
    if (s.empty() || s.size() > kMaxCodeVersion || !printable)
        fail(p, "codeVersion must be 1-256 printable ASCII characters");
    (*out)["codeVersion"] = s;
}

void add_working_dir(const json::object &o, const std::string &path, json::object *out) {
    const json::value *v = o.if_contains("workingDir");
    if (v == nullptr) return;
    std::string p = path_key(path, "workingDir");
    const json::string &s = as_string(*v, p);
    if (const char *rule = check_working_dir(s)) fail(p, rule);
    (*out)["workingDir"] = s;
}

json::object normalize_container(const json::value &v, const std::string &path, Context *ctx) {
    const json::object &o = as_object(v, path);
    only_keys(o, {"name", "image", "codeVersion", "command", "args", "workingDir", "env", "ports",
                  "resources", "securityContext", "mounts", "probes"},
              path);
    json::object out;
    out["name"] = unique_dns_name(o, path, "container", &ctx->container_names);
    out["image"] = normalize_image(required(o, "image", path), path_key(path, "image"));
    add_code_version(o, path, &out);
    out["command"] = string_list(or_default(o, "command", kEmptyArray), path_key(path, "command"),
                                 "command");
    out["args"] = string_list(or_default(o, "args", kEmptyArray), path_key(path, "args"), "args");
    add_working_dir(o, path, &out);
    out["env"] = normalize_env(or_default(o, "env", kEmptyArray), path_key(path, "env"), ctx);
    NameSet port_names;
    out["ports"] = normalize_ports(or_default(o, "ports", kEmptyArray), path_key(path, "ports"),
                                   &port_names, ctx);
    out["resources"] =
        normalize_resources(or_default(o, "resources", kEmptyObject), path_key(path, "resources"));
    out["securityContext"] = normalize_security_context(
        or_default(o, "securityContext", kEmptyObject), path_key(path, "securityContext"));
    out["mounts"] =
        normalize_mounts(or_default(o, "mounts", kEmptyArray), path_key(path, "mounts"), ctx);
    out["probes"] = normalize_probes(or_default(o, "probes", kEmptyObject),
                                     path_key(path, "probes"), port_names);
    return out;
}

}  // namespace

const json::array &containers_array(const json::value &v, const std::string &path) {
    const json::array &a = as_array(v, path);
    if (a.empty() || a.size() > kMaxContainers) fail(path, "containers must have 1-64 entries");
    return a;
}

json::array normalize_containers(const json::array &a, const std::string &path, Context *ctx) {
    return normalize_each(a, path, [&](const json::value &e, const std::string &p) {
        return normalize_container(e, p, ctx);
    });
}

} // namespace spinner_rollback::detail
