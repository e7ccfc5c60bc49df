#pragma once

// The errors of server/ itself: a local API request it cannot serve before
// any job is involved (a malformed target, a bad query parameter).

#include "common/error.hpp"

#include <string>
#include <type_traits>

namespace stemd::server {

enum class error {
    bad_request = 1, // a request the API cannot read (condition::invalid, answered 400)
    file_refused,    // a file a request names that stemd will not open (condition::invalid)
};

const boost::system::error_category& error_category() noexcept;
boost::system::error_code make_error_code(error e) noexcept;

// A failure of server/ with its explanation.
stemd::error make_error(error e, std::string message);

} // namespace stemd::server

template <> struct boost::system::is_error_code_enum<stemd::server::error> : std::true_type {};
