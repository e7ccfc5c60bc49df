#pragma once

// The simulator's errors are the refusals MusicGPT answers with: each code
// carries its HTTP status and MusicGPT's error_code, so a failure found
// anywhere in the simulator becomes the matching error body (api_reply.hpp).

#include "common/error.hpp"

#include <boost/system/error_code.hpp>

#include <string>

#include <string_view>
#include <type_traits>

namespace stemd::simulator {

enum class error {
    bad_request = 1,       // 400 BAD_REQUEST: the request or an argument is malformed
    unauthorized,          // 401 UNAUTHORIZED_ACCESS: missing or wrong API key
    insufficient_credits,  // 402 INSUFFICIENT_CREDITS (sim-error=402)
    forbidden,             // 403 FORBIDDEN: the link has expired
    not_found,             // 404 RESOURCE_NOT_FOUND
    method_not_allowed,    // 405 METHOD_NOT_ALLOWED
    range_not_satisfiable, // 416 RANGE_NOT_SATISFIABLE
    unprocessable,         // 422 UNPROCESSABLE_CONTENT: neither audio_url nor audio_file
    too_many_requests,     // 429 TOO_MANY_REQUESTS (sim-error=429, --status-limit)
    internal,              // 500 INTERNAL_SERVER_ERROR (sim-error=500)
    unavailable,           // 503 SERVICE_UNAVAILABLE (fault 503-once)
};

const boost::system::error_category& error_category() noexcept;
boost::system::error_code make_error_code(error e) noexcept;

// A failure with its code and the message the answer's body carries.
stemd::error make_error(error code, std::string message);

// The HTTP status and MusicGPT error_code of a simulator error code; 500
// INTERNAL_SERVER_ERROR for codes of other categories.
unsigned http_status(const boost::system::error_code& code) noexcept;
std::string_view wire_code(const boost::system::error_code& code) noexcept;

} // namespace stemd::simulator

template <> struct boost::system::is_error_code_enum<stemd::simulator::error> : std::true_type {};
