#include <spinner_rollback/error.hpp>

namespace spinner_rollback {

const char *error_name(ErrorCode code) noexcept {
    switch (code) {
    case ErrorCode::ok: return "SPR_OK";
    case ErrorCode::invalid: return "SPR_E_INVALID";
    case ErrorCode::not_found: return "SPR_E_NOT_FOUND";
    case ErrorCode::conflict: return "SPR_E_CONFLICT";
    case ErrorCode::rollback_disabled: return "SPR_E_ROLLBACK_DISABLED";
    case ErrorCode::current_version: return "SPR_E_CURRENT_VERSION";
    case ErrorCode::identical: return "SPR_E_IDENTICAL";
    case ErrorCode::pruned: return "SPR_E_PRUNED";
    case ErrorCode::needs_confirmation: return "SPR_E_NEEDS_CONFIRMATION";
    case ErrorCode::no_key: return "SPR_E_NO_KEY";
    case ErrorCode::corrupt: return "SPR_E_CORRUPT";
    case ErrorCode::busy: return "SPR_E_BUSY";
    case ErrorCode::io: return "SPR_E_IO";
    case ErrorCode::internal: return "SPR_E_INTERNAL";
    case ErrorCode::snapshot_not_ready: return "SPR_E_SNAPSHOT_NOT_READY";
    case ErrorCode::snapshot_mismatch: return "SPR_E_SNAPSHOT_MISMATCH";
    case ErrorCode::unknown_volume: return "SPR_E_UNKNOWN_VOLUME";
    }
    return "SPR_E_UNKNOWN";
}

Error::Error(ErrorCode code, const std::string &message, std::string path)
    : std::runtime_error(message), code_(code), path_(std::move(path)) {}

} // namespace spinner_rollback
