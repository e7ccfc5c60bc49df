#pragma once

// The local JSON API (/v1/jobs, /healthz) as plain functions from request
// to response, through jobs::service. Included only by .cpp files.

#include "listener/http_server.hpp"
#include "server/api_access.hpp"

#include <filesystem>
#include <optional>
#include <vector>

namespace stemd::jobs {
class service;
}

namespace stemd::server {

struct doctor_context;
class session_book;

// The parts of `req` the access checks read (views into `req`).
request_facts facts_of(const boost::beast::http::request_header<>& req);

// The refusal of a request `access` does not let through, or nullopt. It
// reads the header only, so the listener asks it before reading any body
// (listener::server_limits::screen).
std::optional<listener::response> refuse_access(const api_access& access,
                                                const boost::beast::http::request_header<>& req);

// What the routes are configured with, from [api].
struct api_options {
    std::vector<std::filesystem::path> file_roots; // where audio_file may point
    doctor_context* doctor = nullptr;              // POST /v1/doctor (404 when null)
    // /v1/session and /v1/session/code (404 when either is null).
    const api_access* access = nullptr;
    session_book* sessions = nullptr;
};

// Routes one request. Only submission awaits (MusicGPT is called); the
// rest is answered from the store, a job's file streamed from disk. `spooled_body` is the file the listener
// wrote a multipart POST /v1/jobs body to (see listener::spool_route).
boost::asio::awaitable<listener::reply>
handle_api(jobs::service& service, const listener::request& req, const api_options& options = {},
           const std::filesystem::path& spooled_body = {});

// handle_api, and GET /v1/events (server/events_route.hpp), whose reply
// is a stream.
boost::asio::awaitable<listener::reply> api_reply(jobs::service& service, listener::request& req,
                                                  const api_options& options = {},
                                                  const std::filesystem::path& spooled_body = {});

// Whether a request is an upload (multipart POST /v1/jobs), whose body the
// listener spools to disk.
bool is_upload(const boost::beast::http::request_header<>& header);

} // namespace stemd::server
