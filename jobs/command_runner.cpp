#include "jobs/command_runner.hpp"

#include "common/log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <span>
#include <spawn.h>
#include <string_view>
#include <sys/wait.h>
#include <unistd.h>

namespace stemd::jobs {

namespace net = boost::asio;

namespace {

constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

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

// The first output_limit bytes of what the command wrote; the rest is read
// and dropped as it comes, so a command writing gigabytes costs one buffer.
struct kept_output {
    std::string text;
    bool cut = false;
    void keep(std::string_view chunk) {
        const auto room = output_limit - text.size();
        text.append(chunk.substr(0, std::min(room, chunk.size())));
        cut = cut || chunk.size() > room;
    }
};

void log_output(const kept_output& kept, const std::string& job, const std::string& label) {
    const std::string& text = kept.text;
    int lines = 0;
    std::size_t at = 0;
    while (at < text.size() && lines < line_limit) {
        const auto end = std::min(text.find('\n', at), text.size());
        log_info(job, label + " said: " + text.substr(at, end - at));
        at = end + 1;
        ++lines;
    }
    if (kept.cut || at < text.size())
        log_info(job, label + ": the rest of its output is not logged");
}

// What is left in the pipe once the command has ended, without waiting: a
// process it left behind may hold the pipe open, and a pipe holds at most
// a few pages, so a bounded number of reads empties it.
void drain(net::posix::stream_descriptor& pipe, std::span<char> buffer, kept_output& kept) {
    boost::system::error_code ec;
    pipe.non_blocking(true, ec);
    for (int i = 0; i < 64 && !ec; ++i) {
        const auto n = pipe.read_some(net::buffer(buffer.data(), buffer.size()), ec);
        kept.keep(std::string_view(buffer.data(), n));
    }
}

// Reads the output as it comes while waiting for the command to end (polled
// rather than waited for with SIGCHLD: the daemon has no handler for it and
// other parts may start children of their own); kills its whole group at
// the deadline. Whether it timed out.
net::awaitable<bool> wait_for_exit(net::posix::stream_descriptor& pipe, pid_t pid, int& status,
                                   std::chrono::steady_clock::time_point deadline,
                                   kept_output& kept) {
    using namespace net::experimental::awaitable_operators;
    net::steady_timer timer(pipe.get_executor());
    std::vector<char> buffer(64 * 1024);
    auto step = std::chrono::milliseconds(10);
    bool open = true;
    while (::waitpid(pid, &status, WNOHANG) == 0) {
        const auto now = std::chrono::steady_clock::now();
        if (now >= deadline) {
            ::kill(-pid, SIGKILL);
            ::waitpid(pid, &status, 0);
            drain(pipe, buffer, kept);
            co_return true;
        }
        timer.expires_after(std::min<std::chrono::steady_clock::duration>(step, deadline - now));
        if (!open) {
            co_await timer.async_wait(use_tuple);
        } else {
            auto r = co_await (pipe.async_read_some(net::buffer(buffer), use_tuple) ||
                               timer.async_wait(use_tuple));
            if (r.index() == 0) {
                const auto [ec, n] = std::get<0>(r);
                kept.keep(std::string_view(buffer.data(), n));
                open = !ec;
                continue;
            }
        }
        step = std::min(step * 2, std::chrono::milliseconds(200));
    }
    drain(pipe, buffer, kept);
    co_return false;
}

} // namespace

net::awaitable<command_outcome> run_command(net::any_io_executor ex,
                                            const std::vector<std::string>& argv,
                                            const std::vector<std::string>& env,
                                            std::chrono::milliseconds timeout,
                                            const std::string& job, const std::string& label) {
    command_outcome out;
    int ends[2];
    if (::pipe2(ends, O_CLOEXEC) != 0) {
        out.problem = std::string("cannot read its output: ") + std::strerror(errno);
        co_return out;
    }
    net::posix::stream_descriptor pipe(ex, ends[0]);
    spawn_setup setup;
    prepare(setup, ends[1]);
    std::vector<std::string> args = argv;
    std::vector<std::string> vars = env;
    const char* path = std::getenv("PATH");
    vars.push_back(std::string("PATH=") + (path ? path : "/usr/local/bin:/usr/bin:/bin"));
    auto arg_ptrs = pointers(args);
    auto env_ptrs = pointers(vars);
    pid_t pid = -1;
    const int rc = ::posix_spawnp(&pid, args.front().c_str(), &setup.actions, &setup.attr,
                                  arg_ptrs.data(), env_ptrs.data());
    ::close(ends[1]); // the child has its copies; the pipe ends when they close
    if (rc != 0) {
        out.problem = "cannot start " + args.front() + ": " + std::strerror(rc);
        co_return out;
    }
    kept_output kept;
    int status = 0;
    out.timed_out =
        co_await wait_for_exit(pipe, pid, status, std::chrono::steady_clock::now() + timeout, kept);
    log_output(kept, job, label);
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
