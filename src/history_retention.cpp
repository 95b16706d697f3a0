// Retention (docs/retention.md), the one rule: in each write's transaction,
// which older versions of a spinner go. Kept: the current version, every
// tagged one, the version whose status is "active", and the newest
// historyLimit untagged versions older than the current one. A pruned
// version takes its remembered requestIds with it, and releases its content.
#include "history.hpp"

#include "json.hpp"

namespace spinner_rollback::detail {

void History::prune(const SpinnerRow &s, const WriteView &w, bool created) {
    // Walk retention's candidates newest first, after the versions above
    // them. Those above (from last_number + 1 - historyLimit on) are all
    // kept; `used` is how many of them are untagged older versions (the
    // candidates' numbers are all below them).
    if (w.old_versions.empty()) return;
    const std::int64_t limit = s.history_limit;
    std::int64_t used = w.untagged_in_window.value_or(0);
    const bool current_untagged = w.current && w.current->tags_text.empty();
    if (!created && current_untagged) --used; // the current version is not an older one
    std::vector<const OldVersion *> doomed;
    for (const auto &v : w.old_versions) {
        if (v.number == s.current || v.tagged) continue;
        if (used < limit) { // one of the newest `limit` untagged older versions (an active one too)
            ++used;
            continue;
        }
        if (v.active) continue; // kept wherever it is
        doomed.push_back(&v);
    }
    if (doomed.empty()) return;
    json::array numbers;
    for (const OldVersion *v : doomed) numbers.emplace_back(v->number);
    events_.append("versions.pruned", s.name, std::nullopt, json::object{{"numbers", std::move(numbers)}});
    Stmt del(db_, "DELETE FROM versions WHERE spinner_id=? AND number=?");
    Stmt forget(db_, "DELETE FROM requests WHERE spinner_id=? AND number=?");
    for (const OldVersion *v : doomed) {
        del.reset();
        del.bind(1, s.id).bind(2, v->number).run();
        forget.reset();
        forget.bind(1, s.id).bind(2, v->number).run();
        blobs_.decref(v->core);
    }
}

} // namespace spinner_rollback::detail
