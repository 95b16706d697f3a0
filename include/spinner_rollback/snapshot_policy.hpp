/// @file snapshot_policy.hpp
/// @brief SnapshotPolicy: the pure rule that decides when a change becomes a version.
#pragma once

#include <spinner_rollback/export.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace spinner_rollback {

/// Why a change creates a version: the category of a changed field and the
/// path of the field (diff path syntax, see Change::path in state.hpp). @since 0.1
struct Reason {
    std::string category; ///< e.g. "image", "env", "first", "reenabled"
    std::string path;     ///< e.g. "containers[web].env[DEBUG]"; "$" for the whole state
    /// Equal when category and path are equal.
    friend bool operator==(const Reason &, const Reason &) = default;
};

/// What a recorded state leads to. @since 0.2
enum class Outcome {
    created,   ///< a version is due (a first state, or a tracked field changed)
    unchanged, ///< no tracked field changed
    disabled,  ///< the state has settings.rollback.enabled == false
};
/// JSON name of an outcome: "created", "unchanged" or "disabled". Static
/// storage. @since 0.2
SPR_API const char *to_string(Outcome) noexcept;

/// Why a version exists: `deploy` (record() of a changed state), `rollback`
/// (RollbackPlanner::commit()) or `reenabled` (record() of a changed state
/// that enables rollback again). @since 0.1
enum class VersionReason { deploy, rollback, reenabled };
/// JSON name of a reason: "deploy", "rollback" or "reenabled". Static
/// storage. @since 0.1
SPR_API const char *to_string(VersionReason) noexcept;

/// What SnapshotPolicy::evaluate decided. @since 0.1
struct SPR_API Decision {
    /// created, unchanged or disabled (a string before 0.2).
    Outcome outcome = Outcome::unchanged;
    /// True exactly when outcome == Outcome::created.
    bool snapshot = false;
    /// When created: deploy, or reenabled when the previous state had
    /// rollback disabled. @since 0.2
    VersionReason reason = VersionReason::deploy;
    /// One entry per changed tracked field; {"first","$"} for a first state.
    std::vector<Reason> reasons;
    /// `{"snapshot": bool, "outcome": "...", "reasons": [{"category","path"}]}`
    std::string to_json() const;
};

/// Decides, as a pure function of two state documents, whether the second one
/// deserves a new version.
///
/// Field categories (docs/policy.md lists the paths of each): image,
/// codeVersion, env, ports, securityContext, cpu, memory, command, args,
/// instances, mounts, configValues, secretValues (the default triggers) and
/// workingDir, probes, labels, extensions (untracked by default). `settings`
/// are never versioned content.
///
/// Thread safety: immutable after construction; share freely across threads.
/// @since 0.1
class SPR_API SnapshotPolicy {
public:
    /// The default policy: the default trigger categories.
    SnapshotPolicy();

    /// Build a policy from `{"triggers": ["image", "env", "extensions.team.tier", ...]}`.
    /// Entries are category names, or JSON paths under `extensions` written
    /// `extensions.a.b` (a change at or below that path triggers). A missing
    /// `triggers` means the defaults; `"triggers": []` tracks nothing.
    /// @throws Error invalid (unknown category, bad path, bad JSON; path names the entry)
    static SnapshotPolicy from_json(std::string_view policy_json);

    /// All category names, in documentation order.
    static const std::vector<std::string> &all_categories();
    /// The default trigger categories.
    static const std::vector<std::string> &default_triggers();

    /// True if changes of `category` create a version under this policy.
    bool tracks(std::string_view category) const;
    /// True if a change at diff path `path` of category `category` is tracked
    /// (this is how `extensions` paths are matched).
    bool tracks_change(std::string_view category, std::string_view path) const;
    /// The tracked categories.
    const std::vector<std::string> &triggers() const noexcept { return categories_; }
    /// The tracked `extensions.` paths.
    const std::vector<std::string> &extension_paths() const noexcept { return extension_paths_; }
    /// `{"triggers": [...]}`, accepted back by from_json.
    std::string to_json() const;

    /// Decide whether `next_state_json` becomes a version after `previous_state_json`.
    ///
    /// @param previous_state_json the state of the current version, or empty
    ///        when the spinner has no version yet (then the outcome is
    ///        "created" with reason {"first","$"}, unless disabled).
    /// @param next_state_json the state the host is about to deploy.
    /// Both are validated (see state.hpp). Reasons never contain values.
    /// @throws Error invalid naming the document ("previous" or "next") and JSON path.
    Decision evaluate(std::string_view previous_state_json, std::string_view next_state_json) const;

private:
    std::vector<std::string> categories_;
    std::vector<std::string> extension_paths_;
};

} // namespace spinner_rollback
