// Internal: export and import of bundles (docs/bundles.md), shared by
// export_bundle(), import_bundle() and migrate_to().
#pragma once

#include "bundle_format.hpp"
#include "store_impl.hpp"

#include <iosfwd>

namespace spinner_rollback::detail {

/// The key a bundle's keys are wrapped under; none when not given.
std::optional<Key> bundle_key(const BundleOptions &o);

/// Associated data of a bundle's wrapped keys.
inline constexpr std::string_view kBundleKeyAd = "spinner_rollback bundle key v1";

} // namespace spinner_rollback::detail
