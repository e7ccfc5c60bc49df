#pragma once

// The errors of jobs/: a request the local API cannot accept, a webhook
// token or delivery that names no job of ours. Each maps to a
// stemd::condition; the server turns them into HTTP statuses.

#include "common/error.hpp"

#include <string>
#include <type_traits>

namespace stemd::jobs {

enum class error {
    malformed_request = 1, // the body is not a JSON object (condition::invalid)
    invalid_request,       // a JSON object that does not describe a usable job (condition::invalid)
    unknown_token,         // no job has this webhook token (condition::not_found)
    foreign_ids, // a delivery names another job's task_id or conversion_id (condition::conflict)
    still_submitting,     // a delivery for a job whose submit answer is not recorded yet (conflict)
    too_many_links,       // a report carries more links than a stem separation can (invalid)
    submission_in_flight, // a shared-secret delivery for an unknown task while a submission
                          // is unanswered (condition::unavailable: send it again)
};

const boost::system::error_category& error_category() noexcept;
boost::system::error_code make_error_code(error e) noexcept;

// A failure of jobs/ with its explanation.
stemd::error make_error(error e, std::string message);

} // namespace stemd::jobs

template <> struct boost::system::is_error_code_enum<stemd::jobs::error> : std::true_type {};
