// Internal: a PostgreSQL connection of its own that LISTENs for the store's
// commit notifications, so that waiting for events needs no polling.
#pragma once

#include <chrono>
#include <mutex>
#include <string>

typedef struct pg_conn PGconn;

namespace spinner_rollback::detail {

/// Thread-safe. Connects lazily, on the first arm().
class PgListener {
public:
    explicit PgListener(std::string uri) : uri_(std::move(uri)) {}
    ~PgListener();
    PgListener(const PgListener &) = delete;
    PgListener &operator=(const PgListener &) = delete;

    /// Listen (connecting if needed) and forget the notifications received so far.
    void arm();
    /// Wait until a notification arrives or `max` passes. When listening
    /// failed (no connection), sleeps a short while instead: the caller
    /// polls, so a lost listener costs latency, never correctness.
    void wait(std::chrono::milliseconds max);
    /// In a child of fork(): close this process's descriptor of the parent's
    /// connection, without a word to the server, and forget it.
    void release_inherited() noexcept;

private:
    bool listening() const;
    void drop();
    int drain(); ///< notifications consumed; -1 when the connection failed

    std::string uri_;
    std::mutex mu_;
    PGconn *conn_ = nullptr;
};

} // namespace spinner_rollback::detail
