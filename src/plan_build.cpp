// Rollback plans: the resulting state (merge), data sources and their cost,
// steps, warnings and the keyed digest — pure functions over a PlanSource.
#include "plan_build.hpp"

#include "category.hpp"
#include "decide.hpp"
#include "digest.hpp"
#include "quantity.hpp"
#include "scope.hpp"
#include "state_schema.hpp"

#include <algorithm>
#include <cmath>

namespace spinner_rollback::detail {

namespace {

// Config values longer than this appear in a plan's diff by size and sha256.
constexpr std::size_t kPlanValueLimit = 4096;

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

// Copy into `into` from `from` the fields of every category `take` selects:
// document-level keys, and for each container of `into` the one of the same
// name in `from` has, its keys and resources. `extensions` is the caller's.
template <class Take> void copy_categories(json::object &into, const json::object &from, Take take) {
    for (const auto &cat : kCategories) {
        if (!take(cat) || cat.id == Category::extensions) continue;
        if (!cat.document_key.empty()) copy_field(into, from, cat.document_key);
        if (cat.id == Category::secretValues) copy_field(into, from, "$secretBlobs");
    }
    const auto *from_containers = from.if_contains("containers");
    for (auto &c : array_at(into, "containers")) {
        auto &co = c.as_object();
        const json::object *fc = from_containers && from_containers->is_array()
                                     ? find_named(from_containers->get_array(),
                                                  std::string_view(co.at("name").as_string()))
                                     : nullptr;
        if (!fc) continue;
        for (const auto &cat : kCategories) {
            if (!take(cat)) continue;
            if (!cat.container_key.empty()) copy_field(co, *fc, cat.container_key);
            if (cat.resource_key.empty()) continue;
            json::object res = co.contains("resources") ? co["resources"].as_object() : json::object();
            const auto *fres = fc->if_contains("resources");
            copy_field(res, fres && fres->is_object() ? fres->get_object() : json::object(), cat.resource_key);
            co["resources"] = std::move(res);
        }
    }
}

// The resulting state (docs/rollback.md). Scope "tracked": the target's
// tracked content and the current state's untracked fields; "all": the
// target's content; a list (a partial rollback): the current state with the
// listed categories taken from the target — containers are the current
// ones, and one the target lacks keeps its current fields. Settings always
// stay current.
json::object merge(const json::object &target, const json::object &current, const SnapshotPolicy &p,
                   const RollbackScope &scope) {
    if (scope.kind == RollbackScope::Kind::categories) {
        json::object r = current;
        copy_categories(r, target, [&](const CategoryInfo &c) { return scope.includes(c.name, p); });
        return r;
    }
    json::object r = target;
    r["settings"] = current.at("settings");
    if (scope.kind == RollbackScope::Kind::all) return r;
    auto keep_current = [&](Category c) { return !p.tracks(name(c)); };
    copy_categories(r, current, [&](const CategoryInfo &c) { return keep_current(c.id); });
    if (keep_current(Category::extensions)) {
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

} // namespace

BuiltPlan build_plan(PlanSource &src, const SpinnerRow &s, std::int64_t target, const PlanRequest &req,
                     const SnapshotPolicy &policy, const Pricing &pricing, std::string_view plan_key,
                     const CheckedPlan *made) {
    if (!s.enabled)
        throw Error(ErrorCode::rollback_disabled,
                    "rollback is disabled for spinner \"" + s.name + "\" (settings.rollback.enabled is false)",
                    "spinner");
    if (s.current == 0) throw Error(ErrorCode::not_found, "spinner \"" + s.name + "\" has no versions", "spinner");
    if (target == s.current)
        throw Error(ErrorCode::current_version,
                    "version " + std::to_string(target) + " is the current version; pick an earlier one",
                    "target");
    auto trow = src.version(s, target, "target");
    auto crow = src.current_version(s);
    auto tcore = src.core(trow.core);
    // "Current" is what the host runs: the latest recorded state. Its tracked
    // content equals the current version's (else a version would exist), but
    // its settings and untracked fields may be newer.
    auto ccore_entry = src.core(s.latest_core.empty() ? crow.core : s.latest_core);
    const json::object &ccore = ccore_entry->obj;
    const RollbackScope &scope = req.scope;
    const bool partial = scope.kind == RollbackScope::Kind::categories;
    const bool every_field = scope.kind != RollbackScope::Kind::tracked; // what the decision compares
    if (partial && !scope.includes("mounts", policy))
        for (const auto &[name, id] : req.snapshots)
            throw Error(ErrorCode::invalid,
                        "data sources apply to the target's volumes, which a rollback takes only with \"mounts\" "
                        "in its scope; add \"mounts\" to the scope",
                        "request.data." + name);
    json::object merged = merge(tcore->obj, ccore, policy, scope);

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

    // The rollback is a change like any other: the one rule decides what it
    // changes (every field with scope "all"); nothing to change is refused.
    auto load = src.loader();
    Decided d = decide(&ccore, true, merged, policy, load, every_field);
    const bool any_snapshot = std::any_of(req.snapshots.begin(), req.snapshots.end(),
                                          [](const auto &kv) { return !kv.second.empty(); });
    if (d.outcome == Outcome::unchanged && !any_snapshot)
        throw Error(ErrorCode::identical,
                    "version " + std::to_string(target) + " has the same " +
                        (partial ? "content within the scope " + canonical(scope_value(scope)) : std::string("tracked content")) +
                        " as the current version " + std::to_string(s.current) + "; nothing to roll back",
                    "target");

    Plan p;
    const std::int64_t next = s.last_number + 1;
    const std::int64_t instances = merged.at("instances").to_number<std::int64_t>();
    for (auto &v : vols) {
        auto &vo = v.as_object();
        PlanVolume pv;
        pv.volume = std::string(vo.at("name").as_string());
        const std::string &name = pv.volume;
        for (const auto &c : merged.at("containers").as_array())
            for (const auto &m : c.as_object().at("mounts").as_array())
                if (auto *mv = m.as_object().if_contains("volume"); mv && mv->as_string() == name)
                    pv.mounts.emplace_back(m.as_object().at("path").as_string());
        auto it = req.snapshots.find(name);
        if (it == req.snapshots.end() || it->second.empty()) {
            if (auto *id = vo.if_contains("volumeId")) pv.volume_id = std::string(id->as_string());
            p.volumes.push_back(std::move(pv));
            continue;
        }
        const std::string path = "request.data." + name + ".snapshot";
        auto snap = src.snapshot(it->second);
        if (!snap) throw Error(ErrorCode::not_found, "no snapshot with id \"" + it->second + "\"", path);
        if (!snap->ready)
            throw Error(ErrorCode::snapshot_not_ready, "snapshot \"" + snap->id + "\" is not ready yet", path);
        if (!src.volume_bound(s, name, snap->volume))
            throw Error(ErrorCode::snapshot_mismatch,
                        "snapshot \"" + snap->id + "\" is of volume \"" + snap->volume +
                            "\", which no retained version bound to \"" + name + "\"",
                        path);
        const std::int64_t declared = parse_bytes(std::string_view(vo.at("size").as_string()), "size");
        NewVolume nv;
        nv.size_bytes = std::max(declared, snap->size_bytes);
        nv.storage_class = vo.contains("storageClass") ? std::string(vo.at("storageClass").as_string())
                                                       : snap->storage_class;
        nv.copies = std::string_view(vo.at("mode").as_string()) == "dedicated" ? std::max<std::int64_t>(instances, 1) : 1;
        const double gib = static_cast<double>(nv.size_bytes) / double(1 << 30);
        nv.estimated_monthly_cost =
            std::round(gib * pricing.price_for(nv.storage_class) * double(nv.copies) * 100.0) / 100.0;
        nv.currency = pricing.currency;
        nv.name = (s.name + "-" + name).substr(0, 48) + "-v" + std::to_string(next);
        const std::string old_id = vo.contains("volumeId") ? std::string(vo.at("volumeId").as_string()) : std::string();
        vo["volumeId"] = nv.name;
        if (nv.size_bytes != declared) vo["size"] = format_bytes(nv.size_bytes);
        p.requires_confirmation = true;
        PlanStep step;
        step.action = "provisionVolume";
        step.volume = name;
        step.new_volume = nv.name;
        step.from_snapshot = snap->id;
        step.size_bytes = nv.size_bytes;
        step.storage_class = nv.storage_class;
        step.description = "create volume \"" + nv.name + "\" from snapshot \"" + snap->id + "\"";
        p.steps.push_back(std::move(step));
        warnings.push_back("volume \"" + name + "\": a new volume \"" + nv.name + "\" (" + format_bytes(nv.size_bytes) +
                           (nv.copies > 1 ? " x " + std::to_string(nv.copies) : std::string()) +
                           ") is provisioned from snapshot \"" + snap->id + "\" at an estimated " +
                           money(nv.estimated_monthly_cost) + " " + pricing.currency +
                           " per month; the volume in use now" +
                           (old_id.empty() ? std::string() : " (\"" + old_id + "\")") + " is kept, not deleted");
        warnings.push_back("volume \"" + name + "\": snapshot \"" + snap->id + "\" was taken at " + snap->created_at +
                           "; data written to the volume after that is not in the new volume");
        pv.source = PlanVolume::Source::snapshot;
        pv.snapshot_id = snap->id;
        pv.snapshot_created_at = snap->created_at;
        pv.volume_id = nv.name;
        pv.new_volume = std::move(nv);
        p.volumes.push_back(std::move(pv));
    }

    BuiltPlan b;
    b.sealed = SealedState::reseal(merged);
    const bool as_made = made && made->plan.result_digest == "sha256:" + b.sealed.core_id;
    // The result must itself be a valid state. Loading it reads the store:
    // storage errors (io, busy, corrupt) pass through unchanged, so a host
    // retries a lost connection instead of giving up on an "invalid" plan.
    if (!as_made) {
        auto refusal = [&](const json::object &state) -> std::optional<Error> {
            try {
                normalize_state(src.materialize(state, Secrets::tokens));
                return std::nullopt;
            } catch (const Error &e) {
                if (e.code() != ErrorCode::invalid) throw;
                return e;
            }
        };
        if (auto e = refusal(merged)) {
            std::string fix;
            // A partial rollback that breaks the state: name the categories
            // whose addition to the scope makes it valid. Greedy: add the
            // first category that clears the refusal at hand, until none is left.
            if (partial) {
                RollbackScope wider = scope;
                std::vector<std::string_view> added;
                std::optional<Error> left = e;
                while (left) {
                    bool cleared = false;
                    for (const auto &cat : kCategories) {
                        if (!cat.default_trigger || wider.includes(cat.name, policy)) continue;
                        RollbackScope candidate = wider;
                        candidate.categories.emplace_back(cat.name);
                        auto after = refusal(merge(tcore->obj, ccore, policy, candidate));
                        if (after && after->path() == left->path() &&
                            std::string_view(after->what()) == std::string_view(left->what()))
                            continue;
                        wider = std::move(candidate);
                        added.push_back(cat.name);
                        left = std::move(after);
                        cleared = true;
                        break;
                    }
                    if (!cleared) break;
                }
                if (!left && !added.empty()) {
                    fix = "; add ";
                    for (std::size_t i = 0; i < added.size(); ++i)
                        fix += (i ? (i + 1 == added.size() ? " and \"" : ", \"") : "\"") + std::string(added[i]) + "\"";
                    fix += " to the scope";
                }
            }
            throw Error(ErrorCode::invalid, "the resulting state would be invalid: " + std::string(e->what()) + fix,
                        e->path());
        }
    }
    if (any_snapshot) d = decide(&ccore, true, merged, policy, load, every_field); // volumes rebound

    for (const auto &c : merged.at("containers").as_array()) {
        const auto &img = c.as_object().at("image").as_object();
        if (!img.contains("digest"))
            warnings.push_back("container \"" + std::string(c.as_object().at("name").as_string()) +
                               "\": image \"" + std::string(img.at("reference").as_string()) +
                               "\" has no digest; if the tag moved, the rollback runs different code");
    }
    if (trow.status == RolloutStatus::failed)
        warnings.push_back("version " + std::to_string(target) + " was reported failed when it was rolled out");

    PlanStep apply;
    apply.action = "applyState";
    apply.version = next;
    apply.description = "apply the resulting state of version " + std::to_string(next) +
                        " (fetch it with reveal_secrets to get secret values)";
    p.steps.push_back(std::move(apply));
    PlanStep report;
    report.action = "reportStatus";
    report.version = next;
    report.description = "report version " + std::to_string(next) + " active or failed";
    p.steps.push_back(std::move(report));

    b.reasons = std::move(d.reasons);
    b.summary = "rollback to v" + std::to_string(target) + ": " + summarize_raw(d.changes);
    p.spinner = s.name;
    p.base_version = s.current;
    p.target_version = target;
    p.request = req;
    std::string state_sha256;
    if (as_made) {
        // Commit compares digests and drops this plan: the state's hash is
        // all the digest needs (its text stays empty).
        p.diff = made->plan.diff;
        state_sha256 = made->state_sha256;
    } else {
        p.state_json = canonical(src.materialize(b.sealed.core, Secrets::mask));
        p.diff = to_public(d.changes, kPlanValueLimit); // a long value appears once: in state
        state_sha256 = to_hex(sha256_raw(p.state_json));
    }
    p.summary = b.summary;
    p.warnings = std::move(warnings);
    p.result_digest = "sha256:" + b.sealed.core_id;
    // planId names the content; the keyed digest proves it came from this store.
    const std::string body = plan_signed(p, state_sha256);
    p.plan_id = "plan-" + to_hex(sha256_raw(body)).substr(0, 16);
    p.digest = "hmac-sha256:" + hmac_sha256_hex(plan_key, body);
    b.plan = std::move(p);
    return b;
}

CheckedPlan check_plan(const Plan &p, std::string_view plan_key) {
    check_spinner_name(p.spinner);
    // The plan must be exactly as planned: its keyed digest covers every field.
    CheckedPlan checked{p, to_hex(sha256_raw(p.state_json))};
    auto signed_ok = [&] {
        return "hmac-sha256:" + hmac_sha256_hex(plan_key, plan_signed(p, checked.state_sha256)) == p.digest;
    };
    if (signed_ok()) return checked;
    // The state as sent may be the same state written otherwise (a plan
    // re-serialised on its way): its canonical form decides.
    const std::string canon = canonical(parse_strict(p.state_json, "plan.state", {64u << 20, 80, 8u << 20}));
    if (canon != p.state_json) {
        checked.state_sha256 = to_hex(sha256_raw(canon));
        if (signed_ok()) return checked;
    }
    throw Error(ErrorCode::invalid, "the plan was altered after planning (digest mismatch); plan again",
                "plan.digest");
}

} // namespace spinner_rollback::detail
