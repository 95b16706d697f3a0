#include "diff_internal.hpp"
#include "names.hpp"
#include "quantity.hpp"
#include "state_schema.hpp"
#include "store_internal.hpp"

#include <spinner_rollback/rollback_planner.hpp>

#include <algorithm>
#include <cmath>
#include <set>

namespace spinner_rollback {

using namespace detail;
using Impl = VersionStore::Impl;

namespace {

const json::value kNull;

// The element of `arr` whose "name" is `name` (const or not), or nullptr.
template <class Array> auto find_named(Array &arr, std::string_view name) -> decltype(&arr[0].get_object()) {
    for (auto &e : arr)
        if (e.is_object()) {
            auto *n = e.get_object().if_contains("name");
            if (n && n->is_string() && n->get_string() == name) return &e.get_object();
        }
    return nullptr;
}

json::array &array_at(json::object &o, std::string_view k) {
    auto *v = o.if_contains(k);
    if (!v || !v->is_array()) o[k] = json::array();
    return o[k].get_array();
}

void copy_field(json::object &to, const json::object &from, std::string_view k) {
    if (auto *v = from.if_contains(k)) to[k] = *v;
    else to.erase(k);
}

// Set or erase a dotted path under "extensions" in `to`, from `from`.
void copy_extension_path(json::object &to_ext, const json::object &from_ext, std::string_view dotted) {
    std::vector<std::string> keys;
    std::size_t start = 0;
    while (start <= dotted.size()) {
        auto dot = dotted.find('.', start);
        keys.emplace_back(dotted.substr(start, dot == std::string_view::npos ? dotted.npos : dot - start));
        if (dot == std::string_view::npos) break;
        start = dot + 1;
    }
    const json::value *src = nullptr;
    const json::object *cur = &from_ext;
    for (std::size_t i = 0; i < keys.size(); ++i) {
        auto *v = cur->if_contains(keys[i]);
        if (!v) { src = nullptr; break; }
        if (i + 1 == keys.size()) { src = v; break; }
        if (!v->is_object()) { src = nullptr; break; }
        cur = &v->get_object();
    }
    json::object *dst = &to_ext;
    for (std::size_t i = 0; i + 1 < keys.size(); ++i) {
        auto *v = dst->if_contains(keys[i]);
        if (!v || !v->is_object()) {
            if (!src) return; // nothing to erase below a missing object
            (*dst)[keys[i]] = json::object();
            v = dst->if_contains(keys[i]);
        }
        dst = &v->get_object();
    }
    if (src) (*dst)[keys.back()] = *src;
    else dst->erase(keys.back());
}

// The resulting state: the target's tracked content, the current state's
// untracked fields and settings (docs/rollback.md).
json::object merge(const json::object &target, const json::object &current, const SnapshotPolicy &p,
                   bool scope_all) {
    json::object r = target;
    r["settings"] = current.at("settings");
    if (scope_all) return r;
    auto keep_current = [&](std::string_view cat) { return !p.tracks(cat); };
    if (keep_current("instances")) copy_field(r, current, "instances");
    const auto *cur_containers = current.if_contains("containers");
    for (auto &c : array_at(r, "containers")) {
        auto &co = c.as_object();
        const json::object *cc = cur_containers && cur_containers->is_array()
                                     ? find_named(cur_containers->get_array(),
                                                  std::string_view(co.at("name").as_string()))
                                     : nullptr;
        if (!cc) continue;
        for (const char *f : {"image", "codeVersion", "command", "args", "workingDir", "env", "ports",
                              "securityContext", "mounts", "probes"})
            if (keep_current(f)) copy_field(co, *cc, f);
        for (const char *f : {"cpu", "memory"}) {
            if (!keep_current(f)) continue;
            json::object res = co.contains("resources") ? co["resources"].as_object() : json::object();
            const auto *cres = cc->if_contains("resources");
            copy_field(res, cres && cres->is_object() ? cres->get_object() : json::object(), f);
            co["resources"] = std::move(res);
        }
    }
    if (keep_current("mounts")) copy_field(r, current, "volumes");
    if (keep_current("configValues")) copy_field(r, current, "configMaps");
    if (keep_current("secretValues")) {
        copy_field(r, current, "secrets");
        copy_field(r, current, "$secretBlobs");
    }
    if (keep_current("labels")) copy_field(r, current, "labels");
    if (keep_current("extensions")) {
        json::object ext = current.contains("extensions") ? current.at("extensions").as_object() : json::object();
        const json::object empty;
        const auto *text = target.if_contains("extensions");
        for (const auto &path : p.extension_paths())
            copy_extension_path(ext, text && text->is_object() ? text->get_object() : empty,
                                std::string_view(path).substr(11));
        r["extensions"] = std::move(ext);
    }
    return r;
}

std::string money(double x) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.2f", x);
    return buf;
}

struct Built {
    json::object plan; // without planId and digest
    Impl::Sealed sealed;
    std::vector<Reason> reasons;
    std::string summary;
    bool requires_confirmation = false;
};

Built build(Impl &I, const Impl::SpinnerRow &s, std::int64_t target, const PlanRequest &req,
            const Pricing &pricing) {
    if (!s.enabled)
        throw Error(ErrorCode::rollback_disabled,
                    "rollback is disabled for spinner \"" + s.name + "\" (settings.rollback.enabled is false)",
                    "spinner");
    if (s.current == 0) throw Error(ErrorCode::not_found, "spinner \"" + s.name + "\" has no versions", "spinner");
    if (target == s.current)
        throw Error(ErrorCode::current_version,
                    "version " + std::to_string(target) + " is the current version; pick an earlier one",
                    "target");
    auto trow = I.require_version(s, target, "target");
    auto crow = I.find_version(s.id, s.current);
    if (!crow) throw Error(ErrorCode::corrupt, "current version row is missing");
    json::object tcore = I.load_core(trow.core);
    // "Current" is what the host runs: the latest recorded state. Its tracked
    // content equals the current version's (else a version would exist), but
    // its settings and untracked fields may be newer.
    json::object ccore = I.load_core(s.latest_core.empty() ? crow->core : s.latest_core);
    const SnapshotPolicy &policy = I.opts.policy;
    json::object merged = merge(tcore, ccore, policy, req.scope_all);

    // Data sources. Default "current": the volume in use now keeps serving.
    auto &vols = array_at(merged, "volumes");
    const auto *cvols = ccore.if_contains("volumes");
    std::vector<std::string> warnings;
    for (auto &v : vols) {
        auto &vo = v.as_object();
        std::string name(vo.at("name").as_string());
        const json::object *cv = cvols && cvols->is_array() ? find_named(cvols->get_array(), name) : nullptr;
        if (cv && cv->contains("volumeId")) vo["volumeId"] = cv->at("volumeId");
        else if (!cv && vo.contains("volumeId"))
            warnings.push_back("volume \"" + name + "\" is not in use now; the target's volume \"" +
                               std::string(vo.at("volumeId").as_string()) + "\" will be attached again");
    }
    for (const auto &[name, id] : req.snapshots)
        if (!find_named(vols, name))
            throw Error(ErrorCode::unknown_volume,
                        "version " + std::to_string(target) + " has no volume named \"" + name + "\"",
                        "request.data." + name);

    auto load = I.loader();
    auto changes = diff_objects(ccore, merged, load);
    std::vector<Reason> tracked = req.scope_all ? std::vector<Reason>{} : tracked_reasons(changes, policy);
    if (req.scope_all)
        for (const auto &c : changes) tracked.push_back({c.category, c.path});
    const bool any_snapshot = std::any_of(req.snapshots.begin(), req.snapshots.end(),
                                          [](const auto &kv) { return !kv.second.empty(); });
    if (tracked.empty() && !any_snapshot)
        throw Error(ErrorCode::identical,
                    "version " + std::to_string(target) + " has the same tracked content as the current version " +
                        std::to_string(s.current) + "; nothing to roll back",
                    "target");

    json::array volumes_out;
    json::array steps;
    bool confirm = false;
    const std::int64_t next = s.last_number + 1;
    const std::int64_t instances = merged.at("instances").to_number<std::int64_t>();
    for (auto &v : vols) {
        auto &vo = v.as_object();
        std::string name(vo.at("name").as_string());
        json::array mounts;
        for (const auto &c : merged.at("containers").as_array())
            for (const auto &m : c.as_object().at("mounts").as_array())
                if (auto *mv = m.as_object().if_contains("volume"); mv && mv->as_string() == name)
                    mounts.push_back(m.as_object().at("path"));
        auto it = req.snapshots.find(name);
        if (it == req.snapshots.end() || it->second.empty()) {
            volumes_out.push_back(json::object{{"volume", name}, {"mounts", std::move(mounts)},
                                               {"source", "current"}, {"snapshotId", nullptr},
                                               {"volumeId", vo.contains("volumeId") ? vo.at("volumeId") : kNull},
                                               {"newVolume", nullptr}});
            continue;
        }
        const std::string path = "request.data." + name + ".snapshot";
        auto snap = I.find_snapshot(it->second);
        if (!snap) throw Error(ErrorCode::not_found, "no snapshot with id \"" + it->second + "\"", path);
        if (!snap->ready)
            throw Error(ErrorCode::snapshot_not_ready, "snapshot \"" + snap->id + "\" is not ready yet", path);
        if (!I.volume_bound(s, name, snap->volume))
            throw Error(ErrorCode::snapshot_mismatch,
                        "snapshot \"" + snap->id + "\" is of volume \"" + snap->volume +
                            "\", which no retained version bound to \"" + name + "\"",
                        path);
        std::int64_t declared = parse_bytes(std::string_view(vo.at("size").as_string()), "size");
        std::int64_t size = std::max(declared, snap->size_bytes);
        std::string storage_class = vo.contains("storageClass") ? std::string(vo.at("storageClass").as_string())
                                                                 : snap->storage_class;
        std::int64_t copies = std::string_view(vo.at("mode").as_string()) == "dedicated" ? std::max<std::int64_t>(instances, 1) : 1;
        double gib = static_cast<double>(size) / double(1 << 30);
        double cost = std::round(gib * pricing.price_for(storage_class) * double(copies) * 100.0) / 100.0;
        std::string base = (s.name + "-" + name).substr(0, 48);
        std::string new_name = base + "-v" + std::to_string(next);
        std::string old_id = vo.contains("volumeId") ? std::string(vo.at("volumeId").as_string()) : std::string();
        vo["volumeId"] = new_name;
        if (size != declared) vo["size"] = format_bytes(size);
        confirm = true;
        json::object nv{{"name", new_name}, {"sizeBytes", size}, {"storageClass", storage_class},
                        {"copies", copies}, {"estimatedMonthlyCost", cost}, {"currency", pricing.currency}};
        steps.push_back(json::object{
            {"action", "provisionVolume"}, {"volume", name}, {"newVolume", new_name},
            {"fromSnapshot", snap->id}, {"sizeBytes", size}, {"storageClass", storage_class},
            {"description", "create volume \"" + new_name + "\" from snapshot \"" + snap->id + "\""}});
        warnings.push_back("volume \"" + name + "\": a new volume \"" + new_name + "\" (" + format_bytes(size) +
                           (copies > 1 ? " x " + std::to_string(copies) : std::string()) +
                           ") is provisioned from snapshot \"" + snap->id + "\" at an estimated " +
                           money(cost) + " " + pricing.currency + " per month; the volume in use now" +
                           (old_id.empty() ? std::string() : " (\"" + old_id + "\")") +
                           " is kept, not deleted");
        volumes_out.push_back(json::object{{"volume", name}, {"mounts", std::move(mounts)},
                                           {"source", "snapshot"}, {"snapshotId", snap->id},
                                           {"volumeId", new_name}, {"newVolume", std::move(nv)}});
    }

    // The result must itself be a valid state. Loading it reads the store:
    // storage errors (io, busy, corrupt) pass through unchanged, so a host
    // retries a lost connection instead of giving up on an "invalid" plan.
    json::object resulting = I.materialize(merged, Impl::Secrets::tokens);
    try {
        normalize_state(std::move(resulting));
    } catch (const Error &e) {
        if (e.code() != ErrorCode::invalid) throw;
        throw Error(ErrorCode::invalid, "the resulting state would be invalid: " + std::string(e.what()),
                    e.path());
    }
    if (any_snapshot) changes = diff_objects(ccore, merged, load);

    for (const auto &c : merged.at("containers").as_array()) {
        const auto &img = c.as_object().at("image").as_object();
        if (!img.contains("digest"))
            warnings.push_back("container \"" + std::string(c.as_object().at("name").as_string()) +
                               "\": image \"" + std::string(img.at("reference").as_string()) +
                               "\" has no digest; if the tag moved, the rollback runs different code");
    }
    if (trow.status == static_cast<int>(RolloutStatus::failed))
        warnings.push_back("version " + std::to_string(target) + " was reported failed when it was rolled out");

    steps.push_back(json::object{
        {"action", "applyState"}, {"version", next},
        {"description", "apply the resulting state of version " + std::to_string(next) +
                            " (fetch it with reveal_secrets to get secret values)"}});
    steps.push_back(json::object{
        {"action", "reportStatus"}, {"version", next},
        {"description", "report version " + std::to_string(next) + " active or failed"}});

    Built b;
    b.sealed = I.reseal(std::move(merged));
    b.reasons = req.scope_all ? tracked : tracked_reasons(changes, policy);
    b.summary = "rollback to v" + std::to_string(target) + ": " + summarize_raw(changes);
    b.requires_confirmation = confirm;
    json::array warn_arr;
    for (auto &w : warnings) warn_arr.emplace_back(json::string(w));
    json::value diff_json = json::parse(to_public(changes).to_json());
    b.plan = json::object{
        {"spinner", s.name},
        {"baseVersion", s.current},
        {"targetVersion", target},
        {"request", json::parse(req.to_json())},
        {"state", json::parse(canonical(I.materialize(b.sealed.core, Impl::Secrets::mask)))},
        {"diff", std::move(diff_json)},
        {"summary", b.summary},
        {"volumes", std::move(volumes_out)},
        {"steps", std::move(steps)},
        {"warnings", std::move(warn_arr)},
        {"requiresConfirmation", confirm},
        {"resultDigest", "sha256:" + b.sealed.core_id}};
    return b;
}

Plan finish(Impl &I, Built &b) {
    std::string body = canonical(b.plan);
    std::string id = "plan-" + to_hex(sha256_raw(body)).substr(0, 16);
    std::string digest = "hmac-sha256:" + hmac_hex(I.plan_key, body);
    json::object o = std::move(b.plan);
    o["planId"] = id;
    o["digest"] = digest;
    Plan p;
    p.json = dump(o);
    p.plan_id = id;
    p.spinner = std::string(o.at("spinner").as_string());
    p.base_version = o.at("baseVersion").as_int64();
    p.target_version = o.at("targetVersion").as_int64();
    p.requires_confirmation = b.requires_confirmation;
    for (const auto &w : o.at("warnings").as_array()) p.warnings.emplace_back(w.as_string());
    return p;
}

void check_spinner(std::string_view spinner) {
    if (!is_dns_label(spinner))
        throw Error(ErrorCode::invalid, "spinner name must be a DNS-1123 label", "spinner");
}

} // namespace

RollbackPlanner::RollbackPlanner(VersionStore &store) : store_(&store), pricing_(store.pricing()) {}
RollbackPlanner::RollbackPlanner(VersionStore &store, Pricing pricing)
    : store_(&store), pricing_(std::move(pricing)) {}

Plan RollbackPlanner::plan(std::string_view spinner, std::int64_t target, const PlanRequest &request) const {
    check_spinner(spinner);
    auto &I = store_->impl();
    std::lock_guard lock(I.mu);
    Tx tx(I.db, false);
    auto s = I.require_spinner(spinner);
    Built b = build(I, s, target, request, pricing_);
    Plan p = finish(I, b);
    tx.commit();
    return p;
}

Plan RollbackPlanner::plan_auto(std::string_view spinner) const {
    check_spinner(spinner);
    std::int64_t target = 0;
    {
        auto &I = store_->impl();
        std::lock_guard lock(I.mu);
        Tx tx(I.db, false);
        auto s = I.require_spinner(spinner);
        Stmt st(I.db, "SELECT max(number) FROM versions WHERE spinner_id=? AND status=? AND number<>?");
        st.bind(1, s.id).bind(2, static_cast<int>(RolloutStatus::active)).bind(3, s.current);
        if (st.step() && !st.is_null(0)) target = st.i64(0);
        if (target == 0) {
            // A superseded version was active once too.
            Stmt st2(I.db, "SELECT max(number) FROM versions WHERE spinner_id=? AND status=? AND number<>?");
            st2.bind(1, s.id).bind(2, static_cast<int>(RolloutStatus::superseded)).bind(3, s.current);
            if (st2.step() && !st2.is_null(0)) target = st2.i64(0);
        }
        tx.commit();
        if (target == 0)
            throw Error(ErrorCode::not_found,
                        "no earlier version of \"" + std::string(spinner) + "\" was ever reported active",
                        "spinner");
    }
    return plan(spinner, target, {});
}

Version RollbackPlanner::commit(const Plan &given, const ChangeMeta &meta) {
    Plan p = Plan::from_json(given.json);
    json::value pv = json::parse(p.json);
    auto &po = pv.as_object();
    PlanRequest req = PlanRequest::from_json(dump(po.at("request")));
    std::string digest(po.at("digest").as_string());
    check_spinner(p.spinner);
    auto &I = store_->impl();
    // The plan must be exactly as planned: its keyed digest covers every field.
    po.erase("planId");
    po.erase("digest");
    if ("hmac-sha256:" + hmac_hex(I.plan_key, canonical(pv)) != digest)
        throw Error(ErrorCode::invalid, "the plan was altered after planning (digest mismatch); plan again",
                    "plan.digest");
    std::lock_guard lock(I.mu);
    Tx tx(I.db, true);
    auto s = I.require_spinner(p.spinner);
    const std::string payload = "commit:" + digest;
    if (!meta.request_id.empty()) {
        std::int64_t number = 0;
        std::string reasons;
        if (I.find_request(s, meta.request_id, payload, number, reasons)) {
            if (auto row = I.find_version(s.id, number)) return I.make_version(s, *row);
            throw Error(ErrorCode::pruned, "the version this request created was removed by retention",
                        "meta.requestId");
        }
    }
    if (s.current != p.base_version)
        throw Error(ErrorCode::conflict,
                    "the current version of \"" + s.name + "\" is " + std::to_string(s.current) +
                        " but the plan was made against " + std::to_string(p.base_version) + "; plan again",
                    "plan.baseVersion");
    Built b = build(I, s, p.target_version, req, pricing_);
    Plan fresh = finish(I, b);
    json::value fv = json::parse(fresh.json);
    if (fv.as_object().at("digest").as_string() != digest)
        throw Error(ErrorCode::conflict,
                    "the plan no longer matches the store (a snapshot or the pricing changed); plan again",
                    "plan");
    if (b.requires_confirmation && !meta.confirmed)
        throw Error(ErrorCode::needs_confirmation,
                    "the plan provisions new volumes at extra cost; commit with confirmed: true", "meta.confirmed");
    Version v = I.append(s, b.sealed, static_cast<int>(VersionReason::rollback), b.reasons, b.summary,
                         p.target_version, meta);
    // The rollback's result is now what the host is to deploy.
    if (s.latest_core != b.sealed.core_id) {
        I.incref(b.sealed.core_id);
        if (!s.latest_core.empty()) I.decref(s.latest_core);
        Stmt st(I.db, "UPDATE spinners SET latest_core=?, updated_at=? WHERE id=?");
        st.bind_blob(1, from_hex(b.sealed.core_id)).bind(2, now_rfc3339()).bind(3, s.id).run();
    }
    if (!meta.request_id.empty())
        I.save_request(s, meta.request_id, payload, "created", v.number, reasons_to_json(b.reasons));
    tx.commit();
    return v;
}

} // namespace spinner_rollback
