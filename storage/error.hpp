#pragma once

// The errors of storage/: one code per kind of refusal, each mapped to a
// stemd::condition; the message of each stemd::error says which job or
// file, and why.

#include "common/error.hpp"

#include <string>
#include <type_traits>

namespace stemd::storage {

enum class error {
    sqlite = 1,         // the database engine failed; the message carries its text
    newer_schema,       // the database was written by a newer stemd
    not_found,          // no job or file with that key
    invalid_transition, // the job or file is not in a state that allows this change
    conflict,           // a task_id/conversion_id already belongs to another job
    claim_lost,         // the caller no longer holds the claim on that work
    postgres,           // PostgreSQL refused or failed a statement; the message carries its text
    unavailable,        // PostgreSQL cannot be reached now (reconnecting); later may work
};

const boost::system::error_category& error_category() noexcept;
boost::system::error_code make_error_code(error e) noexcept;

// A failure of storage/ with its explanation.
stemd::error make_error(error e, std::string message);

} // namespace stemd::storage

template <> struct boost::system::is_error_code_enum<stemd::storage::error> : std::true_type {};
