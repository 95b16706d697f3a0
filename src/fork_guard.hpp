// Internal: fork() and the library (docs/architecture.md, "Threads and fork").
//
// A child of fork() has one thread and a copy of the parent's memory: open
// connections, SQLite's per-file lock bookkeeping (shared by all connections
// of a process, and not true in the child, which holds none of the parent's
// POSIX locks), any mutex held at that instant. Two rules make that safe:
//
// 1. Every use of a connection runs inside an InLibrary scope, and fork()
//    waits (pthread_atfork) until no thread is inside one: a child never
//    inherits a connection in the middle of a statement or a transaction.
// 2. A connection is ProcessBound: in a child, the first entry into the
//    library lets go of every inherited connection without touching what
//    the parent still uses (SQLite: finalized and closed, which only drops
//    the child's copy of the bookkeeping; PostgreSQL: the child's copy of the
//    socket closed, never a Terminate message on the parent's session), and
//    any later use of one is refused with forked_error().
#pragma once

#include <spinner_rollback/error.hpp>

#include <cstdint>

namespace spinner_rollback::detail {

/// While alive, this thread is inside the library and fork() waits for it.
/// Reentrant (an inner scope costs nothing). In a child of fork(), the
/// first scope entered releases the inherited connections first.
class InLibrary {
public:
    InLibrary();
    ~InLibrary();
    InLibrary(const InLibrary &) = delete;
    InLibrary &operator=(const InLibrary &) = delete;
};

/// Something that belongs to the process that made it: a connection.
/// Constructed and destroyed inside an InLibrary scope.
class ProcessBound {
public:
    /// True in a child of fork() for an object the parent made.
    bool inherited() const noexcept;
    /// Throws forked_error() when inherited().
    void check_process() const;

    // For the registry (fork_guard.cpp): the next live object, and the call
    // that releases this one once if a parent made it.
    ProcessBound *next_for_fork() const noexcept { return next_; }
    void release_if_inherited() noexcept;

protected:
    ProcessBound();
    virtual ~ProcessBound();
    ProcessBound(const ProcessBound &) = delete;
    ProcessBound &operator=(const ProcessBound &) = delete;

    /// Called once, in a child, before it does anything else in the library:
    /// let go of the inherited resources without any I/O the parent would
    /// see. Afterwards the object is only destroyed, never used.
    virtual void release_inherited() noexcept = 0;

private:
    std::uint64_t generation_;
    bool released_ = false;
    ProcessBound *prev_ = nullptr, *next_ = nullptr; // the process's registry
};

/// The error for a handle used in a process it was not opened in.
Error forked_error();

/// Call before the process's first SQLite connection: from then on fork()
/// also waits for SQLite's own lock bookkeeping to be free (used by other
/// code of the process too, e.g. Python's sqlite3 module).
void note_sqlite_in_use() noexcept;

} // namespace spinner_rollback::detail
