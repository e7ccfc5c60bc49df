#include "server/webhook_handler.hpp"

#include "common/crypto.hpp"
#include "common/log.hpp"
#include "common/time.hpp"
#include "jobs/error.hpp"
#include "jobs/events.hpp"
#include "jobs/metrics.hpp"
#include "jobs/service.hpp"
#include "musicgpt/webhook.hpp"
#include "server/reply.hpp"
#include "server/webhook_signature.hpp"

#include <boost/json/object.hpp>

#include <chrono>
#include <optional>
#include <variant>

namespace stemd::server {

namespace http = boost::beast::http;
namespace json = boost::json;

namespace {

constexpr std::string_view send_again = "could not record the delivery; send it again";

// Who a delivery is for: the job its token names, or none when it came
// with webhook.secret (the job is then found or adopted from the body).
struct addressee {
    std::optional<storage::job_record> job;
    std::string log_id() const { return job ? job->id : std::string(); }
};

// The reason a refused signature is counted under.
std::string_view signature_refusal(const stemd::error& e) {
    if (e.code == signature_error::missing_header)
        return "missing_signature";
    if (e.code == signature_error::bad_timestamp)
        return "bad_timestamp";
    return "bad_signature";
}

// What a step answers when the delivery goes no further.
using step = std::optional<listener::response>;

std::string_view header(const listener::request& req, std::string_view name) {
    auto value = req[name];
    return {value.data(), value.size()};
}

// "/webhook/{token}" -> token; "" for any other path. A query string is
// ignored: some relays append their own.
std::string token_of(std::string_view target) {
    constexpr std::string_view prefix = "/webhook/";
    target = target.substr(0, target.find('?'));
    if (!target.starts_with(prefix))
        return {};
    target.remove_prefix(prefix.size());
    if (target.empty() || target.find('/') != std::string_view::npos)
        return {};
    return std::string(target);
}

// The path, the method and the token: 404, 405, or who it is for.
std::variant<listener::response, addressee> identify(webhook_context& ctx,
                                                     const listener::request& req) {
    const std::string token = token_of(req.target());
    // A load balancer's health check: the listener answers, so deliveries
    // may be sent here. Says nothing about jobs, so it needs no token.
    if (token.empty() && req.method() == http::verb::get &&
        req.target().substr(0, req.target().find('?')) == "/healthz")
        return json_response(200, boost::json::object{{"ok", true}});
    if (token.empty()) {
        jobs::meters().listener_refused.add("not_found");
        return error_response(404, "not found");
    }
    if (req.method() != http::verb::post) {
        jobs::meters().listener_refused.add("method_not_allowed");
        return method_not_allowed({"POST"}, "");
    }
    // Any failure to find the token's job leaves only the secret path.
    auto job = ctx.service.find_by_token(token);
    if (job)
        return addressee{std::move(*job)};
    if (!ctx.secret.empty() && constant_time_equal(token, ctx.secret))
        return addressee{};
    if (job.error().code != jobs::error::unknown_token) {
        // The store could not say: a 5xx, which the sender tries again.
        log_error("", "webhook: cannot look up its token: " + job.error().message);
        jobs::meters().webhooks.add("failed");
        return error_response(500, send_again);
    }
    jobs::meters().webhook_refused("unknown_token");
    return error_response(404, "unknown webhook token");
}

// When signatures are required: 401 unless the delivery is signed, 200
// duplicate when its webhook-id was recorded before. Before the body is
// parsed: unsigned bytes are not worth parsing. Sets `delivery_id`.
step check_signature(webhook_context& ctx, const listener::request& req, const addressee& to,
                     std::string_view& delivery_id) {
    if (!ctx.signing)
        return std::nullopt;
    const signature_headers headers{header(req, "webhook-id"), header(req, "webhook-timestamp"),
                                    header(req, "webhook-signature")};
    auto checked = ctx.signing->verify(headers, req.body(), std::chrono::system_clock::now());
    if (!checked) {
        log_warning(to.log_id(), "webhook refused: " + checked.error().message);
        jobs::meters().webhook_refused(signature_refusal(checked.error()));
        return error_response(checked.error());
    }
    delivery_id = headers.id;
    // A replay (same webhook-id) is acknowledged and ignored before
    // anything is parsed or applied.
    auto seen = ctx.service.seen_delivery(delivery_id);
    if (!seen) {
        log_error(to.log_id(), "cannot check the webhook-id: " + seen.error().message);
        jobs::meters().webhooks.add("failed");
        return error_response(500, send_again);
    }
    if (*seen) {
        log_info(to.log_id(), "webhook: a delivery with this webhook-id was already received; "
                              "acknowledged and ignored");
        jobs::meters().webhooks.add("duplicate");
        if (to.job)
            ctx.service.note(to.job->id, jobs::event_kind::webhook_duplicate,
                             "a delivery with this webhook-id was already received; ignored");
        return json_response(200, json::object{{"ok", true}, {"duplicate", true}});
    }
    return std::nullopt;
}

// A delivery that was not recorded: a conflict (the ids belong to another
// job, the job is still being submitted, or stemd submitted it and the
// shared secret may not touch it) or an unusable report is refused with its
// reason, as sending it again cannot help; one that may be for a
// submission still in flight is asked to come again (503); anything else is
// the database's fault, and a retry may succeed.
listener::response not_recorded(std::string_view job_id, const musicgpt::report& p,
                                const stemd::error& e) {
    if (e.is(condition::conflict) || e.is(condition::invalid)) {
        log_warning(std::string(job_id),
                    "webhook for task " + p.task_id + " refused: " + e.message);
        jobs::meters().webhook_refused(e.is(condition::conflict) ? "conflict" : "invalid_report");
        return error_response(e);
    }
    // Not yet, rather than no: a 5xx is what a webhook sender retries.
    if (e.code == jobs::error::submission_in_flight) {
        log_warning(std::string(job_id),
                    "webhook for task " + p.task_id + " deferred: " + e.message);
        jobs::meters().webhooks.add("deferred");
        auto r = error_response(e);
        r.set(http::field::retry_after, "2");
        return r;
    }
    log_error(std::string(job_id), "webhook for task " + p.task_id + " not recorded: " + e.message);
    jobs::meters().webhooks.add("failed");
    return error_response(500, send_again);
}

// The job the report is for, then the report recorded: the reply, 200
// only once it is committed.
listener::response apply(webhook_context& ctx, addressee to, const musicgpt::report& p,
                         std::string_view delivery_id) {
    const std::string log_id = to.log_id();
    auto job = ctx.service.job_for_delivery(std::move(to.job), p);
    if (!job)
        return not_recorded(log_id, p, job.error());
    auto recorded = ctx.service.record(job->id, p);
    if (!recorded)
        return not_recorded(job->id, p, recorded.error());
    // The id is remembered only once the delivery is recorded, so a failure
    // above leaves the relay's retry (same id) free to succeed. Two copies
    // racing past seen_delivery() both apply the same signed body, which
    // apply() makes harmless.
    if (!delivery_id.empty())
        if (auto kept = ctx.service.remember_delivery(delivery_id); !kept)
            log_warning(job->id, "webhook recorded, but its webhook-id could not be stored for "
                                 "replay protection: " +
                                     kept.error().message);
    log_info(job->id, "webhook: " + (p.upstream_status.empty() ? "?" : p.upstream_status) + ", " +
                          std::to_string(p.links.size()) + " links; job is now " +
                          std::string(storage::to_string(recorded->status)));
    jobs::meters().webhook_accepted();
    return json_response(200, json::object{{"ok", true}});
}

} // namespace

listener::response handle_webhook(webhook_context& ctx, const listener::request& req) {
    if (const auto probe = probe_id(req.target()); !probe.empty()) {
        if (req.method() == http::verb::get && ctx.probes &&
            ctx.probes->arrive(probe, now_millis()))
            return json_response(200, json::object{{"ok", true}, {"probe", "arrived"}});
        return error_response(404, "not found");
    }
    auto identified = identify(ctx, req);
    if (auto* refused = std::get_if<listener::response>(&identified))
        return std::move(*refused);
    auto& to = std::get<addressee>(identified);

    std::string_view delivery_id;
    if (auto answered = check_signature(ctx, req, to, delivery_id))
        return std::move(*answered);

    auto parsed = musicgpt::parse_webhook(req.body());
    if (!parsed) {
        log_warning(to.log_id(), "webhook refused: " + parsed.error().message);
        jobs::meters().webhook_refused("malformed");
        return error_response(parsed.error());
    }
    return apply(ctx, std::move(to), *parsed, delivery_id);
}

} // namespace stemd::server
