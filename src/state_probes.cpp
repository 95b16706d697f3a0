// The state schema for a container's probes (liveness, readiness, startup):
// one handler each (httpGet, tcpSocket or exec) and bounded timings.

#include "names.hpp"
#include "state_walk.hpp"

namespace spinner_rollback::detail {

namespace {

constexpr std::size_t kMaxHttpPath = 2048;
constexpr std::int64_t kMaxProbeValue = 86400;

// A port number, or the name of one of the container's ports.
json::value probe_port(const json::value &v, const std::string &path, const NameSet &port_names) {
    if (v.is_string()) {
        std::string name = sv(v.get_string());
        if (!is_port_name(name)) fail(path, "port must be an integer 1-65535 or a port name");
        if (port_names.find(name) == port_names.end())
            unresolved(path, "port", name, "this container");
        return json::value(name);
    }
    if (v.is_int64() && v.get_int64() >= 1 && v.get_int64() <= 65535) return v.get_int64();
    fail(path, "port must be an integer 1-65535 or a port name");
}

json::object normalize_http_get(const json::value &v, const std::string &path,
                                const NameSet &port_names) {
    const json::object &o = as_object(v, path);
    only_keys(o, {"path", "port"}, path);
    json::object out;
    if (const json::value *p = o.if_contains("path")) {
        std::string pp = path_key(path, "path");
        const json::string &s = as_string(*p, pp);
        if (s.empty() || s.front() != '/' || s.size() > kMaxHttpPath || has_space_or_control(s))
            fail(pp, "httpGet path must start with '/' and be at most 2048 characters without "
                     "spaces or control characters");
        out["path"] = s;
    }
    out["port"] = probe_port(required(o, "port", path), path_key(path, "port"), port_names);
    return out;
}

json::object normalize_tcp_socket(const json::value &v, const std::string &path,
                                  const NameSet &port_names) {
    const json::object &o = as_object(v, path);
    only_keys(o, {"port"}, path);
    json::object out;
    out["port"] = probe_port(required(o, "port", path), path_key(path, "port"), port_names);
    return out;
}

json::object normalize_exec(const json::value &v, const std::string &path) {
    const json::object &o = as_object(v, path);
    only_keys(o, {"command"}, path);
    std::string p = path_key(path, "command");
    json::array command = string_list(required(o, "command", path), p, "exec command");
    if (command.empty()) fail(p, "exec command must not be empty");
    json::object out;
    out["command"] = std::move(command);
    return out;
}

json::object normalize_probe(const json::value &v, const std::string &path,
                             const NameSet &port_names) {
    const json::object &o = as_object(v, path);
    only_keys(o, {"httpGet", "tcpSocket", "exec", "initialDelaySeconds", "periodSeconds",
                  "timeoutSeconds", "successThreshold", "failureThreshold"},
              path);
    one_of(o, {"httpGet", "tcpSocket", "exec"}, path, "probe", /*optional=*/true);
    json::object out;
    if (const json::value *http = o.if_contains("httpGet"))
        out["httpGet"] = normalize_http_get(*http, path_key(path, "httpGet"), port_names);
    if (const json::value *tcp = o.if_contains("tcpSocket"))
        out["tcpSocket"] = normalize_tcp_socket(*tcp, path_key(path, "tcpSocket"), port_names);
    if (const json::value *exec = o.if_contains("exec"))
        out["exec"] = normalize_exec(*exec, path_key(path, "exec"));
    for (std::string_view key : {"initialDelaySeconds", "periodSeconds", "timeoutSeconds",
                                 "successThreshold", "failureThreshold"})
        if (const json::value *n = o.if_contains(key))
            out[key] = int_in(*n, path_key(path, key), key, 0, kMaxProbeValue);
    return out;
}

}  // namespace

json::object normalize_probes(const json::value &v, const std::string &path,
                              const NameSet &port_names) {
    const json::object &o = as_object(v, path);
    only_keys(o, {"liveness", "readiness", "startup"}, path);
    json::object out;
    for (std::string_view key : {"liveness", "readiness", "startup"})
        if (const json::value *p = o.if_contains(key))
            out[key] = normalize_probe(*p, path_key(path, key), port_names);
    return out;
}

} // namespace spinner_rollback::detail
