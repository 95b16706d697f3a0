// JSON form of reasons and the names of outcomes and version reasons.
#include "reasons.hpp"

namespace spinner_rollback {

const char *to_string(Outcome o) noexcept {
    switch (o) {
    case Outcome::created: return "created";
    case Outcome::unchanged: return "unchanged";
    case Outcome::disabled: return "disabled";
    }
    return "unchanged";
}

const char *to_string(VersionReason r) noexcept {
    switch (r) {
    case VersionReason::deploy: return "deploy";
    case VersionReason::rollback: return "rollback";
    case VersionReason::reenabled: return "reenabled";
    }
    return "deploy";
}

namespace detail {

json::array reasons_json(const std::vector<Reason> &reasons) {
    json::array r;
    r.reserve(reasons.size());
    for (const auto &x : reasons) r.emplace_back(json::object{{"category", x.category}, {"path", x.path}});
    return r;
}

std::string reasons_text(const std::vector<Reason> &reasons) { return dump(reasons_json(reasons)); }

std::vector<Reason> reasons_from_text(std::string_view stored) {
    std::vector<Reason> out;
    boost::system::error_code ec;
    json::value v = json::parse(stored, ec);
    const json::array *arr = !ec && v.is_array() ? &v.get_array() : nullptr;
    if (!arr) throw Error(ErrorCode::corrupt, "a stored version's reasons are not readable");
    for (const auto &e : *arr) {
        const auto *o = e.if_object();
        const auto *c = o ? o->if_contains("category") : nullptr;
        const auto *p = o ? o->if_contains("path") : nullptr;
        if (!c || !p || !c->is_string() || !p->is_string())
            throw Error(ErrorCode::corrupt, "a stored version's reasons are not readable");
        out.push_back({std::string(c->get_string()), std::string(p->get_string())});
    }
    return out;
}

} // namespace detail
} // namespace spinner_rollback
