// LISTEN on the store's channel ('spr_' || md5(schema)), on a connection of
// its own; writers NOTIFY it in their transactions (EventLog::append).
#include "pg_listener.hpp"

#include <libpq-fe.h>

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <thread>

namespace spinner_rollback::detail {

PgListener::~PgListener() { drop(); }

bool PgListener::listening() const { return conn_ && PQstatus(conn_) == CONNECTION_OK; }

void PgListener::drop() {
    if (conn_) PQfinish(conn_);
    conn_ = nullptr;
}

void PgListener::release_inherited() noexcept {
    // No lock: the child has one thread, and a thread of the parent may have
    // held mu_ at the fork.
    if (conn_ && PQsocket(conn_) >= 0) ::close(PQsocket(conn_));
    conn_ = nullptr;
}

int PgListener::drain() {
    if (!PQconsumeInput(conn_)) return -1;
    int n = 0;
    while (PGnotify *note = PQnotifies(conn_)) {
        PQfreemem(note);
        ++n;
    }
    return n;
}

void PgListener::arm() {
    std::lock_guard lock(mu_);
    if (listening()) {
        if (drain() >= 0) return;
        drop();
    }
    const char *const keys[] = {"connect_timeout", "application_name", "dbname", nullptr};
    const char *const values[] = {"10", "spinner_rollback-listener", uri_.c_str(), nullptr};
    conn_ = PQconnectdbParams(keys, values, 1);
    if (!conn_ || PQstatus(conn_) != CONNECTION_OK) return drop(); // wait() falls back to sleeping
    PQsetNoticeProcessor(conn_, [](void *, const char *) {}, nullptr);
    PGresult *r = PQexec(conn_, "SELECT 'spr_' || md5(current_schema())");
    const bool named = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
    const std::string channel = named ? PQgetvalue(r, 0, 0) : "";
    PQclear(r);
    if (!named) return drop();
    r = PQexec(conn_, ("LISTEN \"" + channel + "\"").c_str()); // hex digits: nothing to quote
    const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (!ok) drop();
}

void PgListener::wait(std::chrono::milliseconds max) {
    std::unique_lock lock(mu_);
    if (!listening()) {
        lock.unlock();
        std::this_thread::sleep_for(std::min(max, std::chrono::milliseconds(25)));
        return;
    }
    if (drain() != 0) return; // already notified (or failed: the caller looks again)
    pollfd p{PQsocket(conn_), POLLIN, 0};
    const int ms = static_cast<int>(std::max<std::chrono::milliseconds::rep>(max.count(), 0));
    if (poll(&p, 1, ms) > 0) drain();
}

} // namespace spinner_rollback::detail
