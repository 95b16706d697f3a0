// fuzz_state: canonical_state() on arbitrary bytes.
// Invariants: only spinner_rollback::Error may escape; a canonical state is a
// fixed point (canonicalising it again yields the same bytes).
#include "fuzz_common.hpp"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    namespace spr = spinner_rollback;
    const std::string_view in(reinterpret_cast<const char *>(data), size);
    std::string canon;
    if (!spr_fuzz::expect_ok_or_error("canonical_state", [&] { canon = spr::canonical_state(in); }))
        return 0;
    std::string again;
    if (!spr_fuzz::expect_ok_or_error("canonical_state(canonical)",
                                      [&] { again = spr::canonical_state(canon); }))
        spr_fuzz::bug("canonical_state", "refused its own output");
    if (again != canon) spr_fuzz::bug("canonical_state", "not idempotent");
    return 0;
}
