// fuzz_plan_request: the JSON parsers of the C++ API on arbitrary bytes:
// PlanRequest, Snapshot, ChangeMeta, StoreOptions, Plan (and SnapshotPolicy).
// Invariants: only spinner_rollback::Error may escape; documented round trips
// (PlanRequest::to_json, Snapshot::to_json, SnapshotPolicy::to_json are
// "accepted back by from_json") hold. Never touches the filesystem:
// StoreOptions::from_json only records keyFile, and nothing is opened.
#include "fuzz_common.hpp"

#include <cstddef>
#include <cstdint>

namespace {
// Whatever from_json accepts, to_json writes back in a form from_json accepts
// and that serialises the same again.
template <class T> void round_trip(const char *name, std::string_view in) {
    T value;
    if (!spr_fuzz::expect_ok_or_error(name, [&] { value = T::from_json(in); })) return;
    const std::string j = value.to_json();
    T back;
    if (!spr_fuzz::expect_ok_or_error(name, [&] { back = T::from_json(j); }))
        spr_fuzz::bug(name, "to_json output refused by from_json");
    if (back.to_json() != j) spr_fuzz::bug(name, "round trip not stable");
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    namespace spr = spinner_rollback;
    const std::string_view in(reinterpret_cast<const char *>(data), size);

    round_trip<spr::PlanRequest>("PlanRequest", in);

    round_trip<spr::Snapshot>("Snapshot", in);

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
    round_trip<spr::Plan>("Plan", in);
    return 0;
}
