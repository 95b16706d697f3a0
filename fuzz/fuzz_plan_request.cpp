// fuzz_plan_request: the JSON parsers of the C++ API on arbitrary bytes:
// PlanRequest, Snapshot, ChangeMeta, StoreOptions, Plan (and SnapshotPolicy).
// Invariants: only spinner_rollback::Error may escape; documented round trips
// (PlanRequest::to_json, Snapshot::to_json, SnapshotPolicy::to_json are
// "accepted back by from_json") hold. Never touches the filesystem:
// StoreOptions::from_json only records keyFile, and nothing is opened.
#include "fuzz_common.hpp"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    namespace spr = spinner_rollback;
    const std::string_view in(reinterpret_cast<const char *>(data), size);

    spr::PlanRequest req;
    if (spr_fuzz::expect_ok_or_error("PlanRequest::from_json", [&] { req = spr::PlanRequest::from_json(in); })) {
        const std::string j = req.to_json();
        spr::PlanRequest back;
        if (!spr_fuzz::expect_ok_or_error("PlanRequest round trip", [&] { back = spr::PlanRequest::from_json(j); }))
            spr_fuzz::bug("PlanRequest", "to_json output refused by from_json");
        if (back.to_json() != j) spr_fuzz::bug("PlanRequest", "round trip not stable");
    }

    spr::Snapshot snap;
    if (spr_fuzz::expect_ok_or_error("Snapshot::from_json", [&] { snap = spr::Snapshot::from_json(in); })) {
        const std::string j = snap.to_json();
        spr::Snapshot back;
        if (!spr_fuzz::expect_ok_or_error("Snapshot round trip", [&] { back = spr::Snapshot::from_json(j); }))
            spr_fuzz::bug("Snapshot", "to_json output refused by from_json");
        if (back.to_json() != j) spr_fuzz::bug("Snapshot", "round trip not stable");
    }

    spr_fuzz::expect_ok_or_error("ChangeMeta::from_json", [&] { (void)spr::ChangeMeta::from_json(in); });

    spr::StoreOptions opt;
    if (spr_fuzz::expect_ok_or_error("StoreOptions::from_json", [&] { opt = spr::StoreOptions::from_json(in); })) {
        // A keyFile is only a path here; it is never read (nothing is opened).
        if (opt.key_file.empty()) {
            const std::string pj = opt.policy.to_json();
            if (!spr_fuzz::expect_ok_or_error("SnapshotPolicy round trip",
                                              [&] { (void)spr::SnapshotPolicy::from_json(pj); }))
                spr_fuzz::bug("SnapshotPolicy", "to_json output refused by from_json");
        }
    }

    spr_fuzz::expect_ok_or_error("SnapshotPolicy::from_json", [&] { (void)spr::SnapshotPolicy::from_json(in); });
    spr::Plan plan;
    if (spr_fuzz::expect_ok_or_error("Plan::from_json", [&] { plan = spr::Plan::from_json(in); })) {
        const std::string j = plan.to_json();
        spr::Plan back;
        if (!spr_fuzz::expect_ok_or_error("Plan round trip", [&] { back = spr::Plan::from_json(j); }))
            spr_fuzz::bug("Plan", "to_json output refused by from_json");
        if (back.to_json() != j) spr_fuzz::bug("Plan", "round trip not stable");
    }
    return 0;
}
