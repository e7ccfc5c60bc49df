#pragma once

// The errors of server/ itself: a local API request it cannot serve before
// any job is involved (a malformed target, a bad query parameter), or may
// not serve (no token, a foreign Host or Origin, a body of the wrong type).

#include "common/error.hpp"

#include <string>
#include <type_traits>

namespace stemd::server {

enum class error {
    bad_request = 1,        // a request the API cannot read (condition::invalid, answered 400)
    unauthorized,           // no bearer token, or not the right one (refused, 401)
    misdirected,            // a Host that is not this API's (refused, 421)
    cross_origin,           // sent by a web page of another origin (refused, 403)
    unsupported_media_type, // a POST body of a type the route does not take (invalid, 415)
    file_refused,           // a file a request names that stemd will not open (invalid, 422)
    part_too_large,         // a form part over its own cap (too_large, 413)
    upload_unreadable,      // the spooled upload cannot be opened again (io, 500)
    csrf_mismatch,          // a cookie request changing state without its CSRF token (refused, 403)
    body_too_large,         // a sign-in body over its small cap, or of unknown length (413)
    throttled,              // too many failed sign-ins just now (unavailable, 429)
    no_such_file,           // a job's file that the job does not have, or no longer on disk (404)
    file_not_ready,         // a job's file not downloaded yet (conflict, 409)
    file_withheld,          // a stem on disk that is not as recorded, e.g. a link (refused, 403)
};

const boost::system::error_category& error_category() noexcept;
boost::system::error_code make_error_code(error e) noexcept;

// A failure of server/ with its explanation.
stemd::error make_error(error e, std::string message);

} // namespace stemd::server

template <> struct boost::system::is_error_code_enum<stemd::server::error> : std::true_type {};
