// The category table's lookups (the table itself is in category.hpp).
#include "category.hpp"

#include <string>

namespace spinner_rollback::detail {

static_assert([] {
    for (std::size_t i = 0; i < kCategories.size(); ++i)
        if (static_cast<std::size_t>(kCategories[i].id) != i) return false;
    return true;
}(), "kCategories is indexed by Category");

std::optional<Category> category_named(std::string_view n) {
    for (const auto &c : kCategories)
        if (c.name == n) return c.id;
    return std::nullopt;
}

std::string_view category_list() {
    static const std::string list = [] {
        std::string s;
        for (const auto &c : kCategories) {
            if (!s.empty()) s += ", ";
            s += c.name;
        }
        return s;
    }();
    return list;
}

} // namespace spinner_rollback::detail
