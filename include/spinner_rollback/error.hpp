/// @file error.hpp
/// @brief The one error model of spinner_rollback, shared with the C API.
///
/// Every failing call of the C++ API throws spinner_rollback::Error. Its code
/// maps one-to-one onto the `SPR_E_*` codes of the C API (same numbers), its
/// message is written for a human, and its path names the JSON path (or the
/// argument) that is wrong, when there is one. Messages never contain secret
/// values.
#pragma once

#include <spinner_rollback/export.hpp>

#include <stdexcept>
#include <string>

namespace spinner_rollback {

/// Error codes. The numbers are part of the ABI and equal the C `SPR_E_*`
/// constants. @since 0.1
enum class ErrorCode : int {
    ok = 0,                   ///< success (never thrown)
    invalid = 1,              ///< bad input: JSON, argument, request or plan
    not_found = 2,            ///< unknown spinner, version or snapshot
    conflict = 3,             ///< the current version moved since the plan was made
    rollback_disabled = 4,    ///< the spinner has settings.rollback.enabled == false
    current_version = 5,      ///< rollback target is the current version
    identical = 6,            ///< target's tracked content equals the current version's
    pruned = 7,               ///< target existed but was removed by retention
    needs_confirmation = 8,   ///< plan provisions a paid volume; commit needs confirmed=true
    no_key = 9,               ///< secret values but no (or the wrong) encryption key
    corrupt = 10,             ///< stored data failed its digest or authentication check
    busy = 11,                ///< the database stayed locked longer than busyTimeoutMs
    io = 12,                  ///< the file or database could not be read or written
    internal = 13,            ///< a bug in spinner_rollback; please report it
    snapshot_not_ready = 14,  ///< the chosen volume snapshot is not ready
    snapshot_mismatch = 15,   ///< the chosen snapshot is of a volume not bound to that name
    unknown_volume = 16,      ///< a plan request names a volume the target does not have
};

/// Stable upper-case name of a code, e.g. "SPR_E_CONFLICT"; "SPR_OK" for ok.
/// Never returns NULL. @since 0.1
SPR_API const char *error_name(ErrorCode code) noexcept;

/// The exception thrown by every failing call of the C++ API. @since 0.1
class SPR_API Error : public std::runtime_error {
public:
    /// @param code what kind of failure
    /// @param message human-readable text, without secret values
    /// @param path JSON path or argument name the failure is about, or empty
    Error(ErrorCode code, const std::string &message, std::string path = {});

    /// The error code.
    ErrorCode code() const noexcept { return code_; }
    /// The JSON path or argument name, or "" when the error is not about one.
    const std::string &path() const noexcept { return path_; }
    /// error_name(code()).
    const char *name() const noexcept { return error_name(code_); }

private:
    ErrorCode code_;
    std::string path_;
};

} // namespace spinner_rollback
