#include "client/error.hpp"

#include <boost/asio/ssl/error.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <utility>

namespace stemd::client {

namespace {

bool is_tls_verify_failure(const boost::system::error_code& ec) {
    return ec.category() == boost::asio::error::get_ssl_category() &&
           ERR_GET_REASON(static_cast<unsigned long>(ec.value())) ==
               SSL_R_CERTIFICATE_VERIFY_FAILED;
}

} // namespace

const boost::system::error_category& error_category() noexcept {
    using c = condition;
    static const table_category category(
        "stemd.client",
        {
            {int(error::bad_url), "not an absolute http or https URL", c::invalid},
            {int(error::scheme_not_allowed), "plain http is not allowed here; use an https URL",
             c::refused},
            {int(error::address_not_allowed),
             "the host resolves to a loopback, private or otherwise non-public address",
             c::refused},
            {int(error::no_address), "the host name did not resolve to any usable address",
             c::unavailable},
            {int(error::timeout), "the remote server made no progress within the allowed time",
             c::timeout},
            {int(error::too_many_redirects), "too many redirects", c::refused},
            {int(error::redirect_loop), "a redirect leads back to a URL already visited",
             c::refused},
            {int(error::bad_redirect), "a redirect without a usable Location header", c::invalid},
            {int(error::http_status), "the server answered with an HTTP status that cannot be used",
             c::refused},
            {int(error::body_too_large), "the response body is larger than allowed", c::too_large},
            {int(error::length_mismatch),
             "the response body length differs from the announced length", c::unavailable},
            {int(error::bad_response), "the server's answer does not follow the protocol",
             c::unavailable},
            {int(error::file_io), "reading or writing a local file failed", c::io},
            {int(error::link_expired),
             "the server refused the signed link; it has probably expired", c::unavailable},
            {int(error::server_busy), "the server is busy or failing", c::unavailable},
            {int(error::connection_failed), "the connection failed", c::unavailable},
            {int(error::tls_not_trusted), "the server's TLS certificate is not trusted",
             c::refused},
            {int(error::bad_api_key), "the API key cannot be sent in an HTTP header", c::invalid},
            {int(error::too_slow), "the download took longer than allowed", c::timeout},
            {int(error::bad_form), "the multipart/form-data body is malformed", c::invalid},
            {int(error::not_found), "the server has no such object or upload", c::not_found},
        });
    return category;
}

boost::system::error_code make_error_code(error e) noexcept {
    return {static_cast<int>(e), error_category()};
}

stemd::error transport_error(boost::system::error_code ec, std::string message) {
    if (ec.category() == error_category())
        return {ec, std::move(message)};
    if (is_tls_verify_failure(ec))
        return {make_error_code(error::tls_not_trusted), std::move(message)};
    return {make_error_code(error::connection_failed), std::move(message)};
}

} // namespace stemd::client
