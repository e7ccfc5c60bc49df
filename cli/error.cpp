#include "cli/error.hpp"

#include <utility>

namespace stemd::cli {

const boost::system::error_category& error_category() noexcept {
    static const table_category c(
        "stemd.cli",
        {
            {int(error::usage), "wrong command line", condition::invalid},
            {int(error::unreachable), "the stemd API cannot be reached", condition::unavailable},
            {int(error::bad_answer), "the stemd API sent an unusable answer",
             condition::unavailable},
            {int(error::refused), "the stemd API refused", condition::refused},
            {int(error::no_job), "no such job", condition::not_found},
            {int(error::job_failed), "the job failed", condition::refused},
            {int(error::timed_out), "the job is not final yet", condition::timeout},
            {int(error::no_file), "no such audio file", condition::not_found},
            {int(error::config), "the configuration cannot be read", condition::io},
            {int(error::tls), "TLS cannot be set up", condition::unavailable},
            {int(error::no_token), "the API token cannot be read", condition::io},
        });
    return c;
}

boost::system::error_code make_error_code(error e) noexcept {
    return {static_cast<int>(e), error_category()};
}

stemd::error usage_error(std::string message) {
    return {error::usage, std::move(message)};
}

stemd::error failure(error code, std::string message) {
    return {code, std::move(message)};
}

int exit_code(const stemd::error& e) noexcept {
    // By code, not condition: a configuration value that is invalid is a
    // failure (1), not a usage error (2).
    return e.code == error::usage ? exit_usage : exit_failure;
}

} // namespace stemd::cli
