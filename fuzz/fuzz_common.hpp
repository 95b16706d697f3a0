// Shared helpers for the libFuzzer targets (not a target itself).
#pragma once

#include <spinner_rollback/spinner_rollback.hpp>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>

namespace spr_fuzz {

/// Abort (a crash libFuzzer reports) with a message.
[[noreturn]] inline void bug(const char *what, const char *detail = "") {
    std::fprintf(stderr, "FUZZ BUG: %s %s\n", what, detail);
    std::abort();
}

/// Run f; spinner_rollback::Error is the expected refusal, anything else is a bug.
/// Returns true when f returned normally.
template <class F> bool expect_ok_or_error(const char *what, F &&f) {
    try {
        f();
        return true;
    } catch (const spinner_rollback::Error &) {
        return false;
    } catch (const std::exception &e) {
        bug(what, (std::string("non-Error exception: ") + e.what()).c_str());
    } catch (...) {
        bug(what, "unknown exception type");
    }
}

} // namespace spr_fuzz
