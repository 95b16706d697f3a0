// Shared helpers for the libFuzzer targets (not a target itself).
#pragma once

#include <spinner_rollback/spinner_rollback.hpp>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <sstream>
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

/// The two smallest valid state documents (busybox, 1 then 2 instances): the
/// seeds a target records when SPR_FUZZ_SEED_DIR is not set.
inline constexpr const char *kMinimalV1 =
    R"({"schemaVersion":1,"instances":1,"containers":[{"name":"app","image":{"reference":"busybox:1.36"}}]})";
inline constexpr const char *kMinimalV2 =
    R"({"schemaVersion":1,"instances":2,"containers":[{"name":"app","image":{"reference":"busybox:1.37"}}]})";

/// The whole of a file, or "" when it cannot be read.
inline std::string read_file(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

/// tests/data/<name> when SPR_FUZZ_SEED_DIR points at tests/data (fuzz/run.sh
/// sets it), else "" (the caller falls back to kMinimalV1/V2).
inline std::string seed_document(const char *name) {
    const char *dir = std::getenv("SPR_FUZZ_SEED_DIR");
    return dir ? read_file(std::string(dir) + "/" + name) : std::string();
}

} // namespace spr_fuzz
