/// @file state.hpp
/// @brief The state document: validation, canonical form, and field-level diff.
#pragma once

#include <spinner_rollback/export.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace spinner_rollback {

/// Validate a state document (schemaVersion 1, see docs/state.md) and return
/// its canonical form: keys sorted, quantities normalised (`0.5` and `500m`
/// → `"500m"`; `1Gi` and `1024Mi` → `"1Gi"`), defaults filled in (e.g.
/// protocol "TCP"), no insignificant whitespace. Equal states have equal
/// canonical forms byte for byte. The canonical form contains secret values:
/// treat it as secret.
///
/// Limits (refused with Error invalid): 16 MiB per document, nesting depth 64,
/// 4 MiB per string or number, and the counts in docs/state.md.
/// @throws Error invalid whose path() is the JSON path of the first problem,
///         e.g. `$.containers[0].ports[1].containerPort`.
/// @since 0.1
SPR_API std::string canonical_state(std::string_view state_json);

/// What a changed field did. @since 0.1
enum class ChangeKind { added, removed, changed };

/// One field-level difference between two states. @since 0.1
struct Change {
    /// Diff path: `instances`, `containers[web].image`,
    /// `containers[web].env[DEBUG]`, `containers[web].ports[8080/TCP]`,
    /// `containers[web].mounts[/data]`, `volumes[data]`,
    /// `configMaps[shop-config]["app.yaml"]`, `secrets[db][password]`, ...
    std::string path;
    std::string category; ///< the SnapshotPolicy category of the field
    /// Whether the field was added, removed or changed.
    ChangeKind kind = ChangeKind::changed;
    std::string from;     ///< old value as JSON text; "null" when added; masked for secrets
    std::string to;       ///< new value as JSON text; "null" when removed; masked for secrets
};

/// A field-level diff. @since 0.1
struct SPR_API Diff {
    /// One entry per changed field; empty when the states are equal.
    std::vector<Change> changes;
    /// `{"changes":[{"path","category","kind","from","to"}]}`
    std::string to_json() const;
};

/// The text that stands for a secret value wherever values are shown
/// without an explicit request to reveal them. @since 0.1
inline constexpr std::string_view masked_value = "<redacted>";

/// Field-level diff of two valid state documents (a → b). Secret values are
/// masked (a changed secret is reported with from/to == "<redacted>"). Changes
/// to `settings` are not reported.
/// @throws Error invalid naming the bad document ("a" or "b") and JSON path.
/// @since 0.1
SPR_API Diff diff_states(std::string_view a_json, std::string_view b_json);

/// One-line human summary of a diff, e.g.
/// "image shop:1.4 → shop:1.5; env +DEBUG; instances 2 → 3". Never holds
/// secret values. @since 0.1
SPR_API std::string summarize(const Diff &diff);

} // namespace spinner_rollback
