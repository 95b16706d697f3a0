// The event outbox: appended in the transaction of the change it describes,
// read in pages by seq (docs/events.md).
#include "event_log.hpp"

#include "clock.hpp"

namespace spinner_rollback {

using namespace detail;

std::string EventPage::to_json() const {
    json::array arr;
    for (const auto &e : events)
        arr.push_back(json::object{{"seq", e.seq},
                                   {"at", e.at},
                                   {"type", e.type},
                                   {"spinner", e.spinner.empty() ? json::value(nullptr) : json::value(e.spinner)},
                                   {"version", e.version ? json::value(*e.version) : json::value(nullptr)},
                                   {"data", json::parse(e.data_json)}});
    return dump(json::object{{"storeId", store_id}, {"events", std::move(arr)}, {"next", next}});
}

namespace detail {

void EventLog::append(std::string_view type, std::string_view spinner, std::optional<std::int64_t> version,
                      json::object data) {
    {
        Stmt st(db_, "INSERT INTO events(seq, at, type, spinner, version, data) "
                     "VALUES((SELECT coalesce(max(seq), 0) + 1 FROM events), ?, ?, ?, ?, ?)");
        st.bind(1, now_rfc3339()).bind(2, type);
        if (spinner.empty()) st.bind_null(3); else st.bind(3, spinner);
        if (version) st.bind(4, *version); else st.bind_null(4);
        st.bind(5, dump(data)).run();
    }
    Stmt trim(db_, "DELETE FROM events WHERE seq <= (SELECT max(seq) FROM events) - ?");
    trim.bind(1, limit_).run();
    // Wakes waiters at commit (PostgreSQL: one notification per transaction
    // and channel, however many events).
    if (const auto notify = db_.dialect().notify; !notify.empty()) Stmt(db_, std::string(notify)).run();
}

EventPage EventLog::list(std::int64_t after, std::int64_t limit) {
    EventPage page;
    page.next = after;
    Stmt st(db_, "SELECT seq, at, type, spinner, version, data FROM events WHERE seq > ? ORDER BY seq LIMIT ?");
    st.bind(1, after).bind(2, limit);
    while (st.step()) {
        Event e;
        e.seq = st.i64(0);
        e.at = st.text(1);
        e.type = st.text(2);
        e.spinner = st.text(3);
        if (!st.is_null(4)) e.version = st.i64(4);
        e.data_json = st.text(5);
        page.next = e.seq;
        page.events.push_back(std::move(e));
    }
    return page;
}

} // namespace detail

} // namespace spinner_rollback
