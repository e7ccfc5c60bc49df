#pragma once

#include <boost/system/error_code.hpp>

#include <type_traits>

namespace stemd::client {

enum class error {
    bad_url = 1,          // not an absolute http(s) URL
    scheme_not_allowed,   // plain http where only https is allowed
    address_not_allowed,  // the host resolves to a loopback/private/... address
    no_address,           // the host name resolved to nothing usable
    timeout,              // no progress within the allowed time
    too_many_redirects,   // more than 5 redirects
    redirect_loop,        // a redirect back to a URL already visited
    bad_redirect,         // a 3xx without a usable Location
    http_status,          // the server answered a status the caller cannot use
    body_too_large,       // more bytes than the caller's limit
    length_mismatch,      // fewer or more bytes than Content-Length announced
    bad_response,         // an answer that is not what the protocol promises
    file_io,              // reading or writing a local file failed
};

const boost::system::error_category& error_category() noexcept;
boost::system::error_code make_error_code(error e) noexcept;

} // namespace stemd::client

template <>
struct boost::system::is_error_code_enum<stemd::client::error> : std::true_type {};
