#include "jobs/command_runner.hpp"

#include "common/log.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

namespace stemd::jobs {

namespace net = boost::asio;

namespace {

// What of the command's output is logged: enough to see why it failed,
// bounded so a chatty command cannot flood the journal.
constexpr std::size_t output_limit = 16 * 1024;
constexpr int line_limit = 50;

struct spawn_setup {
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    spawn_setup() {
        posix_spawn_file_actions_init(&actions);
        posix_spawnattr_init(&attr);
    }
    ~spawn_setup() {
        posix_spawn_file_actions_destroy(&actions);
        posix_spawnattr_destroy(&attr);
    }
    spawn_setup(const spawn_setup&) = delete;
    spawn_setup& operator=(const spawn_setup&) = delete;
};

// The child starts with default signal handling (the daemon ignores SIGHUP
// and SIGXFSZ, which exec would otherwise pass on), nothing blocked, in a
// new process group so the timeout can end everything it started.
void prepare(spawn_setup& s, int output_fd) {
    posix_spawn_file_actions_addopen(&s.actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&s.actions, output_fd, 1);
    posix_spawn_file_actions_adddup2(&s.actions, output_fd, 2);
    sigset_t defaults;
    sigemptyset(&defaults);
    for (int sig : {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGPIPE, SIGXFSZ, SIGCHLD})
        sigaddset(&defaults, sig);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigdefault(&s.attr, &defaults);
    posix_spawnattr_setsigmask(&s.attr, &none);
    posix_spawnattr_setpgroup(&s.attr, 0);
    posix_spawnattr_setflags(&s.attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF |
                                          POSIX_SPAWN_SETSIGMASK);
}

std::vector<char*> pointers(std::vector<std::string>& items) {
    std::vector<char*> out;
    for (auto& i : items)
        out.push_back(i.data());
    out.push_back(nullptr);
    return out;
}

void log_output(int fd, const std::string& job, const std::string& label) {
    std::string text(output_limit, '\0');
    const ssize_t n = ::pread(fd, text.data(), text.size(), 0);
    text.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    const bool cut = ::lseek(fd, 0, SEEK_END) > static_cast<off_t>(text.size());
    int lines = 0;
    std::size_t at = 0;
    while (at < text.size() && lines < line_limit) {
        const auto end = std::min(text.find('\n', at), text.size());
        log_info(job, label + " said: " + text.substr(at, end - at));
        at = end + 1;
        ++lines;
    }
    if (cut || at < text.size())
        log_info(job, label + ": the rest of its output is not logged");
}

} // namespace

net::awaitable<command_outcome> run_command(net::any_io_executor ex,
                                            const std::vector<std::string>& argv,
                                            const std::vector<std::string>& env,
                                            std::chrono::milliseconds timeout,
                                            const std::string& job, const std::string& label) {
    command_outcome out;
    const int output = ::memfd_create("stemd-notify-output", MFD_CLOEXEC);
    if (output < 0) {
        out.problem = std::string("cannot keep its output: ") + std::strerror(errno);
        co_return out;
    }
    spawn_setup setup;
    prepare(setup, output);
    std::vector<std::string> args = argv;
    std::vector<std::string> vars = env;
    const char* path = std::getenv("PATH");
    vars.push_back(std::string("PATH=") + (path ? path : "/usr/local/bin:/usr/bin:/bin"));
    auto arg_ptrs = pointers(args);
    auto env_ptrs = pointers(vars);
    pid_t pid = -1;
    const int rc = ::posix_spawnp(&pid, args.front().c_str(), &setup.actions, &setup.attr,
                                  arg_ptrs.data(), env_ptrs.data());
    if (rc != 0) {
        ::close(output);
        out.problem = "cannot start " + args.front() + ": " + std::strerror(rc);
        co_return out;
    }
    // Polled rather than waited for with SIGCHLD: the daemon has no handler
    // for it and other parts may start children of their own.
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    net::steady_timer timer(ex);
    auto step = std::chrono::milliseconds(10);
    int status = 0;
    while (::waitpid(pid, &status, WNOHANG) == 0) {
        if (std::chrono::steady_clock::now() >= deadline) {
            ::kill(-pid, SIGKILL);
            ::waitpid(pid, &status, 0);
            out.timed_out = true;
            break;
        }
        timer.expires_after(step);
        co_await timer.async_wait(net::use_awaitable);
        step = std::min(step * 2, std::chrono::milliseconds(200));
    }
    log_output(output, job, label);
    ::close(output);
    if (out.timed_out) {
        out.problem = "killed after " + std::to_string(timeout.count() / 1000) +
                      " s (notify.command_timeout_seconds)";
    } else if (WIFEXITED(status)) {
        out.exited = true;
        out.exit_code = WEXITSTATUS(status);
        out.problem = "exited with status " + std::to_string(out.exit_code);
    } else if (WIFSIGNALED(status)) {
        out.problem = "ended by signal " + std::to_string(WTERMSIG(status));
    }
    co_return out;
}

} // namespace stemd::jobs
