#pragma once

// The local JSON API (/v1/jobs, /healthz). Included only by .cpp files.

#include "listener/http_server.hpp"

namespace stemd::server {

class job_service;

// Validates a POST /v1/jobs body. On success the job request; on failure
// the status (400 malformed JSON, 422 unusable request) and the reason.
struct api_refusal {
    unsigned status;
    std::string reason;
};
struct job_request;
boost::system::result<job_request, api_refusal> parse_job_request(std::string_view body);
[[noreturn]] void throw_exception_from_error(const api_refusal& r,
                                             const boost::source_location& loc);

// Routes one request. Only submission awaits (MusicGPT is called); the
// rest is answered from the store.
boost::asio::awaitable<listener::response> handle_api(job_service& service, const listener::request& req);

} // namespace stemd::server
