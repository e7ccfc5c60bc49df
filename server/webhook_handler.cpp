#include "server/webhook_handler.hpp"

#include "common/crypto.hpp"
#include "musicgpt/webhook.hpp"
#include "server/job_service.hpp"
#include "common/log.hpp"

#include <boost/json/serialize.hpp>

#include <chrono>

namespace stemd::server {

namespace http = boost::beast::http;
namespace json = boost::json;

namespace {

listener::response answer(unsigned status, json::object body) {
    listener::response r;
    r.result(status);
    r.set(http::field::content_type, "application/json");
    r.body() = json::serialize(body) + "\n";
    r.prepare_payload();
    return r;
}

listener::response refuse(unsigned status, std::string_view reason) {
    return answer(status, {{"ok", false}, {"error", reason}});
}

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

} // namespace

listener::response handle_webhook(webhook_context& ctx, const listener::request& req) {
    const std::string token = token_of(req.target());
    if (token.empty())
        return refuse(404, "not found");
    if (req.method() != http::verb::post) {
        auto r = refuse(405, "use POST");
        r.set(http::field::allow, "POST");
        return r;
    }

    auto& store = ctx.service.store();
    // Look the job up by the token's hash, then compare in constant time:
    // the database index sees only a hash, never the token.
    std::optional<storage::job_record> job;
    const std::string hash = sha256_hex(token);
    if (auto found = store.find_by_token_hash(hash)) {
        auto stored = store.token_hash(found->id);
        if (stored && constant_time_equal(*stored, hash))
            job = std::move(*found);
    }
    const bool by_secret =
        !job && !ctx.secret.empty() && constant_time_equal(token, ctx.secret);
    if (!job && !by_secret)
        return refuse(404, "unknown webhook token");

    // Before the body is parsed: unsigned bytes are not worth parsing.
    std::string_view delivery_id;
    if (ctx.signing) {
        const signature_headers headers{header(req, "webhook-id"),
                                        header(req, "webhook-timestamp"),
                                        header(req, "webhook-signature")};
        auto checked = ctx.signing->verify(headers, req.body(), std::chrono::system_clock::now());
        if (!checked) {
            log_warning(job ? job->id : "", "webhook refused: " + checked.error().message);
            return refuse(401, checked.error().message);
        }
        delivery_id = headers.id;
        // A replay (same webhook-id) is acknowledged and ignored before
        // anything is parsed or applied.
        auto seen = store.seen_delivery(delivery_id);
        if (!seen) {
            log_error(job ? job->id : "", "cannot check the webhook-id: " + seen.error().message);
            return refuse(500, "could not record the delivery; send it again");
        }
        if (*seen) {
            log_info(job ? job->id : "", "webhook: a delivery with this webhook-id was already "
                                         "received; acknowledged and ignored");
            return answer(200, {{"ok", true}, {"duplicate", true}});
        }
    }

    auto parsed = musicgpt::parse_webhook(req.body());
    if (!parsed) {
        log_warning(job ? job->id : "", "webhook refused: " + parsed.error().message);
        return refuse(400, parsed.error().message);
    }
    const musicgpt::report& p = *parsed;

    if (job) {
        if (!job->task_id.empty() && p.task_id != job->task_id)
            return refuse(409, "task_id " + p.task_id + " does not belong to this webhook URL");
        if (!job->conversion_id.empty() && !p.conversion_id.empty() &&
            p.conversion_id != job->conversion_id)
            return refuse(409, "conversion_id " + p.conversion_id +
                                   " does not belong to this webhook URL");
    } else {
        auto adopted = store.adopt(p.task_id, p.conversion_id);
        if (!adopted) {
            log_error("", "webhook for task " + p.task_id + " not recorded: " +
                              adopted.error().message);
            return refuse(adopted.error().is(condition::conflict) ? 409 : 500,
                          "could not record the delivery; send it again");
        }
        job = std::move(*adopted);
    }

    auto recorded = ctx.service.record(job->id, p);
    if (!recorded) {
        log_error(job->id, "webhook not recorded: " + recorded.error().message);
        return refuse(500, "could not record the delivery; send it again");
    }
    // The id is remembered only once the delivery is recorded, so a failure
    // above leaves the relay's retry (same id) free to succeed. Two copies
    // racing past seen_delivery() both apply the same signed body, which
    // apply() makes harmless.
    if (!delivery_id.empty()) {
        if (auto fresh = store.remember_delivery(delivery_id, storage::now_millis()); !fresh)
            log_warning(job->id, "webhook recorded, but its webhook-id could not be stored for "
                                 "replay protection: " + fresh.error().message);
    }
    log_info(job->id, "webhook: " + (p.upstream_status.empty() ? "?" : p.upstream_status) + ", " +
                          std::to_string(p.links.size()) + " links; job is now " +
                          std::string(storage::to_string(recorded->status)));
    return answer(200, {{"ok", true}});
}

} // namespace stemd::server
