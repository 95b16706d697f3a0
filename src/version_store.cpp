// VersionStore: the public facade. Checks arguments, then runs each call as
// one transaction of the store (store_impl.hpp).
#include "store_impl.hpp"

#include "restore_points.hpp"
#include "names.hpp"
#include "schema.hpp"
#include "state_schema.hpp"

#include <spinner_rollback/version.hpp>

#include <chrono>
#include <limits>
#include <thread>

namespace spinner_rollback {

using namespace detail;

namespace {
const char *const kStatusNames[] = {"pending", "active", "failed", "superseded"};
} // namespace

const char *to_string(RolloutStatus s) noexcept { return kStatusNames[static_cast<int>(s)]; }

RolloutStatus parse_status(std::string_view s) {
    for (int i = 0; i < 4; ++i)
        if (s == kStatusNames[i]) return static_cast<RolloutStatus>(i);
    throw Error(ErrorCode::invalid, "status must be pending, active, failed or superseded", "status");
}

VersionStore::VersionStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
VersionStore::~VersionStore() {
    detail::InLibrary inside; // closing uses the connection too (in a child: only frees it)
    impl_.reset();
}

std::unique_ptr<VersionStore> VersionStore::open(const std::string &path, const StoreOptions &options) {
    detail::InLibrary inside; // in a child of fork(): inherited connections are released first
    if (path.empty()) throw Error(ErrorCode::invalid, "path must not be empty", "path");
    if (options.busy_timeout_ms < 0)
        throw Error(ErrorCode::invalid, "busyTimeoutMs must be >= 0", "options.busyTimeoutMs");
    return std::unique_ptr<VersionStore>(new VersionStore(std::make_unique<Impl>(path, options)));
}

const SnapshotPolicy &VersionStore::policy() const noexcept { return impl_->opts.policy; }
const Pricing &VersionStore::pricing() const noexcept { return impl_->opts.pricing; }

RecordResult VersionStore::record(std::string_view spinner, std::string_view state_json, const ChangeMeta &meta) {
    check_spinner_name(spinner);
    json::object n = parse_state(state_json, "state"); // before the lock
    if (has_secret_values(n) && !impl_->sealer.has_key())
        throw Error(ErrorCode::no_key,
                    "the state holds secret values but the store has no key: open it with \"key\", "
                    "\"keyFile\" or a cipher (secret values are never stored in plaintext)",
                    "$.secrets");
    return impl_->record(spinner, std::move(n), meta);
}

std::vector<Version> VersionStore::versions(std::string_view spinner) const {
    return impl_->single([&] { return impl_->history.list(spinner, 0, std::numeric_limits<std::int64_t>::max()); });
}

std::vector<Version> VersionStore::versions(std::string_view spinner, std::int64_t before,
                                            std::int64_t limit) const {
    if (before < 0) throw Error(ErrorCode::invalid, "before must be >= 0 (0 = from the newest)", "before");
    if (limit < 1 || limit > 10000) throw Error(ErrorCode::invalid, "limit must be 1-10000", "limit");
    return impl_->single([&] { return impl_->history.list(spinner, before, limit); });
}

VersionDetail VersionStore::get(std::string_view spinner, std::int64_t number, bool reveal) const {
    auto &I = *impl_;
    auto detail_of = [&](const SpinnerRow &s, VersionRow r) {
        VersionDetail d;
        d.state_json =
            canonical(I.sealer.materialize(I.blobs.core(r.core)->obj, reveal ? Secrets::reveal : Secrets::mask));
        d.notes = History::notes_of(r);
        d.version = I.history.make_version(s, r);
        return d;
    };
    if (!reveal) {
        // One statement when the content is cached (immutable, verified): one
        // round trip. Otherwise, one read transaction.
        try {
            return I.single([&] {
                CacheOnly cached(I.blobs);
                auto [s, rows] = I.history.spinner_and_versions(spinner, number, number);
                return detail_of(s, I.history.expect_among(s, rows, number, "number"));
            });
        } catch (const NotCached &) {
        }
    }
    return I.read([&] {
        auto s = I.history.require_spinner(spinner);
        return detail_of(s, I.history.require_version(s, number, "number"));
    });
}

Diff VersionStore::diff(std::string_view spinner, std::int64_t from, std::int64_t to) const {
    auto &I = *impl_;
    auto diff_of = [&](const VersionRow &a, const VersionRow &b) {
        return to_public(diff_objects(I.blobs.core(a.core)->obj, I.blobs.core(b.core)->obj, I.sealer.loader()));
    };
    try {
        return I.single([&] {
            CacheOnly cached(I.blobs);
            const auto [s, rows] = I.history.spinner_and_versions(spinner, from, to);
            const VersionRow a = I.history.expect_among(s, rows, from, "from");
            const VersionRow b = I.history.expect_among(s, rows, to, "to");
            return diff_of(a, b);
        });
    } catch (const NotCached &) {
    }
    return I.read([&] {
        auto s = I.history.require_spinner(spinner);
        const VersionRow a = I.history.require_version(s, from, "from");
        const VersionRow b = I.history.require_version(s, to, "to");
        return diff_of(a, b);
    });
}

void VersionStore::set_status(std::string_view spinner, std::int64_t number, RolloutStatus status) {
    impl_->write([&] {
        auto s = impl_->history.require_spinner(spinner);
        impl_->history.require_version(s, number, "number");
        impl_->history.set_status(s, number, status);
    });
}

Version VersionStore::tag(std::string_view spinner, std::int64_t number, const TagRequest &tag) {
    auto &I = *impl_;
    return I.write([&] {
        auto s = I.history.require_spinner(spinner);
        I.history.require_version(s, number, "number");
        I.history.put_tag(s, number, tag, I.opts.max_tagged_versions);
        return I.history.make_version(s, I.history.require_version(s, number, "number"));
    });
}

void VersionStore::untag(std::string_view spinner, std::string_view name) {
    auto &I = *impl_;
    I.write([&] { I.history.remove_tag(I.history.require_spinner(spinner), name); });
}

std::int64_t VersionStore::tagged(std::string_view spinner, std::string_view name) const {
    auto &I = *impl_;
    return I.read([&] {
        auto s = I.history.require_spinner(spinner);
        auto n = I.history.tag_number(s, name);
        if (!n)
            throw Error(ErrorCode::not_found,
                        "spinner \"" + s.name + "\" has no tag " + quote(name), "name");
        return *n;
    });
}

VersionNotes VersionStore::annotate(std::string_view spinner, std::int64_t number, const Note &note) {
    auto &I = *impl_;
    return I.write([&] {
        auto s = I.history.require_spinner(spinner);
        return VersionNotes{s.name, number, I.history.add_note(s, I.history.require_version(s, number, "number"), note)};
    });
}

SpinnerInfo VersionStore::spinner_info(std::string_view spinner) const {
    return impl_->single([&] {
        auto s = impl_->history.require_spinner(spinner);
        SpinnerInfo info;
        info.spinner = s.name;
        info.rollback_enabled = s.enabled;
        info.history_limit = s.history_limit;
        info.current_version = s.current;
        info.versions_created = s.last_number;
        info.last_recorded_at = s.updated_at;
        return info;
    });
}

std::vector<std::string> VersionStore::spinners() const {
    return impl_->single([&] { return impl_->history.spinner_names(); });
}

StoreInfo VersionStore::info() const {
    return impl_->read([&] {
        StoreInfo info;
        info.store_id = impl_->store_id; // immutable, read once at open
        info.engine = std::string(impl_->db.engine_name());
        info.schema_version = impl_->db.schema_version();
        info.library_version = SPR_VERSION_STRING;
        return info;
    });
}

RestorePoints VersionStore::restore_points(std::string_view spinner, std::int64_t number) const {
    auto &I = *impl_;
    return I.read([&] {
        auto s = I.history.require_spinner(spinner);
        const VersionRow r = I.history.require_version(s, number, "number");
        RestorePoints out;
        out.spinner = s.name;
        out.number = number;
        out.current_from = r.created_at;
        out.current_until = r.replaced_at;
        out.volumes = volumes_of(I.blobs.core(r.core)->obj);
        for (auto &v : out.volumes) {
            std::vector<Snapshot> snaps;
            for (const auto &id : v.volume_ids) {
                auto more = I.snapshots.list(id);
                snaps.insert(snaps.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
            }
            v.snapshots = rank_restore_points(std::move(snaps), r.created_at, r.replaced_at);
        }
        return out;
    });
}

void VersionStore::register_snapshot(const Snapshot &snap) {
    Snapshot s = Snapshot::from_json(snap.to_json()); // re-validate: callers may build one by hand
    impl_->write([&] {
        impl_->snapshots.put(s);
        impl_->events.append("snapshot.registered", {}, std::nullopt,
                             json::object{{"id", s.id}, {"volume", s.volume}, {"createdAt", s.created_at},
                                          {"ready", s.ready}});
    });
}

EventPage VersionStore::events(std::int64_t after, std::int64_t limit) const {
    if (after < 0) throw Error(ErrorCode::invalid, "after must be >= 0 (0 = from the oldest kept)", "after");
    if (limit < 1 || limit > 10000) throw Error(ErrorCode::invalid, "limit must be 1-10000", "limit");
    EventPage page = impl_->single([&] { return impl_->events.list(after, limit); });
    page.store_id = impl_->store_id;
    return page;
}

EventPage VersionStore::wait_events(std::int64_t after, std::int64_t timeout_ms, std::int64_t limit) const {
    if (timeout_ms < 0 || timeout_ms > 3600000)
        throw Error(ErrorCode::invalid, "timeout must be 0-3600000 ms", "timeout_ms");
    using namespace std::chrono;
    const auto deadline = steady_clock::now() + milliseconds(timeout_ms);
    for (;;) {
        // Listen first, then look: a commit after the look wakes the wait.
        // The wait itself is outside the library: fork() need not wait for it.
        {
            detail::InLibrary inside;
            impl_->db.check_process();
            impl_->db.arm_change_wait();
        }
        EventPage page = events(after, limit); // takes and releases the handle's lock
        const auto now = steady_clock::now();
        if (!page.events.empty() || now >= deadline) return page;
        // PostgreSQL: until a NOTIFY of a commit (any connection, any
        // machine); SQLite: 25 ms of sleep, then an index probe. At most a
        // second at a time, so a lost listener costs latency only.
        impl_->db.wait_for_change(std::min(duration_cast<milliseconds>(deadline - now), milliseconds(1000)));
    }
}

std::vector<Snapshot> VersionStore::snapshots(std::string_view volume) const {
    if (!is_utf8(volume)) throw Error(ErrorCode::invalid, "a volume id must be UTF-8 text", "volume");
    return impl_->read([&] { return impl_->snapshots.list(volume); });
}

void VersionStore::delete_snapshot(std::string_view id) {
    if (id.empty()) throw Error(ErrorCode::invalid, "snapshot id must not be empty", "id");
    if (!is_utf8(id)) throw Error(ErrorCode::invalid, "a snapshot id must be UTF-8 text", "id");
    impl_->write([&] {
        if (!impl_->snapshots.erase(id)) throw Error(ErrorCode::not_found, "no snapshot with id " + quote(id), "id");
        impl_->events.append("snapshot.deleted", {}, std::nullopt, json::object{{"id", id}});
    });
}

} // namespace spinner_rollback
