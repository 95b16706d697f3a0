// fuzz_policy: input = A 0x00 B (no 0x00: A = input, B = ""). Runs
// SnapshotPolicy().evaluate(A, B), diff_states(A, B) and summarize().
// Only spinner_rollback::Error may escape.
#include "fuzz_common.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    namespace spr = spinner_rollback;
    const char *p = reinterpret_cast<const char *>(data);
    const void *nul = std::memchr(p, 0, size);
    const size_t na = nul ? static_cast<size_t>(static_cast<const char *>(nul) - p) : size;
    const std::string_view a(p, na);
    const std::string_view b = nul ? std::string_view(p + na + 1, size - na - 1) : std::string_view();

    static const spr::SnapshotPolicy policy;
    spr_fuzz::expect_ok_or_error("SnapshotPolicy::evaluate", [&] { (void)policy.evaluate(a, b); });
    spr_fuzz::expect_ok_or_error("diff_states+summarize", [&] {
        spr::Diff d = spr::diff_states(a, b);
        (void)spr::summarize(d);
    });
    return 0;
}
