#include "simulator/service.hpp"

#include "common/json_text.hpp"
#include "common/text.hpp"
#include "common/time.hpp"
#include "simulator/api_reply.hpp"
#include "simulator/conversion_json.hpp"
#include "simulator/error.hpp"
#include "simulator/fault_plan.hpp"
#include "simulator/note.hpp"
#include "simulator/submission.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/json/array.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <chrono>
#include <functional>
#include <string_view>
#include <utility>

namespace stemd::simulator {

namespace net = boost::asio;
namespace http = boost::beast::http;
namespace json = boost::json;
using listener::json_reply;
using listener::reply;
using listener::request;

namespace {

// A slow upstream on request: tests use it to have a request of their own in
// flight in the daemon at a moment they choose.
constexpr std::string_view slow_marker = "sim-slow-answer";
constexpr std::chrono::milliseconds slow_answer{1500};

reply method_not_allowed(std::string_view path, http::verb allowed) {
    reply r =
        api_error(make_error(error::method_not_allowed, std::string(path) + " accepts only " +
                                                            std::string(http::to_string(allowed))));
    r.message.set(http::field::allow, http::to_string(allowed));
    return r;
}

// The fault byid-404: the task is not found by byId, as if MusicGPT had
// forgotten it.
bool unknown_to_by_id(const task& t) {
    const auto plan = parse_faults(t.faults);
    return plan && plan->by_id_unknown;
}

reply with_retry_after(reply r, std::chrono::milliseconds wait) {
    const auto seconds = std::chrono::ceil<std::chrono::seconds>(wait).count();
    r.message.set(http::field::retry_after, std::to_string(std::max<std::int64_t>(seconds, 1)));
    return r;
}

} // namespace

service::service(const simulator_options& options, std::shared_ptr<net::ssl::context> webhook_tls,
                 net::any_io_executor ex)
    : options_(options), ex_(std::move(ex)), stats_(std::make_shared<counters>()),
      links_(options.link_ttl), limiter_(options.status_limit, options.status_window),
      status_peak_(options.status_window),
      files_(tasks_, links_, options.stem_bytes, options.rate, stats_),
      webhooks_(std::make_shared<webhook_sender>(std::move(webhook_tls), stats_)) {}

net::awaitable<reply> service::handle(std::shared_ptr<service> self, request& req) {
    if (req.body().find(slow_marker) != std::string::npos) {
        net::steady_timer timer(co_await net::this_coro::executor, slow_answer);
        co_await timer.async_wait(net::use_awaitable);
    }
    reply r = self->route(req);
    // As every HTTP origin server with a clock does (RFC 9110, 6.6.1).
    r.message.set(
        http::field::date,
        http_date(now_millis() + std::chrono::milliseconds(self->options_.clock_ahead).count()));
    if (const auto held = std::exchange(self->held_answer_, nullptr)) {
        co_await held->async_wait(net::as_tuple(net::use_awaitable));
    }
    co_return r;
}

reply service::route(const request& req) {
    const auto target = boost::urls::parse_origin_form(req.target());
    if (!target) {
        return api_error(make_error(error::bad_request, "the request target is not a valid path"));
    }
    const std::string_view path = target->encoded_path();
    const auto only = [&](http::verb verb, const auto& serve) -> reply {
        return req.method() == verb ? serve() : method_not_allowed(path, verb);
    };
    if (path == "/api/public/v1/Extraction" || path == "/api/public/v2/Extraction") {
        const int version = path.starts_with("/api/public/v1/") ? 1 : 2;
        return only(http::verb::post, [&] { return submit(req, version); });
    }
    if (path == "/api/public/v1/byId") {
        return only(http::verb::get, [&] { return status(req, *target); });
    }
    if (path.starts_with("/files/")) {
        return only(http::verb::get, [&] { return file(req, *target); });
    }
    if (path == "/sim/stats") {
        return only(http::verb::get,
                    [&] { return json_reply(200, to_json(*stats_, tasks_.size())); });
    }
    if (path == "/sim/deliveries") {
        return only(http::verb::get, [&] { return deliveries(); });
    }
    if (path == "/healthz") {
        return only(http::verb::get, [] {
            return json_reply(200, json::object{{"status", "ok"}});
        });
    }
    return api_error(make_error(error::not_found, "no such endpoint in the MusicGPT simulator"));
}

reply service::submit(const request& req, int api_version) {
    auto accepted = accept(req, api_version, options_);
    if (!accepted) {
        ++stats_->rejected_submissions;
        reply r = api_error(accepted.error());
        if (accepted.error().code == error::too_many_requests) {
            r.message.set(http::field::retry_after, "1");
        }
        return r;
    }
    const std::shared_ptr<task> t = accepted->accepted;
    ++stats_->submissions;
    stats_->uploaded_bytes += accepted->uploaded_bytes;
    if (!accepted->uploaded_sha256.empty())
        stats_->last_upload_sha256 = accepted->uploaded_sha256;
    tasks_.add(t);

    std::string webhook_note = "no webhook";
    if (accepted->webhook && options_.no_webhooks) {
        webhook_note = "webhook withheld (--no-webhooks)";
    } else if (const auto& url = accepted->webhook) {
        webhook_note = "webhook " + url->redacted();
        std::function<void()> attempted;
        if (accepted->webhook_first) {
            // Moving the expiry to the past ends the wait, and one that has
            // not started yet would not begin.
            held_answer_ = std::make_shared<net::steady_timer>(
                ex_, std::chrono::steady_clock::time_point::max());
            attempted = [held = held_answer_] {
                held->expires_at(std::chrono::steady_clock::time_point::min());
            };
            webhook_note += ", attempted before this answer";
        }
        webhooks_->send(ex_, t->task_id, t->ready_at, *url,
                        json_text(webhook_body(*t, links_, options_.stem_bytes)),
                        std::move(attempted));
    }
    note(log_level::info, "task " + t->task_id + " accepted (v" + std::to_string(api_version) +
                              ", stems " + join(t->stems, ", ") + (t->fail ? ", will fail" : "") +
                              ", " + webhook_note + ")");

    const auto eta = std::max<std::int64_t>(
        1, std::chrono::ceil<std::chrono::seconds>(options_.webhook_delay).count());
    json::object body{{"success", true},
                      {"task_id", t->task_id},
                      {"conversion_id", t->conversion_id},
                      {"eta", eta},
                      {"credit_estimate", 1.25 * static_cast<double>(t->stems.size())}};
    if (api_version == 2) {
        body["message"] = "Message published to queue";
        body["status"] = "IN_QUEUE";
    }
    return json_reply(200, body);
}

reply service::status(const request& req, const boost::urls::url_view& target) {
    ++stats_->status_requests;
    stats_->status_window_peak = status_peak_.add();
    if (const auto wait = limiter_.refuse()) {
        ++stats_->status_429;
        return with_retry_after(api_error(make_error(error::too_many_requests,
                                                     "Too many status requests (simulated limit)")),
                                *wait);
    }
    return status_answer(req, target);
}

// The one-shot byId faults: the answer to a task's first byId instead of
// the task's.
std::optional<reply> service::by_id_fault(const task& t) {
    const auto plan = parse_faults(t.faults);
    if (!plan || !by_id_faulted_.insert(t.task_id).second)
        return std::nullopt;
    if (plan->by_id_failing_once) {
        stats_->count_fault("byid-500-once");
        return api_error(make_error(error::internal, "simulated failure (fault byid-500-once)"));
    }
    if (plan->by_id_busy_once) {
        stats_->count_fault("byid-503-once");
        reply r =
            api_error(make_error(error::unavailable, "simulated outage (fault byid-503-once)"));
        r.message.set(http::field::retry_after, "1");
        return r;
    }
    return std::nullopt;
}

reply service::status_answer(const request& req, const boost::urls::url_view& target) {
    if (auto allowed = check_authorization(req[http::field::authorization], options_.api_key);
        !allowed) {
        return api_error(allowed.error());
    }
    std::string type;
    std::string task_id;
    std::string conversion_id;
    for (const auto& param : target.params()) {
        if (param.key == "conversionType") {
            type = param.value;
        } else if (param.key == "task_id") {
            task_id = param.value;
        } else if (param.key == "conversion_id") {
            conversion_id = param.value;
        }
    }
    const auto refuse = [](std::string message) {
        return api_error(make_error(error::bad_request, std::move(message)));
    };
    if (type.empty()) {
        return refuse("conversionType is required, e.g. conversionType=EXTRACTION");
    }
    if (!iequals(type, "EXTRACTION")) {
        return refuse("the simulator only has conversionType=EXTRACTION");
    }
    if (task_id.empty() == conversion_id.empty()) {
        return refuse("give exactly one of task_id and conversion_id");
    }
    const auto t =
        task_id.empty() ? tasks_.find_by_conversion(conversion_id) : tasks_.find(task_id);
    if (t && unknown_to_by_id(*t)) {
        stats_->count_fault("byid-404");
    }
    if (!t || unknown_to_by_id(*t)) {
        return api_error(make_error(error::not_found, "no conversion with that id"));
    }
    if (auto faulted = by_id_fault(*t))
        return std::move(*faulted);
    return json_reply(
        200, json::object{{"success", true},
                          {"conversion", conversion_record(*t, links_, options_.stem_bytes)}});
}

reply service::file(const request& req, const boost::urls::url_view& target) {
    if (links_.expired(target)) {
        ++stats_->expired_links;
        return api_error(make_error(error::forbidden, "the link has expired; fetch a fresh one"));
    }
    return files_.serve(req, target);
}

reply service::deliveries() const {
    json::array out;
    for (const auto& d : webhooks_->deliveries()) {
        out.push_back(json::object{{"url", d.url}, {"body", d.body}});
    }
    return json_reply(200, out);
}

} // namespace stemd::simulator
