// The store's transactions: opening (set-up, keys), record, the planner's
// reads and commit. Rules live elsewhere: what creates a version in
// decide.cpp, how a plan is built in plan_build.cpp, how a state is sealed in
// sealed_state.cpp; the steps they share (append, replay, latest state) in
// history.cpp.
#include "store_impl.hpp"

#include "decide.hpp"
#include "schema.hpp"
#include "scope.hpp"

#include <algorithm>
#include <chrono>
#include <thread>

namespace spinner_rollback {

using namespace detail;

namespace {

// Compare-and-set (ChangeMeta::expected_current): conflict, nothing written,
// unless the spinner's current version is the expected one.
void check_expected(const ChangeMeta &meta, std::string_view spinner, std::int64_t current) {
    if (!meta.expected_current || *meta.expected_current == current) return;
    throw Error(ErrorCode::conflict,
                "the current version of \"" + std::string(spinner) + "\" is " + std::to_string(current) +
                    ", not the expected " + std::to_string(*meta.expected_current),
                "meta.expectedCurrent");
}

std::vector<NamedKey> keyring_of(const StoreOptions &o) {
    const bool single = !o.key.empty() || !o.key_file.empty();
    if (!o.key.empty() && !o.key_file.empty())
        throw Error(ErrorCode::invalid, "give key or keyFile, not both", "options.keyFile");
    if (single && !o.keys.empty())
        throw Error(ErrorCode::invalid, "give keys, or key or keyFile, not both", "options.keys");
    if (o.cipher && (single || !o.keys.empty()))
        throw Error(ErrorCode::invalid, "give a cipher or a key, not both", "cipher");
    std::vector<NamedKey> ring;
    if (!o.key.empty()) ring.push_back({"", parse_key(o.key, "options.key")});
    if (!o.key_file.empty()) ring.push_back({"", read_key_file(o.key_file)});
    if (o.keys.size() > 16) throw Error(ErrorCode::invalid, "must list 1-16 keys", "options.keys");
    for (std::size_t i = 0; i < o.keys.size(); ++i) {
        const KeyringEntry &e = o.keys[i];
        const std::string path = "options.keys[" + std::to_string(i) + "]";
        const bool id_ok = !e.id.empty() && e.id.size() <= 64 &&
                           std::all_of(e.id.begin(), e.id.end(), [](char c) {
                               return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
                           });
        if (!id_ok) throw Error(ErrorCode::invalid, "a key id must be 1-64 of [A-Za-z0-9._-]", path + ".id");
        for (std::size_t j = 0; j < i; ++j)
            if (o.keys[j].id == e.id) throw Error(ErrorCode::invalid, "key ids must be distinct", path + ".id");
        if (e.key.empty() == e.key_file.empty()) throw Error(ErrorCode::invalid, "give key or keyFile", path);
        ring.push_back({e.id, e.key.empty() ? read_key_file(e.key_file) : parse_key(e.key, path + ".key")});
    }
    return ring;
}

// Several processes may open a store that does not exist yet at once.
// Switching to WAL and the first migration take locks that SQLite's busy
// handler does not always wait for, so the whole set-up is retried until
// busyTimeoutMs (at least 1 s) has passed.
std::int64_t set_up(Db &db, const StoreOptions &options) {
    const auto deadline = std::chrono::steady_clock::now() +
                          std::chrono::milliseconds(std::max(options.busy_timeout_ms, 1000));
    for (int attempt = 0;; ++attempt) {
        try {
            db.configure(options.durability == Durability::full);
            return set_up_schema(db);
        } catch (const Error &e) {
            const bool transient = e.code() == ErrorCode::busy || (e.code() == ErrorCode::io && attempt < 5);
            if (!transient || std::chrono::steady_clock::now() >= deadline) throw;
            std::this_thread::sleep_for(std::chrono::milliseconds(2 + (attempt % 8) * 3));
        }
    }
}

// Clears the version rows read ahead when a plan is built.
struct Forget {
    std::vector<VersionRow> &rows;
    ~Forget() { rows.clear(); }
};

} // namespace

VersionStore::Impl::Impl(const std::string &path, const StoreOptions &options)
    : conn(Db::open(path, options.busy_timeout_ms)), db(*conn), opts(options), keys(keyring_of(options), options.cipher),
      blobs(db), sealer(db, blobs, keys), events(db, options.events_limit), history(db, blobs, events), snapshots(db) {
    const std::int64_t found = set_up(db, options);
    if (found > current_schema_version())
        throw Error(ErrorCode::io, "store schema version " + std::to_string(found) +
                                       " is newer than this library supports (" +
                                       std::to_string(current_schema_version()) + "); upgrade spinner_rollback",
                    "path");
    read([&] {
        Stmt pk(db, "SELECT value FROM meta WHERE key='plan_key'");
        if (!pk.step()) throw Error(ErrorCode::corrupt, "store has no plan key");
        plan_key = pk.blob(0);
        store_id = detail::store_id(db);
        sealer.load_data_key(); // a wrong key fails here, at open
    });
}

RecordResult VersionStore::Impl::record(std::string_view spinner, json::object n, const ChangeMeta &meta) {
    const auto &rb = n.at("settings").as_object().at("rollback").as_object();
    const bool enabled = rb.at("enabled").as_bool();
    const std::int64_t limit = rb.at("historyLimit").to_number<std::int64_t>();
    Entry entry(*this);
    std::optional<Sealed> sealed;
    bool is_new = false;
    if (meta.request_id.empty() && sealer.seals_read_only(n)) {
        // A reconcile loop records the same state again and again. When it is
        // the spinner's latest state (settings included: they are part of
        // it), nothing changes and nothing is written: one read, no writer lock.
        // When this handle last saw another latest state, a change is likely:
        // skip the read (the write transaction finds "unchanged" all the same).
        sealed = sealer.seal(std::move(n));
        auto seen = seen_latest.find(std::string(spinner));
        if (seen == seen_latest.end() || seen->second == sealed->core_id) {
            const auto latest = history.latest_core(spinner);
            is_new = !latest;
            check_expected(meta, spinner, latest ? latest->second : 0);
            if (latest && latest->first == sealed->core_id) {
                RecordResult same;
                same.outcome = enabled ? Outcome::unchanged : Outcome::disabled;
                saw_latest(spinner, sealed->core_id);
                return same;
            }
        }
    }
    RecordResult result = in_tx_entered(true, [&] {
        if (!sealed) sealed = sealer.seal(std::move(n)); // may create the data key: in the transaction
        return record_in_tx(spinner, *sealed, enabled, limit, meta, is_new);
    });
    saw_latest(spinner, sealed->core_id);
    return result;
}

void VersionStore::Impl::saw_latest(std::string_view spinner, const std::string &core_id) {
    if (seen_latest.size() >= 4096) seen_latest.clear(); // a hint: bounded, cheap to lose
    seen_latest[std::string(spinner)] = core_id;
}

RecordResult VersionStore::Impl::record_in_tx(std::string_view spinner, const Sealed &sealed, bool enabled,
                                              std::int64_t limit, const ChangeMeta &meta, bool likely_new) {
    const std::string payload = "record:" + sealed.core_id;
    // Everything the record reads, in one batch (one round trip on
    // PostgreSQL): the spinner, its current version, the request, retention's
    // candidates, and the facts of every blob it may reference or release.
    std::vector<std::string> ids = sealed_children(sealed.core);
    ids.push_back(sealed.core_id);
    if (likely_new) history.create_if_missing(spinner, enabled, limit);
    auto facts = blobs.prefetch(ids, spinner, limit);
    auto fetch = history.fetch_for_write(spinner, meta.request_id, limit);
    facts.take();
    WriteView w = fetch.take();
    SpinnerRow s = w.spinner ? *w.spinner : history.create_spinner(spinner, enabled, limit);

    RecordResult result;
    if (w.request) {
        Replayed r = history.replay(s, *w.request, meta.request_id, payload);
        result.outcome = r.outcome;
        result.reasons = std::move(r.reasons);
        result.version = std::move(r.version);
        return result;
    }
    check_expected(meta, s.name, s.current);

    std::shared_ptr<const CoreEntry> previous;
    std::string base;
    if (s.current) {
        if (!w.current) throw Error(ErrorCode::corrupt, "current version row is missing");
        base = w.current->core;
        previous = blobs.core(base); // shared, immutable: no copy
    }
    Decided d = decide(previous ? &previous->obj : nullptr, s.enabled, sealed.core, opts.policy,
                       sealer.loader(&sealed));
    sealer.put(sealed, base);
    if (w.spinner && s.enabled != enabled)
        events.append(enabled ? "rollback.enabled" : "rollback.disabled", s.name, std::nullopt, json::object{});
    s.enabled = enabled;
    s.history_limit = limit;
    history.set_latest(s, sealed.core_id);

    result.outcome = d.outcome;
    result.reasons = std::move(d.reasons);
    if (d.outcome == Outcome::created) {
        const std::string summary = previous ? summarize_raw(d.changes)
                                             : summarize_first(sealer.materialize(sealed.core, Secrets::mask));
        result.version = history.append(s, sealed, d.reason, result.reasons, summary, std::nullopt, meta, w);
    } else {
        history.prune(s, w, false); // a lowered historyLimit applies at once
    }
    if (!meta.request_id.empty())
        history.remember(s, meta.request_id, payload, result.outcome, result.version ? result.version->number : 0,
                         result.reasons);
    return result;
}

Plan VersionStore::Impl::plan(std::string_view spinner, std::int64_t target, const PlanRequest &request,
                              const Pricing &pricing) {
    check_spinner_name(spinner);
    auto build = [&](const SpinnerRow &s, std::vector<VersionRow> rows) {
        known_versions = std::move(rows);
        Forget forget{known_versions};
        return build_plan(*this, s, target, request, opts.policy, pricing, plan_key).plan;
    };
    // One statement when the content is cached and no volume needs a
    // snapshot or binding looked up: one round trip. Otherwise, one read
    // transaction.
    try {
        return single([&] {
            CacheOnly cached(blobs);
            auto [s, rows] = history.spinner_and_versions(spinner, target, target);
            return build(s, std::move(rows));
        });
    } catch (const NotCached &) {
    }
    return read([&] { return build(history.require_spinner(spinner), {}); });
}

std::int64_t VersionStore::Impl::auto_target(std::string_view spinner) {
    check_spinner_name(spinner);
    auto target = read([&] { return history.newest_active(history.require_spinner(spinner)); });
    if (!target)
        throw Error(ErrorCode::not_found,
                    "no earlier version of \"" + std::string(spinner) + "\" was ever reported active", "spinner");
    return *target;
}

Version VersionStore::Impl::commit(const Plan &given, const ChangeMeta &meta, const Pricing &pricing) {
    const CheckedPlan checked = check_plan(given, plan_key);
    const Plan &p = given;
    return write([&] {
        // What the commit reads, in one batch (one round trip on PostgreSQL):
        // the spinner, its current and target versions, the request, and the
        // facts of the blobs retention may release.
        auto facts = blobs.prefetch({}, p.spinner, std::nullopt, p.target_version);
        auto fetch = history.fetch_for_write(p.spinner, meta.request_id, std::nullopt, p.target_version);
        facts.take();
        WriteView w = fetch.take();
        SpinnerRow s = History::require(std::move(w.spinner), p.spinner);
        const std::string payload = "commit:" + p.digest;
        if (w.request) {
            Replayed r = history.replay(s, *w.request, meta.request_id, payload);
            if (!r.version) throw Error(ErrorCode::corrupt, "a stored commit request names no version");
            return *r.version;
        }
        check_expected(meta, s.name, s.current);
        if (s.current != p.base_version)
            throw Error(ErrorCode::conflict,
                        "the current version of \"" + s.name + "\" is " + std::to_string(s.current) +
                            " but the plan was made against " + std::to_string(p.base_version) + "; plan again",
                        "plan.baseVersion");
        BuiltPlan b = [&] {
            known_versions.clear();
            for (auto *r : {&w.current, &w.also})
                if (*r) known_versions.push_back(**r);
            Forget forget{known_versions};
            return build_plan(*this, s, p.target_version, p.request, opts.policy, pricing, plan_key, &checked);
        }();
        if (b.plan.digest != p.digest)
            throw Error(ErrorCode::conflict,
                        "the plan no longer matches the store (a snapshot, the pricing or the target's failed status "
                        "changed since it was made); plan again",
                        "plan");
        if (b.plan.requires_confirmation && !meta.confirmed)
            throw Error(ErrorCode::needs_confirmation,
                        "the plan provisions new volumes at extra cost; commit with confirmed: true",
                        "meta.confirmed");
        // The facts of the new state's blobs (one more round trip), then writes only.
        std::vector<std::string> ids = sealed_children(b.sealed.core);
        ids.push_back(b.sealed.core_id);
        blobs.prefetch(ids).take();
        if (!w.current) throw Error(ErrorCode::corrupt, "current version row is missing");
        sealer.put(b.sealed, w.current->core);
        Version v = history.append(s, b.sealed, VersionReason::rollback, b.reasons, b.summary,
                                   History::RollbackOf{p.target_version, p.request.scope}, meta, w);
        events.append("rollback.committed", s.name, v.number,
                      json::object{{"target", p.target_version}, {"scope", scope_value(p.request.scope)},
                                   {"planId", p.plan_id}});
        // The rollback's result is now what the host is to deploy.
        history.set_latest(s, b.sealed.core_id);
        saw_latest(s.name, b.sealed.core_id); // a hint: harmless if the commit fails
        if (!meta.request_id.empty())
            history.remember(s, meta.request_id, payload, Outcome::created, v.number, b.reasons);
        return v;
    });
}

} // namespace spinner_rollback
