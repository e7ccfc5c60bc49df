#pragma once

#include <boost/system/error_code.hpp>

#include <type_traits>

namespace stemd::storage {

enum class error {
    sqlite = 1,         // SQLite reported an error; the log line carries its text
    newer_schema,       // the database was written by a newer stemd
    not_found,          // no job or file with that key
    invalid_transition, // the job is not in a state that allows this change
    conflict,           // a task_id/conversion_id already belongs to another job
};

const boost::system::error_category& error_category() noexcept;
boost::system::error_code make_error_code(error e) noexcept;

} // namespace stemd::storage

template <>
struct boost::system::is_error_code_enum<stemd::storage::error> : std::true_type {};
