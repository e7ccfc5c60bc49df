#include "jobs/error.hpp"

namespace stemd::jobs {

const boost::system::error_category& error_category() noexcept {
    static const table_category c(
        "stemd.jobs",
        {
            {int(error::malformed_request), "the request body is not a JSON object",
             condition::invalid},
            {int(error::invalid_request), "the request does not describe a usable job",
             condition::invalid},
            {int(error::unknown_token), "no job has this webhook token", condition::not_found},
            {int(error::foreign_ids), "the delivery names another job's ids", condition::conflict},
            {int(error::still_submitting),
             "the job is still being submitted; its task_id is not recorded yet",
             condition::conflict},
            {int(error::too_many_links), "the report carries too many links", condition::invalid},
            {int(error::submission_in_flight),
             "a submission is in flight; the delivery's task may be the one it creates",
             condition::unavailable},
        });
    return c;
}

boost::system::error_code make_error_code(error e) noexcept {
    return {static_cast<int>(e), error_category()};
}

stemd::error make_error(error e, std::string message) {
    return {make_error_code(e), std::move(message)};
}

} // namespace stemd::jobs
