// Internal: the store behind the VersionStore facade. It owns the connection
// and runs every transaction: record, the planner's reads, commit. Each
// transactional step (append, replay a request, set the latest state) is
// written once, in History, and called from here.
#pragma once

#include "blob_store.hpp"
#include "bundle_format.hpp"
#include "crypto.hpp"
#include "db.hpp"
#include "history.hpp"
#include "plan_build.hpp"
#include "sealed_state.hpp"
#include "snapshot_table.hpp"

#include <spinner_rollback/rollback_planner.hpp>
#include <spinner_rollback/version_store.hpp>

#include <iosfwd>
#include <memory>
#include <mutex>
#include <optional>
#include <type_traits>
#include <unordered_map>

namespace spinner_rollback {

class VersionStore::Impl final : public detail::PlanSource {
public:
    Impl(const std::string &path, const StoreOptions &options);

    /// Every use of the connection holds an Entry: this thread is inside the
    /// library (fork() waits for it), the handle belongs to this process
    /// (else forked_error()), and the handle's mutex is held.
    class Entry {
    public:
        explicit Entry(Impl &impl) : lock_((impl.db.check_process(), impl.mu)) {}

    private:
        detail::InLibrary inside_; // first: entered before the check and the lock
        std::lock_guard<std::mutex> lock_;
    };

    /// Run `f` in a read (or write) transaction, holding an Entry.
    template <class F> auto read(F &&f) { return in_tx(false, std::forward<F>(f)); }
    /// Run `f`, which reads with one statement (its own snapshot), holding
    /// an Entry but opening no transaction: one round trip.
    template <class F> auto single(F &&f) {
        Entry entry(*this);
        return f();
    }
    template <class F> auto write(F &&f) { return in_tx(true, std::forward<F>(f)); }

    RecordResult record(std::string_view spinner, detail::json::object normalized, const ChangeMeta &meta);
    Plan plan(std::string_view spinner, std::int64_t target, const PlanRequest &request, const Pricing &pricing);
    /// The target of plan_auto(): the newest earlier version that was active.
    std::int64_t auto_target(std::string_view spinner);
    Version commit(const Plan &plan, const ChangeMeta &meta, const Pricing &pricing);
    /// Write spinner `spinner` (empty: all) to `out` as a bundle, read in
    /// one read transaction (bundle_export.cpp).
    ExportResult export_to(std::string_view spinner, std::ostream &out, const BundleOptions &options);
    /// Check bundle `b` whole, then import it in one write transaction (bundle_import.cpp).
    ImportResult import_from(const detail::Bundle &b, const BundleOptions &options);

    // PlanSource
    detail::VersionRow version(const detail::SpinnerRow &s, std::int64_t n, const std::string &what) override {
        for (const auto &r : known_versions)
            if (r.number == n) return r;
        if (blobs.cache_only()) throw detail::NotCached{};
        return history.require_version(s, n, what);
    }
    detail::VersionRow current_version(const detail::SpinnerRow &s) override {
        for (const auto &r : known_versions)
            if (r.number == s.current) return r;
        if (blobs.cache_only()) throw detail::NotCached{};
        return history.current_version(s);
    }
    std::shared_ptr<const detail::CoreEntry> core(const std::string &id) override { return blobs.core(id); }
    detail::MapLoader loader() override { return sealer.loader(); }
    detail::json::object materialize(const detail::json::object &core, detail::Secrets mode) override {
        return sealer.materialize(core, mode);
    }
    // In the one-statement path (cache-only), more to read means: fall back
    // to a read transaction (NotCached).
    std::optional<Snapshot> snapshot(std::string_view id) override {
        if (blobs.cache_only()) throw detail::NotCached{};
        return snapshots.find(id);
    }
    bool volume_bound(const detail::SpinnerRow &s, std::string_view name, std::string_view volume_id) override {
        if (blobs.cache_only()) throw detail::NotCached{};
        return history.volume_bound(s, name, volume_id);
    }

    std::mutex mu;
    std::unique_ptr<detail::Db> conn; // SQLite or PostgreSQL
    detail::Db &db;
    const StoreOptions opts;
    detail::Keyring keys;
    detail::BlobStore blobs;
    detail::SealedState sealer;
    detail::EventLog events;
    detail::History history;
    detail::SnapshotTable snapshots;
    std::string plan_key;
    std::string store_id; ///< immutable: read once at open
    /// Version rows read ahead by the transaction under way (version() and
    /// current_version() answer from them).
    std::vector<detail::VersionRow> known_versions;

private:
    /// Remember `core_id` as the latest state of `spinner` seen by this handle.
    void saw_latest(std::string_view spinner, const std::string &core_id);
    /// Per spinner, the latest state this handle last read or wrote: a hint
    /// (other writers may have moved on; a wrong hint costs time, never
    /// correctness) that lets record() skip its "unchanged?" read when a
    /// change is likely.
    std::unordered_map<std::string, std::string> seen_latest;

    RecordResult record_in_tx(std::string_view spinner, const detail::Sealed &sealed, bool enabled,
                              std::int64_t limit, const ChangeMeta &meta, bool likely_new);
    template <class F> auto in_tx(bool write, F &&f) {
        Entry entry(*this);
        return in_tx_entered(write, std::forward<F>(f));
    }
    /// in_tx() for a caller that holds an Entry already. Keys the
    /// transaction created, loaded or adopted are forgotten if it rolls back.
    template <class F> auto in_tx_entered(bool write, F &&f) {
        detail::Tx tx(db, write);
        detail::KeysFollowTx keys_follow(keys);
        std::optional<detail::WriteFacts> facts;
        if (write) facts.emplace(blobs);
        if constexpr (std::is_void_v<decltype(f())>) {
            f();
            tx.commit();
            keys_follow.committed();
        } else {
            auto result = f();
            tx.commit();
            keys_follow.committed();
            return result;
        }
    }
};

} // namespace spinner_rollback
