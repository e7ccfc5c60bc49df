#pragma once

// How a command of the `stemd` binary fails, and which exit code that gives:
// 0 success, 1 failure, 2 usage error.

#include "common/error.hpp"

#include <boost/system/error_code.hpp>

#include <string>
#include <type_traits>

namespace stemd::cli {

enum class error {
    usage = 1,   // the command line itself is wrong: exit code 2
    unreachable, // no connection to the stemd API
    bad_answer,  // the API answered something that is not its JSON
    refused,     // the API answered with a non-2xx status
    no_job,      // the API knows no such job
    job_failed,  // the job waited for ended as failed
    timed_out,   // the job waited for was not final in time
    no_file,     // --file names no regular file
    config,      // the configuration could not be read
    tls,         // the TLS client context could not be made
    no_token,    // the API token cannot be read
};

const boost::system::error_category& error_category() noexcept;
boost::system::error_code make_error_code(error e) noexcept;

} // namespace stemd::cli

template <> struct boost::system::is_error_code_enum<stemd::cli::error> : std::true_type {};

namespace stemd::cli {

inline constexpr int exit_ok = 0;
inline constexpr int exit_failure = 1;
inline constexpr int exit_usage = 2;

stemd::error usage_error(std::string message);
stemd::error failure(error code, std::string message);

// 2 for a usage error, 1 for every other failure (whichever library it
// comes from).
int exit_code(const stemd::error& e) noexcept;

} // namespace stemd::cli
