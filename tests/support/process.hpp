#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace stemd::test {

// What a child gets besides its arguments and environment: descriptors it
// inherits as 3, 4, … in this order (socket activation), and variables set
// to its own pid after fork (LISTEN_PID, WATCHDOG_PID), which the parent
// cannot know before.
struct child_extras {
    std::vector<int> fds;
    std::vector<std::string> pid_variables;
};

// A child process (fork/exec) whose stdout+stderr go to a log file
// (truncated first), stdin from /dev/null. args[0] is the program's path (no
// PATH search); extra_env is added to (or overrides) this process's
// environment. Throws std::runtime_error when the program cannot be started
// (missing, not executable, bad working_dir).
class child_process {
public:
    child_process(std::vector<std::string> args, std::filesystem::path log_file,
                  std::map<std::string, std::string> extra_env = {},
                  std::filesystem::path working_dir = {}, child_extras extras = {});
    ~child_process(); // SIGKILL + reap if still running
    child_process(const child_process&) = delete;
    child_process& operator=(const child_process&) = delete;

    int pid() const { return pid_; }
    bool running();
    void signal(int sig);
    // Waits for exit up to `timeout`; returns the exit status (128+signal
    // when killed), or -1 on timeout. Polls every 10 ms.
    int wait(std::chrono::milliseconds timeout);
    std::string log() const;

private:
    int pid_ = -1;
    bool exited_ = false; // reaped: pid_ may belong to another process now
    int status_ = -1;     // decoded exit status once exited_
    std::filesystem::path log_file_;
};

struct run_result {
    int exit_code = -1;
    std::string out; // stdout
    std::string err; // stderr
};

// Runs a command to completion (bounded by `timeout`, then SIGKILL, and
// exit_code 128+9) capturing stdout and stderr. Same argument and start-up
// failure rules as child_process.
run_result run(const std::vector<std::string>& args,
               std::chrono::milliseconds timeout = std::chrono::seconds(30),
               std::map<std::string, std::string> extra_env = {});

// Polls `ready` every 20 ms until it returns true or `timeout` passes.
bool wait_until(const std::function<bool()>& ready, std::chrono::milliseconds timeout);

} // namespace stemd::test
