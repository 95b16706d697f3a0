// JSON form of plans and plan requests (the C API's plan JSON). A plan's
// keyed digest covers plan_signed(): every field but planId and digest,
// the state by its sha256.
#include "plan_build.hpp"

#include "digest.hpp"

#include "names.hpp"
#include "scope.hpp"

namespace spinner_rollback {

using namespace detail;

namespace {


json::object request_value(const PlanRequest &r) {
    json::object data;
    for (const auto &[k, id] : r.snapshots)
        data[k] = id.empty() ? json::value("current") : json::value(json::object{{"snapshot", id}});
    return json::object{{"data", std::move(data)}, {"scope", scope_value(r.scope)}};
}

json::value step_value(const PlanStep &s) {
    if (s.action == "provisionVolume")
        return json::object{{"action", s.action},          {"volume", s.volume},
                            {"newVolume", s.new_volume},   {"fromSnapshot", s.from_snapshot},
                            {"sizeBytes", s.size_bytes},   {"storageClass", s.storage_class},
                            {"description", s.description}};
    return json::object{{"action", s.action}, {"version", s.version}, {"description", s.description}};
}

json::value volume_value(const PlanVolume &v) {
    json::array mounts;
    for (const auto &m : v.mounts) mounts.emplace_back(json::string(m));
    json::value new_volume = nullptr;
    if (v.new_volume) {
        const auto &n = *v.new_volume;
        new_volume = json::object{{"name", n.name},
                                  {"sizeBytes", n.size_bytes},
                                  {"storageClass", n.storage_class},
                                  {"copies", n.copies},
                                  {"estimatedMonthlyCost", n.estimated_monthly_cost},
                                  {"currency", n.currency}};
    }
    const bool snap = v.source == PlanVolume::Source::snapshot;
    return json::object{{"volume", v.volume},
                        {"mounts", std::move(mounts)},
                        {"source", snap ? "snapshot" : "current"},
                        {"snapshotId", snap ? json::value(v.snapshot_id) : json::value(nullptr)},
                        {"snapshotCreatedAt", snap ? json::value(v.snapshot_created_at) : json::value(nullptr)},
                        {"volumeId", v.volume_id ? json::value(*v.volume_id) : json::value(nullptr)},
                        {"newVolume", std::move(new_volume)}};
}

// Readers for from_json: every field required, unknown fields refused.
struct Reader {
    const json::object &o;
    std::string path;
    Reader(const json::value &v, std::string p, std::initializer_list<std::string_view> keys)
        : o(as_object(v, p)), path(std::move(p)) {
        only_keys(o, keys, path);
    }
    const json::value &at(const char *k) const {
        auto *x = o.if_contains(k);
        if (!x) fail(path + "." + k, "is required (pass the plan exactly as planned)");
        return *x;
    }
    std::string str(const char *k, std::size_t max = 4096) const { return as_string_max(at(k), path + "." + k, max); }
    std::int64_t i64(const char *k) const { return as_int(at(k), path + "." + k); }
    std::optional<std::string> str_or_null(const char *k) const {
        const auto &v = at(k);
        if (v.is_null()) return std::nullopt;
        return as_string_max(v, path + "." + k, 4096);
    }
};

PlanVolume volume_from(const json::value &v, const std::string &path) {
    Reader r(v, path, {"volume", "mounts", "source", "snapshotId", "snapshotCreatedAt", "volumeId", "newVolume"});
    PlanVolume out;
    out.volume = r.str("volume");
    for (std::size_t i = 0; const auto &m : as_array(r.at("mounts"), path + ".mounts"))
        out.mounts.push_back(as_string_max(m, path_index(path + ".mounts", i++), 4096));
    const std::string source = r.str("source");
    if (source == "snapshot") out.source = PlanVolume::Source::snapshot;
    else if (source != "current") fail(path + ".source", "must be \"current\" or \"snapshot\"");
    out.snapshot_id = r.str_or_null("snapshotId").value_or("");
    out.snapshot_created_at = r.str_or_null("snapshotCreatedAt").value_or("");
    out.volume_id = r.str_or_null("volumeId");
    if (!r.at("newVolume").is_null()) {
        Reader n(r.at("newVolume"), path + ".newVolume",
                 {"name", "sizeBytes", "storageClass", "copies", "estimatedMonthlyCost", "currency"});
        NewVolume nv;
        nv.name = n.str("name");
        nv.size_bytes = n.i64("sizeBytes");
        nv.storage_class = n.str("storageClass");
        nv.copies = n.i64("copies");
        nv.estimated_monthly_cost = as_number(n.at("estimatedMonthlyCost"), n.path + ".estimatedMonthlyCost");
        nv.currency = n.str("currency");
        out.new_volume = std::move(nv);
    }
    return out;
}

PlanStep step_from(const json::value &v, const std::string &path) {
    PlanStep s;
    const auto *action = as_object(v, path).if_contains("action");
    if (!action) fail(path + ".action", "is required (pass the plan exactly as planned)");
    s.action = as_string_max(*action, path + ".action", 64);
    if (s.action != "provisionVolume" && s.action != "applyState" && s.action != "reportStatus")
        fail(path + ".action", "must be provisionVolume, applyState or reportStatus");
    if (s.action == "provisionVolume") {
        Reader r(v, path, {"action", "volume", "newVolume", "fromSnapshot", "sizeBytes", "storageClass", "description"});
        s.volume = r.str("volume");
        s.new_volume = r.str("newVolume");
        s.from_snapshot = r.str("fromSnapshot");
        s.size_bytes = r.i64("sizeBytes");
        s.storage_class = r.str("storageClass");
        s.description = r.str("description");
    } else {
        Reader r(v, path, {"action", "version", "description"});
        s.version = r.i64("version");
        s.description = r.str("description");
    }
    return s;
}

Change change_from(const json::value &v, const std::string &path) {
    Reader r(v, path, {"path", "category", "kind", "from", "to"});
    Change c;
    c.path = r.str("path");
    c.category = r.str("category", 64);
    const auto kind = kind_named(r.str("kind", 16));
    if (!kind) fail(path + ".kind", "must be added, removed or changed");
    c.kind = *kind;
    c.from = canonical(r.at("from"));
    c.to = canonical(r.at("to"));
    return c;
}

} // namespace

namespace detail {

json::object plan_body(const Plan &p, json::value state) {
    json::array volumes, steps, warnings;
    for (const auto &v : p.volumes) volumes.push_back(volume_value(v));
    for (const auto &s : p.steps) steps.push_back(step_value(s));
    for (const auto &w : p.warnings) warnings.emplace_back(json::string(w));
    return json::object{{"spinner", p.spinner},
                        {"baseVersion", p.base_version},
                        {"targetVersion", p.target_version},
                        {"request", request_value(p.request)},
                        {"state", std::move(state)},
                        {"diff", diff_json(p.diff)},
                        {"summary", p.summary},
                        {"volumes", std::move(volumes)},
                        {"steps", std::move(steps)},
                        {"warnings", std::move(warnings)},
                        {"requiresConfirmation", p.requires_confirmation},
                        {"resultDigest", p.result_digest}};
}

std::string plan_signed(const Plan &p, std::string_view state_sha256) {
    return canonical(plan_body(p, json::string("sha256:" + std::string(state_sha256))));
}

} // namespace detail

PlanRequest PlanRequest::from_json(std::string_view text) {
    PlanRequest r;
    if (text.empty()) return r;
    json::value v = parse_strict(text, "request", {1u << 20, 8, 64u << 10});
    const auto &o = as_object(v, "request");
    only_keys(o, {"data", "scope"}, "request");
    if (auto *x = o.if_contains("scope")) r.scope = scope_from_value(*x, "request.scope");
    if (auto *x = o.if_contains("data")) {
        for (const auto &kv : as_object(*x, "request.data")) {
            std::string path = "request.data." + std::string(kv.key());
            if (!is_dns_label(kv.key())) fail(path, "volume name must be a DNS-1123 label");
            if (kv.value().is_string()) {
                if (kv.value().get_string() != "current")
                    fail(path, "must be \"current\" or {\"snapshot\": \"<id>\"}");
                r.snapshots[std::string(kv.key())] = std::string();
                continue;
            }
            const auto &src = as_object(kv.value(), path);
            only_keys(src, {"snapshot"}, path);
            auto *id = src.if_contains("snapshot");
            if (!id) fail(path + ".snapshot", "is required");
            std::string sid = as_string_max(*id, path + ".snapshot", 253);
            if (sid.empty()) fail(path + ".snapshot", "must not be empty");
            r.snapshots[std::string(kv.key())] = sid;
        }
    }
    return r;
}

std::string PlanRequest::to_json() const {
    return canonical(request_value(*this));
}

std::string Plan::to_json() const {
    json::object o = plan_body(*this, nullptr);
    o["planId"] = plan_id;
    o["digest"] = digest;
    return dump_spliced(o, "state", state_json);
}

Plan Plan::from_json(std::string_view text) { return detail::plan_from_json(text, false); }

namespace detail {

Plan plan_from_json(std::string_view text, bool state_as_sent) {
    json::value v = parse_strict(text, "plan", {64u << 20, 80, 8u << 20});
    Reader r(v, "plan", {"spinner", "baseVersion", "targetVersion", "request", "state", "diff", "summary",
                         "volumes", "steps", "warnings", "requiresConfirmation", "resultDigest", "planId", "digest"});
    Plan p;
    p.plan_id = r.str("planId", 64);
    p.digest = r.str("digest", 128);
    p.spinner = r.str("spinner", 64);
    p.base_version = r.i64("baseVersion");
    p.target_version = r.i64("targetVersion");
    as_object(r.at("request"), "plan.request");
    p.request = PlanRequest::from_json(dump(r.at("request")));
    const json::object &state = as_object(r.at("state"), "plan.state");
    if (state_as_sent) p.state_json = std::string(raw_member(text, "state"));
    if (p.state_json.empty()) p.state_json = canonical(state);
    Reader diff(r.at("diff"), "plan.diff", {"changes"});
    for (std::size_t i = 0; const auto &c : as_array(diff.at("changes"), "plan.diff.changes"))
        p.diff.changes.push_back(change_from(c, path_index("plan.diff.changes", i++)));
    p.summary = as_string_max(r.at("summary"), "plan.summary", 1u << 20);
    for (std::size_t i = 0; const auto &x : as_array(r.at("volumes"), "plan.volumes"))
        p.volumes.push_back(volume_from(x, path_index("plan.volumes", i++)));
    for (std::size_t i = 0; const auto &x : as_array(r.at("steps"), "plan.steps"))
        p.steps.push_back(step_from(x, path_index("plan.steps", i++)));
    for (std::size_t i = 0; const auto &w : as_array(r.at("warnings"), "plan.warnings"))
        p.warnings.push_back(as_string_max(w, path_index("plan.warnings", i++), 1u << 16));
    p.requires_confirmation = as_bool(r.at("requiresConfirmation"), "plan.requiresConfirmation");
    p.result_digest = r.str("resultDigest", 128);
    return p;
}

} // namespace detail

} // namespace spinner_rollback
