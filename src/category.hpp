// Internal: the one table of field categories. Policy triggers, diff,
// summaries, the planner's merge and the CLI's help all derive from it.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace spinner_rollback::detail {

/// A field category of the state document (docs/policy.md lists the paths of each).
enum class Category : std::uint8_t {
    image, codeVersion, env, ports, securityContext, cpu, memory, command, args, instances,
    mounts, configValues, secretValues, workingDir, probes, labels, extensions,
};

/// One row of the table.
struct CategoryInfo {
    Category id;
    std::string_view name;          ///< JSON name, e.g. "codeVersion"
    std::string_view label;         ///< word in summaries, e.g. "code"
    bool default_trigger;           ///< tracked by the default policy
    std::string_view container_key; ///< key under a container holding it, or ""
    std::string_view resource_key;  ///< key under a container's "resources", or ""
    std::string_view document_key;  ///< top-level key of the document holding it, or ""
};

/// Every category, in documentation order (the default triggers first).
inline constexpr std::array<CategoryInfo, 17> kCategories{{
    {Category::image, "image", "image", true, "image", "", ""},
    {Category::codeVersion, "codeVersion", "code", true, "codeVersion", "", ""},
    {Category::env, "env", "env", true, "env", "", ""},
    {Category::ports, "ports", "ports", true, "ports", "", ""},
    {Category::securityContext, "securityContext", "securityContext", true, "securityContext", "", ""},
    {Category::cpu, "cpu", "cpu", true, "", "cpu", ""},
    {Category::memory, "memory", "memory", true, "", "memory", ""},
    {Category::command, "command", "command", true, "command", "", ""},
    {Category::args, "args", "args", true, "args", "", ""},
    {Category::instances, "instances", "instances", true, "", "", "instances"},
    {Category::mounts, "mounts", "mounts", true, "mounts", "", "volumes"},
    {Category::configValues, "configValues", "config", true, "", "", "configMaps"},
    {Category::secretValues, "secretValues", "secret", true, "", "", "secrets"},
    {Category::workingDir, "workingDir", "workingDir", false, "workingDir", "", ""},
    {Category::probes, "probes", "probes", false, "probes", "", ""},
    {Category::labels, "labels", "labels", false, "", "", "labels"},
    {Category::extensions, "extensions", "extensions", false, "", "", "extensions"},
}};

/// The row of a category.
constexpr const CategoryInfo &info(Category c) { return kCategories[static_cast<std::size_t>(c)]; }
/// The JSON name of a category.
constexpr std::string_view name(Category c) { return info(c).name; }
/// The category with JSON name `name`, if any.
std::optional<Category> category_named(std::string_view name);
/// "image, codeVersion, …, extensions" (for error messages and help).
std::string_view category_list();

} // namespace spinner_rollback::detail
