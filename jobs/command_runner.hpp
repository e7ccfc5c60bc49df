#pragma once

// Running the notify command: posix_spawn (no shell) in its own process
// group, stdin from /dev/null, an environment of PATH and the given
// variables only (the daemon's own, which may hold the MusicGPT key, is not
// passed on), its output read from a pipe as it comes (the first 16 KiB
// kept and logged, at most 50 lines, once it ends; the rest dropped), and
// the whole group killed at the timeout. Included only by .cpp files (Asio).

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <string>
#include <vector>

namespace stemd::jobs {

struct command_outcome {
    bool exited = false; // it ended by itself; exit_code is then its status
    int exit_code = -1;
    bool timed_out = false; // killed at the timeout
    std::string problem;    // why it could not run, or how it ended, for people
};

// `label` starts every line logged for it (e.g. "notify command msg_..."),
// `job` names the job in the log.
boost::asio::awaitable<command_outcome>
run_command(boost::asio::any_io_executor ex, const std::vector<std::string>& argv,
            const std::vector<std::string>& env, std::chrono::milliseconds timeout,
            const std::string& job, const std::string& label);

} // namespace stemd::jobs
