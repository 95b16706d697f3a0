// A test-only SQLite VFS, "powercut", that simulates a power cut (docs/faults.md,
// "Power loss"). It wraps the default VFS and passes every call through, but
// remembers, per file, what was written since that file's last xSync: the
// bytes each write put there and, per 512-byte sector, what the sector held
// when it was last synced. When the process's I/O count reaches
// SPR_POWERCUT_AT, the power goes: for every file, each unsynced write
// reached the disk or not (at random, independently: so writes are also
// reordered), and a write that reached it may be torn — each of its sectors
// on its own new or old. The files are rewritten to that state and the
// process kills itself with SIGKILL before the call returns. Synced data is
// never touched: what xSync promised, survives.
//
// Like SQLite's own crash tests (src/test6.c), whose idea this follows; the
// code is ours. Not shipped: the library only lets a caller name a VFS
// (`file:PATH?vfs=powercut`, a SQLite URI).
//
// Environment: SPR_POWERCUT_AT (the I/O operation — write, truncate or sync —
// at which the power goes; 0 or unset: never), SPR_POWERCUT_SEED (the random
// choices; default 1).
#include <sqlite3.h>

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <vector>

namespace {

constexpr sqlite3_int64 kSector = 512;

// What one file went through since its last sync.
struct Unsynced {
    struct Write {
        sqlite3_int64 offset;
        std::string data;
    };
    std::vector<Write> writes;
    // Per sector touched since the sync: its synced content (shorter than a
    // sector, or empty, where the file ended).
    std::map<sqlite3_int64, std::string> base;
    sqlite3_int64 synced_size = -1; // -1: not known yet (set at the first change)
};

struct PcFile {
    sqlite3_file base; // must be first
    sqlite3_file *real;
    std::string *path; // NULL: not tracked (temporary files)
};

std::mutex g_mu;
std::map<std::string, Unsynced> *g_files; // by path; leaked on purpose (the process dies)
std::vector<PcFile *> *g_open;            // open tracked files: the cut writes through them
long long g_ops = 0, g_cut_at = 0;
std::uint64_t g_seed = 1;
sqlite3_vfs *g_real = nullptr;
sqlite3_vfs g_vfs;
sqlite3_io_methods g_methods;

sqlite3_int64 file_size(sqlite3_file *f) {
    sqlite3_int64 n = 0;
    return f->pMethods->xFileSize(f, &n) == SQLITE_OK ? n : 0;
}

std::string read_at(sqlite3_file *f, sqlite3_int64 off, sqlite3_int64 n, sqlite3_int64 size) {
    if (off >= size) return {};
    n = std::min(n, size - off);
    std::string s(static_cast<std::size_t>(n), '\0');
    if (f->pMethods->xRead(f, s.data(), static_cast<int>(n), off) != SQLITE_OK) s.clear();
    return s;
}

// Remember the synced content of every sector [off, off+n) touches.
void note_base(PcFile *p, Unsynced &u, sqlite3_int64 off, sqlite3_int64 n) {
    const sqlite3_int64 size = file_size(p->real);
    if (u.synced_size < 0) u.synced_size = size;
    for (sqlite3_int64 s = off / kSector; s * kSector < off + n; ++s)
        if (!u.base.count(s)) u.base[s] = read_at(p->real, s * kSector, kSector, size);
}

// The power goes: every tracked file is put into one state a disk could be
// in after it, and the process dies.
[[noreturn]] void cut_power() {
    std::mt19937_64 rng(g_seed);
    std::bernoulli_distribution reached(0.5), sector_new(0.75);
    std::vector<std::string> done;
    for (PcFile *p : *g_open) {
        if (std::find(done.begin(), done.end(), *p->path) != done.end()) continue; // one file, several handles
        done.push_back(*p->path);
        auto it = g_files->find(*p->path);
        if (it == g_files->end() || it->second.synced_size < 0) continue;
        Unsynced &u = it->second;
        // Each sector: its synced content, then every write that reached the
        // disk (in order) with this sector among its surviving ones.
        std::map<sqlite3_int64, std::string> final = u.base;
        sqlite3_int64 size = u.synced_size;
        for (const auto &w : u.writes) {
            if (!reached(rng)) continue;
            const sqlite3_int64 end = w.offset + static_cast<sqlite3_int64>(w.data.size());
            for (sqlite3_int64 s = w.offset / kSector; s * kSector < end; ++s) {
                if (!sector_new(rng)) continue; // torn: this sector kept its old bytes
                std::string &sec = final[s];
                const sqlite3_int64 from = std::max(w.offset, s * kSector), to = std::min(end, (s + 1) * kSector);
                const auto at = static_cast<std::size_t>(from - s * kSector);
                if (sec.size() < at + static_cast<std::size_t>(to - from))
                    sec.resize(at + static_cast<std::size_t>(to - from), '\0');
                sec.replace(at, static_cast<std::size_t>(to - from), w.data, static_cast<std::size_t>(from - w.offset),
                            static_cast<std::size_t>(to - from));
                size = std::max(size, s * kSector + static_cast<sqlite3_int64>(sec.size()));
            }
        }
        sqlite3_file *f = p->real;
        f->pMethods->xTruncate(f, size);
        for (const auto &[s, bytes] : final) {
            if (s * kSector >= size) continue;
            std::string b = bytes;
            b.resize(static_cast<std::size_t>(std::min(kSector, size - s * kSector)), '\0'); // never written: zeros
            f->pMethods->xWrite(f, b.data(), static_cast<int>(b.size()), s * kSector);
        }
    }
    ::kill(::getpid(), SIGKILL);
    std::_Exit(137);
}

// Counts an I/O operation; the power goes at the chosen one (before it runs).
void count_op() {
    if (g_cut_at > 0 && ++g_ops == g_cut_at) cut_power();
}

Unsynced &unsynced(PcFile *p) { return (*g_files)[*p->path]; }

int pc_close(sqlite3_file *f) {
    auto *p = reinterpret_cast<PcFile *>(f);
    int rc = p->real->pMethods ? p->real->pMethods->xClose(p->real) : SQLITE_OK;
    std::lock_guard lock(g_mu);
    if (p->path) {
        std::erase(*g_open, p);
        delete p->path;
    }
    std::free(p->real);
    return rc;
}
int pc_read(sqlite3_file *f, void *buf, int n, sqlite3_int64 off) {
    auto *p = reinterpret_cast<PcFile *>(f);
    return p->real->pMethods->xRead(p->real, buf, n, off);
}
int pc_write(sqlite3_file *f, const void *buf, int n, sqlite3_int64 off) {
    auto *p = reinterpret_cast<PcFile *>(f);
    if (p->path) {
        std::lock_guard lock(g_mu);
        count_op();
        Unsynced &u = unsynced(p);
        note_base(p, u, off, n);
        u.writes.push_back({off, std::string(static_cast<const char *>(buf), static_cast<std::size_t>(n))});
    }
    return p->real->pMethods->xWrite(p->real, buf, n, off);
}
int pc_truncate(sqlite3_file *f, sqlite3_int64 size) {
    auto *p = reinterpret_cast<PcFile *>(f);
    if (p->path) {
        // Kept simple: a truncation reaches the disk at once (the WAL is
        // reused from its start, not truncated, in this library's settings).
        std::lock_guard lock(g_mu);
        count_op();
        Unsynced &u = unsynced(p);
        if (u.synced_size > size) u.synced_size = size;
        std::erase_if(u.writes, [&](const Unsynced::Write &w) { return w.offset >= size; });
        for (auto &w : u.writes)
            if (w.offset + static_cast<sqlite3_int64>(w.data.size()) > size)
                w.data.resize(static_cast<std::size_t>(size - w.offset));
        for (auto it = u.base.begin(); it != u.base.end();) {
            if (it->first * kSector >= size) it = u.base.erase(it);
            else {
                if (static_cast<sqlite3_int64>(it->second.size()) > size - it->first * kSector)
                    it->second.resize(static_cast<std::size_t>(size - it->first * kSector));
                ++it;
            }
        }
    }
    return p->real->pMethods->xTruncate(p->real, size);
}
int pc_sync(sqlite3_file *f, int flags) {
    auto *p = reinterpret_cast<PcFile *>(f);
    int rc = SQLITE_OK;
    if (p->path) {
        std::lock_guard lock(g_mu);
        count_op(); // the power may go before the sync happened
        rc = p->real->pMethods->xSync(p->real, flags);
        if (rc == SQLITE_OK) g_files->erase(*p->path); // everything so far is on the disk
        return rc;
    }
    return p->real->pMethods->xSync(p->real, flags);
}
int pc_file_size(sqlite3_file *f, sqlite3_int64 *n) {
    auto *p = reinterpret_cast<PcFile *>(f);
    return p->real->pMethods->xFileSize(p->real, n);
}
int pc_lock(sqlite3_file *f, int l) {
    auto *p = reinterpret_cast<PcFile *>(f);
    return p->real->pMethods->xLock(p->real, l);
}
int pc_unlock(sqlite3_file *f, int l) {
    auto *p = reinterpret_cast<PcFile *>(f);
    return p->real->pMethods->xUnlock(p->real, l);
}
int pc_check_reserved(sqlite3_file *f, int *out) {
    auto *p = reinterpret_cast<PcFile *>(f);
    return p->real->pMethods->xCheckReservedLock(p->real, out);
}
int pc_file_control(sqlite3_file *f, int op, void *arg) {
    auto *p = reinterpret_cast<PcFile *>(f);
    return p->real->pMethods->xFileControl(p->real, op, arg);
}
int pc_sector_size(sqlite3_file *f) {
    auto *p = reinterpret_cast<PcFile *>(f);
    return p->real->pMethods->xSectorSize(p->real);
}
int pc_device_characteristics(sqlite3_file *f) {
    // Not SQLITE_IOCAP_POWERSAFE_OVERWRITE's opposite: a torn write here
    // changes only sectors it wrote, as the default VFS promises SQLite.
    auto *p = reinterpret_cast<PcFile *>(f);
    return p->real->pMethods->xDeviceCharacteristics(p->real);
}
// The WAL index (-shm) is not durable in SQLite's design: the first
// connection after a crash rebuilds it. Passed through.
int pc_shm_map(sqlite3_file *f, int pg, int sz, int extend, void volatile **pp) {
    auto *p = reinterpret_cast<PcFile *>(f);
    return p->real->pMethods->xShmMap(p->real, pg, sz, extend, pp);
}
int pc_shm_lock(sqlite3_file *f, int off, int n, int flags) {
    auto *p = reinterpret_cast<PcFile *>(f);
    return p->real->pMethods->xShmLock(p->real, off, n, flags);
}
void pc_shm_barrier(sqlite3_file *f) {
    auto *p = reinterpret_cast<PcFile *>(f);
    p->real->pMethods->xShmBarrier(p->real);
}
int pc_shm_unmap(sqlite3_file *f, int del) {
    auto *p = reinterpret_cast<PcFile *>(f);
    return p->real->pMethods->xShmUnmap(p->real, del);
}
// No memory-mapped I/O: every read goes through xRead (the library does
// not enable mmap; this keeps it so).
int pc_fetch(sqlite3_file *, sqlite3_int64, int, void **pp) {
    *pp = nullptr;
    return SQLITE_OK;
}
int pc_unfetch(sqlite3_file *, sqlite3_int64, void *) { return SQLITE_OK; }

int pc_open(sqlite3_vfs *, sqlite3_filename name, sqlite3_file *f, int flags, int *out_flags) {
    auto *p = reinterpret_cast<PcFile *>(f);
    p->base.pMethods = nullptr;
    p->path = nullptr;
    p->real = static_cast<sqlite3_file *>(std::calloc(1, static_cast<std::size_t>(g_real->szOsFile)));
    if (!p->real) return SQLITE_NOMEM;
    int rc = g_real->xOpen(g_real, name, p->real, flags, out_flags);
    if (rc != SQLITE_OK) {
        if (p->real->pMethods) p->real->pMethods->xClose(p->real);
        std::free(p->real);
        return rc;
    }
    p->base.pMethods = &g_methods;
    const bool durable = (flags & (SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_WAL | SQLITE_OPEN_MAIN_JOURNAL)) != 0;
    if (name && durable) {
        std::lock_guard lock(g_mu);
        p->path = new std::string(name);
        g_open->push_back(p);
    }
    return SQLITE_OK;
}

int pc_delete(sqlite3_vfs *, const char *name, int sync_dir) {
    {
        std::lock_guard lock(g_mu);
        g_files->erase(name);
    }
    return g_real->xDelete(g_real, name, sync_dir);
}
int pc_access(sqlite3_vfs *, const char *name, int flags, int *out) { return g_real->xAccess(g_real, name, flags, out); }
int pc_full_pathname(sqlite3_vfs *, const char *name, int n, char *out) {
    return g_real->xFullPathname(g_real, name, n, out);
}
void *pc_dl_open(sqlite3_vfs *, const char *name) { return g_real->xDlOpen(g_real, name); }
void pc_dl_error(sqlite3_vfs *, int n, char *msg) { g_real->xDlError(g_real, n, msg); }
void (*pc_dl_sym(sqlite3_vfs *, void *h, const char *sym))(void) { return g_real->xDlSym(g_real, h, sym); }
void pc_dl_close(sqlite3_vfs *, void *h) { g_real->xDlClose(g_real, h); }
int pc_randomness(sqlite3_vfs *, int n, char *out) { return g_real->xRandomness(g_real, n, out); }
int pc_sleep(sqlite3_vfs *, int us) { return g_real->xSleep(g_real, us); }
int pc_current_time(sqlite3_vfs *, double *t) { return g_real->xCurrentTime(g_real, t); }
int pc_last_error(sqlite3_vfs *, int n, char *msg) { return g_real->xGetLastError(g_real, n, msg); }
int pc_current_time64(sqlite3_vfs *, sqlite3_int64 *t) { return g_real->xCurrentTimeInt64(g_real, t); }

} // namespace

/// Registers the "powercut" VFS (not as the default). Call once, before any
/// store is opened, from a test program.
extern "C" void spr_test_register_powercut_vfs() {
    g_real = sqlite3_vfs_find(nullptr);
    g_files = new std::map<std::string, Unsynced>();
    g_open = new std::vector<PcFile *>();
    if (const char *e = std::getenv("SPR_POWERCUT_AT")) g_cut_at = std::atoll(e);
    if (const char *e = std::getenv("SPR_POWERCUT_SEED")) g_seed = std::strtoull(e, nullptr, 10);

    g_methods = sqlite3_io_methods{3,
                                   pc_close,
                                   pc_read,
                                   pc_write,
                                   pc_truncate,
                                   pc_sync,
                                   pc_file_size,
                                   pc_lock,
                                   pc_unlock,
                                   pc_check_reserved,
                                   pc_file_control,
                                   pc_sector_size,
                                   pc_device_characteristics,
                                   pc_shm_map,
                                   pc_shm_lock,
                                   pc_shm_barrier,
                                   pc_shm_unmap,
                                   pc_fetch,
                                   pc_unfetch};
    g_vfs = sqlite3_vfs{};
    g_vfs.iVersion = 2;
    g_vfs.szOsFile = static_cast<int>(sizeof(PcFile));
    g_vfs.mxPathname = g_real->mxPathname;
    g_vfs.zName = "powercut";
    g_vfs.xOpen = pc_open;
    g_vfs.xDelete = pc_delete;
    g_vfs.xAccess = pc_access;
    g_vfs.xFullPathname = pc_full_pathname;
    g_vfs.xDlOpen = pc_dl_open;
    g_vfs.xDlError = pc_dl_error;
    g_vfs.xDlSym = pc_dl_sym;
    g_vfs.xDlClose = pc_dl_close;
    g_vfs.xRandomness = pc_randomness;
    g_vfs.xSleep = pc_sleep;
    g_vfs.xCurrentTime = pc_current_time;
    g_vfs.xGetLastError = pc_last_error;
    g_vfs.xCurrentTimeInt64 = pc_current_time64;
    sqlite3_vfs_register(&g_vfs, 0);
}
