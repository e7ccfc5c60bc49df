#pragma once

// Sending one Standard Webhooks event to the user's receiver: a POST of
// the JSON body with webhook-id, webhook-timestamp and webhook-signature,
// over a fresh connection, no redirects followed. Included only by .cpp
// files (Asio).

#include "client/connection.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/system/result.hpp>

#include <string>

namespace stemd::client {

struct signed_event {
    std::string id;        // webhook-id
    std::string timestamp; // webhook-timestamp, Unix seconds
    std::string signature; // webhook-signature, "v1,<base64>"
    std::string body;      // application/json
};

// The receiver's HTTP status (any, 3xx included: redirects are answers
// too), or why no answer came (connecting, TLS, a timeout).
boost::asio::awaitable<boost::system::result<unsigned>> post_event(const http_url& url,
                                                                   const signed_event& event,
                                                                   const connect_options& options,
                                                                   boost::asio::ssl::context& tls);

} // namespace stemd::client
