#pragma once

// POST /webhook/{token}: MusicGPT's callback. Included only by .cpp files.

#include "server/http_server.hpp"

#include <string>

namespace stemd::server {

class job_service;

struct webhook_context {
    job_service& service;
    std::string secret; // webhook.secret; "" disables the shared-secret path
};

// A plain function from request to response, so it is tested without
// sockets. The reply is 200 only once the delivery is committed.
response handle_webhook(webhook_context& ctx, const request& req);

} // namespace stemd::server
