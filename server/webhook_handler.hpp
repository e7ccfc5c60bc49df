#pragma once

// POST /webhook/{token}: MusicGPT's callback. Included only by .cpp files.

#include "listener/http_server.hpp"
#include "server/probe_book.hpp"
#include "server/webhook_signature.hpp"

#include <optional>
#include <string>

namespace stemd::jobs {
class service;
}

namespace stemd::server {

struct webhook_context {
    jobs::service& service;
    std::string secret; // webhook.secret; "" disables the shared-secret path
    // From webhook.signing_secret: when set, every delivery must be signed,
    // and one whose webhook-id was recorded before is answered as a duplicate.
    std::optional<signature_verifier> signing;
    // The probe ids `stemd doctor` issued (POST /v1/doctor); GET
    // /webhook/probe/<id> answers 200 only for one of them.
    probe_book* probes = nullptr;
};

// A plain function from request to response, so it is tested without
// sockets. GET /webhook/probe/<id> is doctor's probe: 200 for an id of
// ctx.probes issued in the last minute, 404 (as for any unknown path) else.
// A delivery's reply is 200 only once it is committed. Checks, in order: the token (404), the signature when configured (401), the body
// (400), then the job (409 with the reason: the ids belong to another job,
// the job's submission is still in flight, or a webhook.secret delivery
// names a job stemd submitted) and the links (422 beyond
// musicgpt::max_links_per_report); a refusal changes nothing, and only a
// database failure is a 500 asking to send again. A signed delivery whose webhook-id was recorded
// before is answered 200 {"ok":true,"duplicate":true} (see the .cpp for why
// the id is checked after, not before, recording). Failures are
// {"ok":false,"error":"..."}.
listener::response handle_webhook(webhook_context& ctx, const listener::request& req);

} // namespace stemd::server
