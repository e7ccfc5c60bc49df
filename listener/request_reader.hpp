#pragma once

// Reading one request within a listener's limits: the header, the screen's
// verdict on it, then the body into memory or, on the spool route, into a
// file. Apart from the connection loop so that it can change (and rebuild)
// on its own. Included only by .cpp files (it pulls in Beast).

#include "listener/http_server.hpp"
#include "listener/spool_file.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/system/error_code.hpp>

#include <optional>

namespace stemd::listener {

// One request as read_request leaves it.
struct incoming {
    request req;
    spool_file spooled;              // the body's file, for a spool_route request
    std::optional<response> refused; // the screen's answer: the body was not read
    bool body_unread = false;        // refused while a body is still to come
    bool write_failed = false;       // the spool file could not be written (errno in the code)
};

// Reads one request: the header; then, once `limits.screen` lets it
// through, the body into memory, or into a spool file when the route is
// the spool route. A refused request's body is left unread. Defined for
// the two streams a listener serves: plain TCP and TLS over it.
template <class Stream>
boost::asio::awaitable<boost::system::error_code>
read_request(const server_limits& limits, Stream& stream, boost::beast::flat_buffer& buffer,
             incoming& in);

} // namespace stemd::listener
