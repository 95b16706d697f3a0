/// @file spinner_rollback.hpp
/// @brief Umbrella header: the whole C++ API of spinner_rollback.
#pragma once

#include <spinner_rollback/error.hpp>
#include <spinner_rollback/rollback_planner.hpp>
#include <spinner_rollback/snapshot_policy.hpp>
#include <spinner_rollback/state.hpp>
#include <spinner_rollback/version.hpp>
#include <spinner_rollback/version_store.hpp>

namespace spinner_rollback {
/// The library's version at run time ("0.1.0"), which may differ from
/// SPR_VERSION_STRING the caller compiled against. @since 0.1
SPR_API const char *version_string() noexcept;
} // namespace spinner_rollback
