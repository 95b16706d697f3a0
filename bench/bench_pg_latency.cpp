// PostgreSQL at a network distance (docs/benchmarks.md, "PostgreSQL 1 ms
// away"): the store's operations through a TCP proxy that holds every chunk
// of bytes for half the round-trip time in each direction, against floors
// measured through the same proxy in the same run:
//
//   rtt    SELECT 1 on a libpq connection (one round trip);
//   tx     BEGIN; INSERT of one row; COMMIT (what the issue calls the write floor).
//
// The server is a local cluster reached by its unix socket (scripts/pg-server.sh);
// each run works in a schema of its own, dropped at the end.
//
//   spr_bench_pg_latency --socket-dir /tmp/pg --port 5433 [--rtt-us 1000] [--samples 200]
#include <spinner_rollback/spinner_rollback.hpp>

#include "bench_state.hpp"

#include <libpq-fe.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace sr = spinner_rollback;
using Clock = std::chrono::steady_clock;

namespace {

const char *const kKey = "6b1f0c9e2d4a7b3c5e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9011223344ff";

// ---- the delaying proxy ------------------------------------------------------

// Bytes read from `from` are written to `to` `delay` after they arrived
// (a reader stamps them, a writer releases them in order).
void pump(int from, int to, std::chrono::microseconds delay) {
    struct Chunk {
        Clock::time_point due;
        std::string bytes; // empty: end of stream
    };
    std::mutex mu;
    std::condition_variable cv;
    std::deque<Chunk> q;
    std::thread writer([&] {
        for (;;) {
            Chunk c;
            {
                std::unique_lock lock(mu);
                cv.wait(lock, [&] { return !q.empty(); });
                c = std::move(q.front());
                q.pop_front();
            }
            if (c.bytes.empty()) break;
            // Sleep, then spin the last stretch: a sleeping thread wakes late
            // (tens of microseconds), which would add to every round trip.
            std::this_thread::sleep_until(c.due - std::chrono::microseconds(150));
            while (Clock::now() < c.due) {
            }
            for (std::size_t off = 0; off < c.bytes.size();) {
                const ssize_t n = ::send(to, c.bytes.data() + off, c.bytes.size() - off, MSG_NOSIGNAL);
                if (n <= 0) return;
                off += static_cast<std::size_t>(n);
            }
        }
        ::shutdown(to, SHUT_WR);
    });
    char buf[65536];
    for (;;) {
        const ssize_t n = ::recv(from, buf, sizeof buf, 0);
        std::lock_guard lock(mu);
        if (n <= 0) {
            q.push_back(Chunk{Clock::now(), {}});
            cv.notify_one();
            break;
        }
        q.push_back(Chunk{Clock::now() + delay, std::string(buf, static_cast<std::size_t>(n))});
        cv.notify_one();
    }
    writer.join();
}

// Listens on 127.0.0.1 (an ephemeral port) and forwards each connection to
// the server's unix socket, delaying both directions by rtt / 2.
class DelayProxy {
public:
    DelayProxy(std::string unix_path, std::chrono::microseconds rtt)
        : unix_path_(std::move(unix_path)), half_(rtt / 2) {
        listen_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        if (listen_ < 0 || ::bind(listen_, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0 ||
            ::listen(listen_, 64) != 0 || ::getsockname(listen_, reinterpret_cast<sockaddr *>(&a), &len) != 0)
            throw std::runtime_error("proxy: cannot listen on 127.0.0.1");
        port_ = ntohs(a.sin_port);
        std::thread([this] { accept_loop(); }).detach();
    }
    int port() const { return port_; }

private:
    void accept_loop() {
        for (;;) {
            const int client = ::accept(listen_, nullptr, nullptr);
            if (client < 0) return;
            const int one = 1;
            ::setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            const int server = ::socket(AF_UNIX, SOCK_STREAM, 0);
            sockaddr_un u{};
            u.sun_family = AF_UNIX;
            std::snprintf(u.sun_path, sizeof u.sun_path, "%s", unix_path_.c_str());
            if (server < 0 || ::connect(server, reinterpret_cast<sockaddr *>(&u), sizeof u) != 0) {
                ::close(client);
                continue;
            }
            std::thread([=, this] {
                std::thread back([=, this] { pump(server, client, half_); });
                pump(client, server, half_);
                back.join();
                ::close(client);
                ::close(server);
            }).detach();
        }
    }

    std::string unix_path_;
    std::chrono::microseconds half_;
    int listen_ = -1;
    int port_ = 0;
};

// ---- measuring ------------------------------------------------------------------

struct Stats {
    double mean = 0, p50 = 0, p99 = 0; // microseconds
};

Stats stats_of(std::vector<double> us) {
    Stats s;
    for (double v : us) s.mean += v;
    s.mean /= static_cast<double>(us.size());
    std::sort(us.begin(), us.end());
    s.p50 = us[us.size() / 2];
    s.p99 = us[std::min(us.size() - 1, us.size() * 99 / 100)];
    return s;
}

double micros_since(Clock::time_point t0) {
    return std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
}

// `op(i)` timed `samples` times; `setup(i)` runs before each, untimed.
Stats measure(int samples, const std::function<void(int)> &op, const std::function<void(int)> &setup = {}) {
    std::vector<double> us;
    us.reserve(static_cast<std::size_t>(samples));
    for (int i = 0; i < samples; ++i) {
        if (setup) setup(i);
        const auto t0 = Clock::now();
        op(i);
        us.push_back(micros_since(t0));
    }
    return stats_of(std::move(us));
}

PGconn *connect(const std::string &conninfo) {
    PGconn *c = PQconnectdb(conninfo.c_str());
    if (PQstatus(c) != CONNECTION_OK) throw std::runtime_error(std::string("libpq: ") + PQerrorMessage(c));
    return c;
}

void exec(PGconn *c, const char *sql) {
    PGresult *r = PQexec(c, sql);
    const auto st = PQresultStatus(r);
    PQclear(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        throw std::runtime_error(std::string("libpq: ") + sql + ": " + PQerrorMessage(c));
}

struct Args {
    std::string socket_dir = "/tmp/pg";
    int port = 5433;
    int rtt_us = 1000;
    int samples = 200;
};

Args parse(int argc, char **argv) {
    Args a;
    for (int i = 1; i < argc; ++i) {
        std::string s = argv[i];
        auto value = [&](const char *name) -> const char * {
            std::string p = std::string(name) + "=";
            if (s.rfind(p, 0) == 0) return argv[i] + p.size();
            if (s == name && i + 1 < argc) return argv[++i];
            return nullptr;
        };
        if (const char *v = value("--socket-dir")) a.socket_dir = v;
        else if (const char *v = value("--port")) a.port = std::atoi(v);
        else if (const char *v = value("--rtt-us")) a.rtt_us = std::atoi(v);
        else if (const char *v = value("--samples")) a.samples = std::atoi(v);
        else {
            std::fprintf(stderr,
                         "usage: spr_bench_pg_latency [--socket-dir DIR] [--port N] [--rtt-us US] [--samples N]\n");
            std::exit(s == "--help" ? 0 : 2);
        }
    }
    return a;
}

} // namespace

int main(int argc, char **argv) try {
    const Args a = parse(argc, argv);
    const std::string schema = "spr_latency_" + std::to_string(::getpid());
    const std::string local = "host=" + a.socket_dir + " port=" + std::to_string(a.port) + " user=postgres dbname=postgres";
    PGconn *admin = connect(local);
    exec(admin, ("CREATE SCHEMA " + schema).c_str());
    struct Drop {
        PGconn *c;
        std::string sql;
        ~Drop() {
            PQclear(PQexec(c, sql.c_str()));
            PQfinish(c);
        }
    } drop{admin, "SET client_min_messages = warning; DROP SCHEMA " + schema + " CASCADE"};

    DelayProxy proxy(a.socket_dir + "/.s.PGSQL." + std::to_string(a.port), std::chrono::microseconds(a.rtt_us));
    const std::string far = "host=127.0.0.1 port=" + std::to_string(proxy.port()) + " user=postgres dbname=postgres";
    const std::string uri = "postgresql://postgres@127.0.0.1:" + std::to_string(proxy.port()) +
                            "/postgres?options=-csearch_path%3D" + schema;

    // Floors, on a libpq connection through the same proxy.
    PGconn *raw = connect(far + " options=-csearch_path=" + schema);
    exec(raw, "CREATE TABLE floor(id BIGSERIAL PRIMARY KEY, v TEXT NOT NULL)");
    std::map<std::string, Stats> r;
    r["floor: one round trip (SELECT 1)"] = measure(a.samples, [&](int) { exec(raw, "SELECT 1"); });
    r["floor: BEGIN; INSERT; COMMIT"] = measure(a.samples, [&](int) {
        exec(raw, "BEGIN");
        exec(raw, "INSERT INTO floor(v) VALUES('a row of about the size of a version row')");
        exec(raw, "COMMIT");
    });

    sr::StoreOptions o;
    o.key = kKey;
    auto store = sr::VersionStore::open(uri, o);
    sr::RollbackPlanner planner(*store);
    const long limit = 20; // retention removes a version per record once 20 exist
    store->record("shop", spr_bench::make_state("r0", limit));
    int rev = 0;
    // Warm-up: statements are prepared once per connection.
    for (int i = 0; i < 30; ++i) store->record("shop", spr_bench::make_state("w" + std::to_string(i), limit));
    r["record, new version"] =
        measure(a.samples, [&](int) { store->record("shop", spr_bench::make_state("r" + std::to_string(++rev), limit)); });
    const std::string same = spr_bench::make_state("r" + std::to_string(rev), limit);
    r["record, unchanged (reconcile)"] = measure(a.samples, [&](int) { store->record("shop", same); });
    const auto current = store->spinner_info("shop").current_version;
    r["versions, page of 20"] = measure(a.samples, [&](int) { store->versions("shop", 0, 20); });
    r["get"] = measure(a.samples, [&](int i) { store->get("shop", current - (i % 10)); });
    r["diff"] = measure(a.samples, [&](int i) { store->diff("shop", current - 1 - (i % 9), current); });
    r["plan"] = measure(a.samples, [&](int i) { planner.plan("shop", current - 1 - (i % 9)); });
    // A commit needs a plan made against the current version: plan (untimed), then commit.
    sr::Plan p;
    r["commit (of a fresh plan)"] = measure(
        std::max(20, a.samples / 4), [&](int) { planner.commit(p); },
        [&](int) { p = planner.plan("shop", store->spinner_info("shop").current_version - 2); });
    PQfinish(raw);

    const double rt = r["floor: one round trip (SELECT 1)"].p50;
    std::printf("spinner_rollback %s (libpq %d), %d us added round trip (proxy), %d samples\n",
                sr::version_string(), PQlibVersion(), a.rtt_us, a.samples);
    std::printf("%-36s %10s %10s %10s %14s\n", "operation", "mean us", "p50 us", "p99 us", "p50 / 1 RT");
    for (const auto &[name, s] : r)
        std::printf("%-36s %10.0f %10.0f %10.0f %13.2fx\n", name.c_str(), s.mean, s.p50, s.p99, s.p50 / rt);
    return 0;
} catch (const std::exception &e) {
    std::fprintf(stderr, "spr_bench_pg_latency: %s\n", e.what());
    return 1;
}
