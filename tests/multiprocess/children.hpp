// Waiting for child processes in the multi-process tests: with a deadline,
// so a hung child fails its test (killed and reported) instead of hanging
// the suite.
#pragma once

#include <sys/types.h>
#include <sys/wait.h>

#include <chrono>
#include <csignal>
#include <thread>

namespace spr_test {

struct ChildExit {
    int status = -1;     // waitpid() status when it ended
    bool hung = false;   // killed at the deadline
    double seconds = 0;  // from `started` to its end
    // Its exit code; 128 + the signal when killed by one.
    int code() const {
        if (WIFEXITED(status)) return WEXITSTATUS(status);
        return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    }
};

// Waits for `pid`, started at `started`; still running `deadline` after it,
// the child is killed with SIGKILL and reported hung.
inline ChildExit wait_child(pid_t pid, std::chrono::steady_clock::time_point started,
                            std::chrono::steady_clock::duration deadline) {
    ChildExit e;
    for (;;) {
        int status = 0;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            e.status = status;
            e.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
            return e;
        }
        if (std::chrono::steady_clock::now() - started > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            e.status = status;
            e.hung = true;
            return e;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

} // namespace spr_test
