#pragma once

// The local JSON API (/v1/jobs, /healthz) as plain functions from request
// to response, through jobs::service. Included only by .cpp files.

#include "listener/http_server.hpp"

namespace stemd::jobs {
class service;
}

namespace stemd::server {

// Routes one request. Only submission awaits (MusicGPT is called); the
// rest is answered from the store.
boost::asio::awaitable<listener::response> handle_api(jobs::service& service,
                                                      const listener::request& req);

} // namespace stemd::server
