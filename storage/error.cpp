#include "storage/error.hpp"

namespace stemd::storage {

const boost::system::error_category& error_category() noexcept {
    static const table_category c(
        "stemd.storage",
        {
            {int(error::sqlite), "the job database reported an error", condition::io},
            {int(error::newer_schema),
             "the job database was written by a newer stemd; upgrade stemd or use another "
             "database file",
             condition::conflict},
            {int(error::not_found), "no job or file with that key", condition::not_found},
            {int(error::invalid_transition),
             "the job or file is not in a state that allows this change", condition::conflict},
            {int(error::conflict), "the task_id or conversion_id already belongs to another job",
             condition::conflict},
            {int(error::claim_lost), "the work is no longer claimed by this caller",
             condition::conflict},
            {int(error::postgres), "PostgreSQL reported an error", condition::io},
            {int(error::unavailable), "PostgreSQL cannot be reached now", condition::unavailable},
        });
    return c;
}

boost::system::error_code make_error_code(error e) noexcept {
    return {static_cast<int>(e), error_category()};
}

stemd::error make_error(error e, std::string message) {
    return {make_error_code(e), std::move(message)};
}

} // namespace stemd::storage
