#pragma once

// GET /v1/events: the job events as Server-Sent Events. Stored events
// (store::events_after) first when the client names where it stopped
// (Last-Event-ID, or ?after=N), then live ones from the event hub
// (jobs/event_hub.hpp); download progress sampled at most 4 times a second
// per file (not stored, no id); a ": ping" comment every 15 s. Included
// only by .cpp files.

#include "common/time.hpp"
#include "listener/http_server.hpp"

#include <chrono>
#include <functional>

namespace stemd::jobs {
class service;
}

namespace stemd::server {

struct events_pacing {
    std::chrono::milliseconds ping{15'000};
    std::chrono::milliseconds progress{250}; // at most one progress event per file per this
};

// The stream, or a refusal: 400 for a bad job/after/Last-Event-ID, 404 for
// an unknown job, 503 when the hub's limit of open streams is reached.
// The query parameters are checked by the caller (api_routes.cpp).
// `still_allowed` (api_access::credential_watch) is asked on every wake-up,
// at least once per pacing.progress: the stream ends as soon as the session
// or token that opened it has ended (sign-out, expiry, a new token).
boost::asio::awaitable<listener::reply>
events_reply(jobs::service& service, const listener::request& req, events_pacing pacing = {},
             std::function<bool(millis)> still_allowed = nullptr);

} // namespace stemd::server
