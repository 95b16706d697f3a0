// Restore points: the snapshots of a version's volumes, ranked by when they
// were taken relative to the time the version was current.
#include "restore_points.hpp"

#include <algorithm>

namespace spinner_rollback {

using namespace detail;

const char *to_string(RestorePoint::Relation r) noexcept {
    switch (r) {
    case RestorePoint::Relation::during: return "during";
    case RestorePoint::Relation::before: return "before";
    case RestorePoint::Relation::after: break;
    }
    return "after";
}

std::string RestorePoints::to_json() const {
    json::array vols;
    for (const auto &v : volumes) {
        json::array ids, snaps;
        for (const auto &id : v.volume_ids) ids.emplace_back(id);
        for (const auto &p : v.snapshots) {
            const Snapshot &s = p.snapshot;
            snaps.push_back(json::object{{"id", s.id},
                                         {"volume", s.volume},
                                         {"createdAt", s.created_at},
                                         {"sizeBytes", s.size_bytes},
                                         {"ready", s.ready},
                                         {"storageClass", s.storage_class},
                                         {"relation", to_string(p.relation)}});
        }
        vols.push_back(json::object{{"volume", v.volume}, {"volumeIds", std::move(ids)}, {"snapshots", std::move(snaps)}});
    }
    return dump(json::object{{"spinner", spinner},
                             {"number", number},
                             {"currentFrom", current_from},
                             {"currentUntil", current_until.empty() ? json::value(nullptr) : json::value(current_until)},
                             {"volumes", std::move(vols)}});
}

namespace detail {

std::vector<RestorePoint> rank_restore_points(std::vector<Snapshot> snapshots, std::string_view from,
                                              std::string_view until) {
    std::vector<RestorePoint> out;
    out.reserve(snapshots.size());
    for (auto &s : snapshots) {
        RestorePoint p;
        const std::string_view at = s.created_at;
        p.relation = at < from                        ? RestorePoint::Relation::before
                     : !until.empty() && at >= until ? RestorePoint::Relation::after
                                                      : RestorePoint::Relation::during;
        p.snapshot = std::move(s);
        out.push_back(std::move(p));
    }
    auto rank = [](RestorePoint::Relation r) { return static_cast<int>(r); }; // during, before, after
    std::stable_sort(out.begin(), out.end(), [&](const RestorePoint &a, const RestorePoint &b) {
        if (a.relation != b.relation) return rank(a.relation) < rank(b.relation);
        const auto &x = a.snapshot.created_at, &y = b.snapshot.created_at;
        if (x != y) return a.relation == RestorePoint::Relation::after ? x < y : x > y;
        return a.snapshot.id < b.snapshot.id;
    });
    return out;
}

std::vector<VolumeRestorePoints> volumes_of(const json::object &core) {
    std::vector<VolumeRestorePoints> out;
    const auto *vols = core.if_contains("volumes");
    if (!vols || !vols->is_array()) return out;
    for (const auto &v : vols->get_array()) {
        const auto &o = v.as_object();
        VolumeRestorePoints r;
        r.volume = std::string(o.at("name").as_string());
        if (auto *id = o.if_contains("volumeId")) r.volume_ids.emplace_back(id->as_string());
        out.push_back(std::move(r));
    }
    return out;
}

} // namespace detail

} // namespace spinner_rollback
