// The benchmarks' spinner state (shared by spr_bench and spr_bench_pg_latency).
#pragma once

#include <string>

namespace spr_bench {

inline std::string json_escape(const std::string &s) {
    std::string o;
    o.reserve(s.size() + 8);
    for (char c : s) {
        switch (c) {
        case '"': o += "\\\""; break;
        case '\\': o += "\\\\"; break;
        case '\n': o += "\\n"; break;
        case '\t': o += "\\t"; break;
        default: o += c;
        }
    }
    return o;
}

// A realistic state like product.md §1: one container with env (plain,
// secretRef, configMapRef), ports, resources, security context, mounts of a
// config map, a secret and a volume, a probe, config and secret values.
// `rev` is the value of env var REV — the one thing that changes between
// versions. `big_file_escaped`, when given, is added to the config map as
// "big.txt" (already JSON-escaped, so the 1 MiB is not re-escaped per record).
inline std::string make_state(const std::string &rev, long history_limit, const std::string *big_file_escaped = nullptr) {
    const std::string *big_file = big_file_escaped;
    std::string s;
    s.reserve(2048 + (big_file ? big_file->size() + big_file->size() / 8 : 0));
    s += R"({"schemaVersion":1,)";
    s += R"("settings":{"rollback":{"enabled":true,"historyLimit":)" + std::to_string(history_limit) +
         R"(},"description":"shop front"},)";
    s += R"("instances":2,)";
    s += R"("containers":[{"name":"web",)";
    s += R"("image":{"reference":"registry.example/shop:1.4",)"
         R"("digest":"sha256:4f2a9c0d1e3b5a7c9e1f3a5b7c9d1e3f5a7b9c1d3e5f7a9b1c3d5e7f9a1b3c5d"},)";
    s += R"("codeVersion":"9f3c2e1",)";
    s += R"("command":["/app/shop"],"args":["--listen",":8080"],"workingDir":"/app",)";
    s += R"("env":[{"name":"MODE","value":"prod"},)";
    s += R"({"name":"REV","value":")" + json_escape(rev) + R"("},)";
    s += R"({"name":"LOG_LEVEL","value":"info"},)";
    s += R"({"name":"DB_HOST","value":"db.internal:5432"},)";
    s += R"({"name":"DB_PASSWORD","secretRef":{"name":"db","key":"password"}},)";
    s += R"({"name":"FLAGS","configMapRef":{"name":"shop-config","key":"flags"}}],)";
    s += R"("ports":[{"name":"http","containerPort":8080,"protocol":"TCP","expose":true},)"
         R"({"name":"metrics","containerPort":9090,"protocol":"TCP","expose":false}],)";
    s += R"("resources":{"cpu":"500m","memory":"256Mi"},)";
    s += R"("securityContext":{"runAsUser":1000,"runAsNonRoot":true,"readOnlyRootFilesystem":true,)"
         R"("allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]}},)";
    s += R"("mounts":[{"path":"/etc/shop","configMap":"shop-config"},)"
         R"({"path":"/run/secrets/db","secret":"db"},)"
         R"({"path":"/var/lib/shop","volume":"data"}],)";
    s += R"("probes":{"readiness":{"httpGet":{"path":"/healthz","port":8080}}}}],)";
    s += R"("volumes":[{"name":"data","mode":"shared","size":"1Gi","storageClass":"standard",)"
         R"("volumeId":"vol-7f3a"}],)";
    s += R"("configMaps":{"shop-config":{"flags":"a,b",)"
         R"("app.yaml":"listen: 8080\ncache:\n  size: 64Mi\n  ttl: 30s\nfeatures:\n  checkout: true\n")";
    if (big_file) s += R"(,"big.txt":")" + *big_file + "\"";
    s += "}},";
    s += R"("secrets":{"db":{"password":"s3cr3t-Pa55w0rd-for-the-shop-db"}},)";
    s += R"("labels":{"team":"shop","tier":"frontend"},)";
    s += R"("extensions":{}})";
    return s;
}

} // namespace spr_bench
