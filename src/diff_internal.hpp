// Internal: field-level diff over normalised (possibly sealed) state objects,
// the category of every field, and the one-line summary.
#pragma once

#include "category.hpp"
#include "json.hpp"

#include <spinner_rollback/snapshot_policy.hpp>
#include <spinner_rollback/state.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <vector>

namespace spinner_rollback::detail {

struct RawChange {
    std::string path;
    Category category;
    ChangeKind kind;
    json::value from; // null when added
    json::value to;   // null when removed
};

/// Loads the values of a config map given the sealed placeholder
/// ("blob:<hex>") found in a stored document (shared: a cached 1 MiB map is
/// not copied to be compared).
using MapLoader = std::function<std::shared_ptr<const json::object>(const json::value &)>;

/// Diff two normalised state objects (a → b). Either may be an empty object
/// (no state). `settings` and `schemaVersion` are skipped. Config-map values
/// that are sealed placeholders are loaded with `load` only when they differ.
std::vector<RawChange> diff_objects(const json::object &a, const json::object &b,
                                    const MapLoader &load = {});

/// Public form: values as JSON text, secret values masked. With
/// `summarize_over`, a config value longer than that many bytes is shown as
/// `{"bytes": N, "sha256": "<hex>"}` instead of its text (plans do this).
Diff to_public(const std::vector<RawChange> &changes, std::size_t summarize_over = 0);

/// "added", "removed" or "changed".
std::string_view kind_name(ChangeKind kind);
/// The kind named `name`, if any.
std::optional<ChangeKind> kind_named(std::string_view name);
/// `{"changes": [{"path","category","kind","from","to"}]}`
json::object diff_json(const Diff &diff);

/// Keep only the changes the policy tracks, as reasons.
std::vector<Reason> tracked_reasons(const std::vector<RawChange> &changes,
                                    const SnapshotPolicy &policy);

/// Summary line from raw changes ("image shop:1.4 → shop:1.5; env +DEBUG").
std::string summarize_raw(const std::vector<RawChange> &changes);

/// Summary for a first version ("first version: image shop:1.4; 2 instances").
std::string summarize_first(const json::object &state);

} // namespace spinner_rollback::detail
