#include "simulator/webhook_sender.hpp"

#include "client/connection.hpp"
#include "common/log.hpp"
#include "listener/http_server.hpp"
#include "simulator/note.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>

#include <exception>
#include <utility>

namespace stemd::simulator {

namespace net = boost::asio;
namespace http = boost::beast::http;

namespace {

constexpr int webhook_attempts = 5;
constexpr std::chrono::milliseconds first_backoff{200};

} // namespace

webhook_sender::webhook_sender(std::shared_ptr<net::ssl::context> tls,
                               std::shared_ptr<counters> stats)
    : tls_(std::move(tls)), stats_(std::move(stats)) {}

void webhook_sender::send(const net::any_io_executor& ex, std::string task_id,
                          std::chrono::steady_clock::time_point when, client::http_url url,
                          std::string body, std::function<void()> first_attempt_done) {
    const std::string what = "webhook for task " + task_id;
    net::co_spawn(ex,
                  deliver(shared_from_this(), std::move(task_id), when, std::move(url),
                          std::move(body), std::move(first_attempt_done)),
                  [what](std::exception_ptr e) { log_exception(what, e); });
}

net::awaitable<void> webhook_sender::deliver(std::shared_ptr<webhook_sender> self,
                                             std::string task_id,
                                             std::chrono::steady_clock::time_point when,
                                             client::http_url url, std::string body,
                                             std::function<void()> first_attempt_done) {
    net::steady_timer timer(co_await net::this_coro::executor, when);
    co_await timer.async_wait(net::use_awaitable);
    auto backoff = first_backoff;
    for (int attempt = 1; attempt <= webhook_attempts; ++attempt) {
        const delivery outcome = co_await self->post_once(task_id, url, body, attempt);
        if (attempt == 1 && first_attempt_done) {
            first_attempt_done();
        }
        if (outcome == delivery::delivered) {
            ++self->stats_->webhooks_delivered;
            self->deliveries_.push_back({url.to_string(), body});
            co_return;
        }
        if (outcome == delivery::give_up || attempt == webhook_attempts) {
            break;
        }
        timer.expires_after(backoff);
        co_await timer.async_wait(net::use_awaitable);
        backoff *= 2;
    }
    ++self->stats_->webhook_failures;
    note(log_level::warning,
         "webhook for task " + task_id + " to " + url.redacted() + ": giving up");
}

net::awaitable<webhook_sender::delivery> webhook_sender::post_once(const std::string& task_id,
                                                                   const client::http_url& url,
                                                                   const std::string& body,
                                                                   int attempt) {
    listener::request req{http::verb::post, url.target, 11};
    req.set(http::field::host, url.host_header());
    req.set(http::field::content_type, "application/json");
    req.set(http::field::user_agent, "stemd-simulate/" STEMD_VERSION);
    req.body() = body;
    req.prepare_payload();

    client::connect_options connect;
    connect.connect_timeout = std::chrono::seconds(5);
    connect.io_timeout = std::chrono::seconds(10);
    ++stats_->webhook_attempts;
    const auto answer = co_await client::exchange(url, std::move(req), connect, *tls_, 64 * 1024);

    const std::string what = "webhook for task " + task_id + " attempt " + std::to_string(attempt) +
                             "/" + std::to_string(webhook_attempts) + " to " + url.redacted();
    if (!answer) {
        note(log_level::warning, what + ": " + answer.error().message());
        co_return delivery::retry;
    }
    const unsigned code = answer->result_int();
    const bool ok = code >= 200 && code < 300;
    note(ok ? log_level::info : log_level::warning, what + ": HTTP " + std::to_string(code));
    if (ok) {
        co_return delivery::delivered;
    }
    co_return code >= 500 ? delivery::retry : delivery::give_up;
}

} // namespace stemd::simulator
