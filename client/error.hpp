#pragma once

#include "common/error.hpp"

#include <string>

namespace stemd::client {

// Each code has one condition (client/error.cpp); "try again later" is
// stemd::error::transient(): unavailable, timeout and io are, the refused,
// invalid and too_large ones are final.
enum class error {
    bad_url = 1,         // not an absolute http(s) URL                     (invalid)
    scheme_not_allowed,  // plain http where only https is allowed          (refused)
    address_not_allowed, // the host resolves to a loopback/private/... address (refused)
    no_address,          // the host name resolved to nothing usable        (unavailable)
    timeout,             // no progress within the allowed time             (timeout)
    too_many_redirects,  // more than the allowed redirects                 (refused)
    redirect_loop,       // a redirect back to a URL already visited        (refused)
    bad_redirect,        // a 3xx without a usable Location                 (invalid)
    http_status,         // a status asking again will not change (400...)  (refused)
    body_too_large,      // more bytes than the caller's limit              (too_large)
    length_mismatch,     // fewer or more bytes than Content-Length announced (unavailable)
    bad_response,        // an answer that is not what the protocol promises (unavailable)
    file_io,             // reading or writing a local file failed          (io)
    link_expired,        // 401/403/404/410 for a signed link: fetch a fresh one (unavailable)
    server_busy,         // 408/425/429/5xx: the server is busy or failing  (unavailable)
    connection_failed,   // connecting, TLS or the transfer failed          (unavailable)
    tls_not_trusted,     // the server's certificate did not verify         (refused)
    bad_api_key,         // the API key cannot be sent in a header          (invalid)
    too_slow,            // a download ran past its overall deadline        (timeout)
    bad_form,            // a multipart/form-data body that breaks RFC 7578 (invalid)
    not_found,           // 404 for an object or upload that should be there (not_found)
};

const boost::system::error_category& error_category() noexcept;
boost::system::error_code make_error_code(error e) noexcept;

// A failure of the network layer (connection.hpp's error_code) as a
// stemd::error: client codes stay, a certificate that did not verify is
// tls_not_trusted, anything else from the system or OpenSSL is
// connection_failed. `message` should already say what and where; the
// system's reason is part of it.
stemd::error transport_error(boost::system::error_code ec, std::string message);

} // namespace stemd::client

template <> struct boost::system::is_error_code_enum<stemd::client::error> : std::true_type {};
