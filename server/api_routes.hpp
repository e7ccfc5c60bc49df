#pragma once

// The local JSON API (/v1/jobs, /healthz) as plain functions from request
// to response, through jobs::service. Included only by .cpp files.

#include "listener/http_server.hpp"

#include <filesystem>
#include <vector>

namespace stemd::jobs {
class service;
}

namespace stemd::server {

// What the routes are configured with, from [api].
struct api_options {
    std::vector<std::filesystem::path> file_roots; // where audio_file may point
};

// Routes one request. Only submission awaits (MusicGPT is called); the
// rest is answered from the store. `spooled_body` is the file the listener
// wrote a multipart POST /v1/jobs body to (see listener::spool_route).
boost::asio::awaitable<listener::response>
handle_api(jobs::service& service, const listener::request& req, const api_options& options = {},
           const std::filesystem::path& spooled_body = {});

// Whether a request is an upload (multipart POST /v1/jobs), whose body the
// listener spools to disk.
bool is_upload(const boost::beast::http::request_header<>& header);

} // namespace stemd::server
