// Shared fixtures for the unit tests: a realistic state document and helpers.
#pragma once

#include "json.hpp"
#include "support/backend.hpp"

#include <spinner_rollback/spinner_rollback.hpp>

#include <filesystem>
#include <functional>
#include <memory>
#include <random>
#include <string>

namespace fixtures {

namespace json = boost::json;

inline const std::string kDigestA = "sha256:" + std::string(64, 'a');
inline const std::string kDigestB = "sha256:" + std::string(64, 'b');
inline const std::string kSecretValue = "Zq9-DISTINCTIVE-s3cret-4711";
inline const std::string kKey = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

/// The example of product.md §1, with a real digest.
inline json::object base_state() {
    return json::parse(R"({
  "schemaVersion": 1,
  "settings": {"rollback": {"enabled": true, "historyLimit": 20}, "description": "shop front"},
  "instances": 2,
  "containers": [{
    "name": "web",
    "image": {"reference": "registry.example/shop:1.4", "digest": ")" + kDigestA + R"("},
    "codeVersion": "9f3c2e1",
    "command": ["/app/shop"], "args": ["--listen", ":8080"], "workingDir": "/app",
    "env": [{"name": "MODE", "value": "prod"},
            {"name": "DB_PASSWORD", "secretRef": {"name": "db", "key": "password"}},
            {"name": "FLAGS", "configMapRef": {"name": "shop-config", "key": "flags"}}],
    "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP", "expose": true}],
    "resources": {"cpu": "500m", "memory": "256Mi"},
    "securityContext": {"runAsUser": 1000, "runAsNonRoot": true, "readOnlyRootFilesystem": true,
                        "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}},
    "mounts": [{"path": "/etc/shop", "configMap": "shop-config"},
               {"path": "/run/secrets/db", "secret": "db"},
               {"path": "/var/lib/shop", "volume": "data"}],
    "probes": {"readiness": {"httpGet": {"path": "/healthz", "port": 8080}}}
  }],
  "volumes": [{"name": "data", "mode": "shared", "size": "1Gi", "storageClass": "standard",
               "volumeId": "vol-7f3a"}],
  "configMaps": {"shop-config": {"flags": "a,b", "app.yaml": "listen: 8080\n"}},
  "secrets": {"db": {"password": ")" + kSecretValue + R"("}},
  "labels": {"team": "shop"},
  "extensions": {}
})").as_object();
}

inline json::object &container(json::object &s) { return s["containers"].as_array()[0].as_object(); }

inline std::string text(const json::object &o) { return json::serialize(o); }

/// Apply `f` to a copy of base_state() and return its JSON text.
inline std::string with(const std::function<void(json::object &)> &f) {
    json::object s = base_state();
    f(s);
    return text(s);
}

/// A fresh store file path in a per-test temp dir (removed at exit of the test).
struct TempDir {
    std::filesystem::path path;
    TempDir() {
        std::random_device rd;
        path = std::filesystem::temp_directory_path() /
               ("spr-test-" + std::to_string(rd()) + "-" + std::to_string(rd()));
        std::filesystem::create_directories(path);
        stores_ = std::make_unique<spr_backend::Stores>(path);
    }
    ~TempDir() {
        stores_.reset();
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    std::string file(const std::string &name = "store.db") const { return (path / name).string(); }
    /// The store named `name` in this test (support/backend.hpp: a SQLite
    /// file or a PostgreSQL schema), created empty on first use.
    std::string store(const std::string &name = "store") { return stores_->get(name); }
    std::unique_ptr<spr_backend::Stores> stores_;
};

/// The Error `f` throws; one with code ok ("no error") when it throws none.
template <class F> spinner_rollback::Error error_of(F &&f) {
    try {
        f();
    } catch (const spinner_rollback::Error &e) {
        return e;
    }
    return spinner_rollback::Error(spinner_rollback::ErrorCode::ok, "no error");
}

inline spinner_rollback::StoreOptions keyed() {
    spinner_rollback::StoreOptions o;
    o.key = kKey;
    return o;
}

} // namespace fixtures
