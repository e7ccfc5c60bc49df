#pragma once

// The local JSON API (/v1/jobs, /healthz) as plain functions from request
// to response, through jobs::service. Included only by .cpp files.

#include "listener/http_server.hpp"
#include "server/api_access.hpp"

#include <optional>

namespace stemd::jobs {
class service;
}

namespace stemd::server {

// The parts of `req` the access checks read (views into `req`).
request_facts facts_of(const listener::request& req);

// The refusal of a request `access` does not let through, or nullopt.
std::optional<listener::response> refuse_access(const api_access& access,
                                                const listener::request& req);

// Routes one request. Only submission awaits (MusicGPT is called); the
// rest is answered from the store.
boost::asio::awaitable<listener::response> handle_api(jobs::service& service,
                                                      const listener::request& req);

} // namespace stemd::server
