#include "tests/support/process.hpp"

#include "tests/support/fd.hpp"
#include "tests/support/files.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <thread>
#include <utility>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace stemd::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

int open_or_throw(const char* path, int flags, const std::string& what) {
    int fd = ::open(path, flags | O_CLOEXEC, 0644);
    if (fd < 0)
        throw_errno(what + " (" + path + ")");
    return fd;
}

// argv and envp for execve, built before fork() because the child of a
// multi-threaded parent may only make async-signal-safe calls.
class exec_image {
public:
    exec_image(const std::vector<std::string>& args,
               const std::map<std::string, std::string>& extra_env,
               const std::vector<std::string>& pid_variables = {})
        : args_(args) {
        if (args_.empty())
            throw std::invalid_argument("child process: empty argument list");
        for (char** e = environ; *e != nullptr; ++e) {
            std::string entry = *e;
            std::string name = entry.substr(0, entry.find('='));
            if (!extra_env.contains(name))
                env_.push_back(std::move(entry));
        }
        for (const auto& [name, value] : extra_env)
            env_.push_back(name + "=" + value);
        // Room for the digits, filled in by the child (set_pid).
        for (const auto& name : pid_variables)
            env_.push_back(name + "=" + std::string(pid_digits, '\0'));
        pid_slots_ = pid_variables.size();
        for (auto& a : args_)
            argv_.push_back(a.data());
        argv_.push_back(nullptr);
        for (auto& e : env_)
            envp_.push_back(e.data());
        envp_.push_back(nullptr);
    }
    exec_image(const exec_image&) = delete; // argv_ and envp_ point into this object
    exec_image& operator=(const exec_image&) = delete;

    const char* path() const { return argv_[0]; }
    // In the child (async-signal-safe): writes its pid into the variables
    // made for it, which are the last entries.
    void set_pid(long pid) const {
        char digits[pid_digits];
        int n = 0;
        do {
            digits[n++] = static_cast<char>('0' + pid % 10);
            pid /= 10;
        } while (pid > 0 && n < pid_digits - 1);
        for (std::size_t i = envp_.size() - 1 - pid_slots_; i + 1 < envp_.size(); ++i) {
            char* value = std::strchr(envp_[i], '=') + 1;
            for (int k = 0; k < n; ++k)
                value[k] = digits[n - 1 - k];
            value[n] = '\0';
        }
    }
    char* const* argv() const { return argv_.data(); }
    char* const* envp() const { return envp_.data(); }

private:
    std::vector<std::string> args_;
    std::vector<std::string> env_;
    std::vector<char*> argv_;
    std::vector<char*> envp_;
    static constexpr int pid_digits = 20;
    std::size_t pid_slots_ = 0;
};

// The child's standard streams and working directory.
struct child_setup {
    int stdin_fd = -1;
    int stdout_fd = -1;
    int stderr_fd = -1;
    const char* working_dir = nullptr;     // null: inherit
    const std::vector<int>* fds = nullptr; // become 3, 4, …
};

// Moves the inherited descriptors to 3, 4, … in the child: first above the
// targets (so none is overwritten before it is moved), then down; dup2
// leaves the copies open across exec.
bool place_fds(const std::vector<int>& fds) {
    const int first = 3;
    const int count = static_cast<int>(fds.size());
    int high[16];
    if (count > 16)
        return false;
    for (int i = 0; i < count; ++i)
        if ((high[i] = ::fcntl(fds[i], F_DUPFD_CLOEXEC, first + count)) < 0)
            return false;
    for (int i = 0; i < count; ++i)
        if (::dup2(high[i], first + i) < 0)
            return false;
    return true;
}

[[noreturn]] void exec_child(const exec_image& image, const child_setup& setup, int report_fd) {
    // Only async-signal-safe calls from here on. A failure is reported to the
    // parent through report_fd (close-on-exec, so a successful exec closes it).
    if (::dup2(setup.stdin_fd, STDIN_FILENO) >= 0 && ::dup2(setup.stdout_fd, STDOUT_FILENO) >= 0 &&
        ::dup2(setup.stderr_fd, STDERR_FILENO) >= 0 &&
        (setup.working_dir == nullptr || ::chdir(setup.working_dir) == 0) &&
        (setup.fds == nullptr || place_fds(*setup.fds))) {
        image.set_pid(::getpid());
        ::execve(image.path(), image.argv(), image.envp());
    }
    int err = errno;
    (void)!::write(report_fd, &err, sizeof err);
    ::_exit(127);
}

// Forks and execs; throws (after reaping the child) when exec failed, so a
// typo in a test's command line is reported as such rather than as exit 127.
int spawn(const exec_image& image, const child_setup& setup) {
    int report[2];
    if (::pipe2(report, O_CLOEXEC) != 0)
        throw_errno("child process: pipe2");
    fd_guard report_read(report[0]);
    fd_guard report_write(report[1]);

    pid_t pid = ::fork();
    if (pid < 0)
        throw_errno("child process: fork");
    if (pid == 0)
        exec_child(image, setup, report_write.get());

    report_write.reset();
    int child_errno = 0;
    ssize_t n;
    do {
        n = ::read(report_read.get(), &child_errno, sizeof child_errno);
    } while (n < 0 && errno == EINTR);
    if (n > 0) {
        ::waitpid(pid, nullptr, 0);
        throw std::runtime_error(
            std::string("child process: cannot start ") + image.path() +
            (setup.working_dir ? std::string(" in ") + setup.working_dir : std::string()) + ": " +
            std::strerror(child_errno));
    }
    return pid;
}

// Exit code as a shell reports it: the status, or 128 + the killing signal.
int decode_status(int status) {
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return -1;
}

// Reaps `pid` if it has exited; returns the decoded exit code.
std::optional<int> try_reap(int pid) {
    int status = 0;
    pid_t r;
    do {
        r = ::waitpid(pid, &status, WNOHANG);
    } while (r < 0 && errno == EINTR);
    if (r == pid)
        return decode_status(status);
    if (r < 0) // not our child any more (reaped elsewhere): nothing to wait for
        return -1;
    return std::nullopt;
}

void kill_and_reap(int pid) {
    ::kill(pid, SIGKILL);
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
}

} // namespace

// ---------------------------------------------------------------- child_process

child_process::child_process(std::vector<std::string> args, std::filesystem::path log_file,
                             std::map<std::string, std::string> extra_env,
                             std::filesystem::path working_dir, child_extras extras)
    : log_file_(std::move(log_file)) {
    exec_image image(args, extra_env, extras.pid_variables);
    fd_guard null_in(open_or_throw("/dev/null", O_RDONLY, "child process: open"));
    fd_guard log(open_or_throw(log_file_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND,
                               "child process: open log file"));
    child_setup setup{null_in.get(), log.get(), log.get(),
                      working_dir.empty() ? nullptr : working_dir.c_str(), &extras.fds};
    pid_ = spawn(image, setup);
}

child_process::~child_process() {
    if (running())
        kill_and_reap(pid_);
}

bool child_process::running() {
    if (exited_)
        return false;
    if (auto code = try_reap(pid_)) {
        exited_ = true;
        status_ = *code;
        return false;
    }
    return true;
}

void child_process::signal(int sig) {
    // Never signal a reaped pid: the number may already belong to someone else.
    if (running())
        ::kill(pid_, sig);
}

int child_process::wait(std::chrono::milliseconds timeout) {
    auto deadline = steady_clock::now() + timeout;
    while (running()) {
        if (steady_clock::now() >= deadline)
            return -1;
        std::this_thread::sleep_for(milliseconds(10));
    }
    return status_;
}

std::string child_process::log() const {
    return read_file(log_file_);
}

// ------------------------------------------------------------------------- run

namespace {

// Reads what is available from `fd` into `out`; returns false at EOF or error.
bool drain(int fd, std::string& out) {
    char buf[4096];
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
        out.append(buf, static_cast<std::size_t>(n));
        return true;
    }
    return n < 0 && (errno == EINTR || errno == EAGAIN);
}

} // namespace

run_result run(const std::vector<std::string>& args, std::chrono::milliseconds timeout,
               std::map<std::string, std::string> extra_env) {
    exec_image image(args, extra_env);
    int out_pipe[2];
    int err_pipe[2];
    if (::pipe2(out_pipe, O_CLOEXEC) != 0)
        throw_errno("run: pipe2");
    fd_guard out_read(out_pipe[0]);
    fd_guard out_write(out_pipe[1]);
    if (::pipe2(err_pipe, O_CLOEXEC) != 0)
        throw_errno("run: pipe2");
    fd_guard err_read(err_pipe[0]);
    fd_guard err_write(err_pipe[1]);
    fd_guard null_in(open_or_throw("/dev/null", O_RDONLY, "run: open"));

    int pid = spawn(image, {null_in.get(), out_write.get(), err_write.get(), nullptr});
    out_write.reset();
    err_write.reset();

    run_result result;
    auto deadline = steady_clock::now() + timeout;
    auto remaining_ms = [&] {
        auto left = std::chrono::duration_cast<milliseconds>(deadline - steady_clock::now());
        return static_cast<int>(std::max<milliseconds::rep>(left.count(), 0));
    };

    // Read both pipes together so a child filling one of them never blocks.
    bool out_open = true;
    bool err_open = true;
    while ((out_open || err_open) && remaining_ms() > 0) {
        pollfd fds[2] = {{out_open ? out_read.get() : -1, POLLIN, 0},
                         {err_open ? err_read.get() : -1, POLLIN, 0}};
        int ready = ::poll(fds, 2, remaining_ms());
        if (ready < 0 && errno != EINTR)
            break;
        if (fds[0].revents != 0)
            out_open = drain(out_read.get(), result.out);
        if (fds[1].revents != 0)
            err_open = drain(err_read.get(), result.err);
    }

    // Both pipes closed usually means the child is exiting; give it the rest
    // of the time, then kill it.
    while (true) {
        if (auto code = try_reap(pid)) {
            result.exit_code = *code;
            return result;
        }
        if (remaining_ms() <= 0)
            break;
        std::this_thread::sleep_for(milliseconds(std::min(10, remaining_ms())));
    }
    kill_and_reap(pid);
    result.exit_code = 128 + SIGKILL;
    return result;
}

// ------------------------------------------------------------------ wait_until

bool wait_until(const std::function<bool()>& ready, std::chrono::milliseconds timeout) {
    auto deadline = steady_clock::now() + timeout;
    while (true) {
        if (ready())
            return true;
        if (steady_clock::now() >= deadline)
            return false;
        std::this_thread::sleep_for(milliseconds(20));
    }
}

} // namespace stemd::test
