// fork() waits for every thread to leave the library; a child releases the
// connections it inherited (fork_guard.hpp).
#include "fork_guard.hpp"

#include <pthread.h>
#include <sqlite3.h>

#include <atomic>
#include <mutex>

namespace spinner_rollback::detail {

namespace {

// Held shared by every thread inside the library, exclusively by fork().
// Writer-preferring (glibc): a waiting fork() is not starved by a stream of
// calls; the price is that a thread must never take it twice, hence t_depth.
#ifdef PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP
#define SPR_RWLOCK_INITIALIZER PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP
#else
#define SPR_RWLOCK_INITIALIZER PTHREAD_RWLOCK_INITIALIZER
#endif
pthread_rwlock_t g_inside = SPR_RWLOCK_INITIALIZER;
thread_local int t_depth = 0;

// This process's place in its fork() lineage: the child handler adds one,
// so an object made by an ancestor has a different generation.
std::atomic<std::uint64_t> g_generation{0};
// The generation whose inherited objects were released (under g_registry).
std::atomic<std::uint64_t> g_released{0};

// Every live ProcessBound object. Changed only inside InLibrary scopes, so
// never at the instant of fork().
std::mutex g_registry;
ProcessBound *g_head = nullptr;

std::atomic<bool> g_sqlite{false};

sqlite3_mutex *sqlite_bookkeeping() {
    // SQLite's unix VFS guards its per-file lock records (shared by every
    // connection of the process) with this static mutex.
    return sqlite3_mutex_alloc(SQLITE_MUTEX_STATIC_VFS1);
}

void before_fork() {
    pthread_rwlock_wrlock(&g_inside);
    if (g_sqlite.load()) sqlite3_mutex_enter(sqlite_bookkeeping());
}

void after_fork_in_parent() {
    if (g_sqlite.load()) sqlite3_mutex_leave(sqlite_bookkeeping());
    pthread_rwlock_unlock(&g_inside);
}

void after_fork_in_child() {
    if (g_sqlite.load()) sqlite3_mutex_leave(sqlite_bookkeeping());
    g_generation.fetch_add(1);
    // Not unlocked: glibc's rwlock remembers the writer by thread id, which
    // differs in the child. The child is the lock's only user: start afresh.
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
#ifdef PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
#endif
    pthread_rwlock_init(&g_inside, &attr);
    pthread_rwlockattr_destroy(&attr);
}

// Registered when the library is loaded; glibc unregisters the handlers if
// the library is unloaded (dlclose).
const int g_atfork = pthread_atfork(before_fork, after_fork_in_parent, after_fork_in_child);

// In a child, before its first use of the library: release what it inherited.
void release_inherited_objects() {
    std::lock_guard lock(g_registry);
    const std::uint64_t now = g_generation.load();
    if (g_released.load() == now) return;
    for (ProcessBound *p = g_head; p; p = p->next_for_fork())
        p->release_if_inherited();
    g_released.store(now);
}

} // namespace

InLibrary::InLibrary() {
    (void)g_atfork;
    if (t_depth++ > 0) return;
    pthread_rwlock_rdlock(&g_inside);
    if (g_released.load(std::memory_order_acquire) != g_generation.load(std::memory_order_relaxed))
        release_inherited_objects();
}

InLibrary::~InLibrary() {
    if (--t_depth > 0) return;
    pthread_rwlock_unlock(&g_inside);
}

ProcessBound::ProcessBound() : generation_(g_generation.load()) {
    std::lock_guard lock(g_registry);
    next_ = g_head;
    if (g_head) g_head->prev_ = this;
    g_head = this;
}

ProcessBound::~ProcessBound() {
    std::lock_guard lock(g_registry);
    if (prev_) prev_->next_ = next_;
    else g_head = next_;
    if (next_) next_->prev_ = prev_;
}

bool ProcessBound::inherited() const noexcept { return generation_ != g_generation.load(); }

void ProcessBound::check_process() const {
    if (inherited()) throw forked_error();
}

void ProcessBound::release_if_inherited() noexcept {
    if (released_ || !inherited()) return;
    released_ = true;
    release_inherited();
}

Error forked_error() {
    return Error(ErrorCode::invalid,
                 "this store handle was opened in another process (before fork()) and cannot be used in "
                 "this one: open a new store in this process (closing the inherited handle is safe)",
                 "store");
}

void note_sqlite_in_use() noexcept { g_sqlite.store(true); }

} // namespace spinner_rollback::detail
