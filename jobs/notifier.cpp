#include "jobs/notifier.hpp"

#include "client/event_post.hpp"
#include "client/tls.hpp"
#include "common/log.hpp"
#include "common/signing.hpp"
#include "jobs/command_runner.hpp"
#include "jobs/events.hpp"
#include "jobs/metrics.hpp"
#include "jobs/outbox.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <stdexcept>

namespace stemd::jobs {

namespace net = boost::asio;
using namespace std::chrono_literals;

namespace {

// How many events one claim takes; they are sent one after another.
constexpr int batch = 8;
// New events are written by whatever makes a job final, which does not
// call here; an idle notifier looks for them this often (one indexed read).
constexpr std::chrono::milliseconds idle_check = 1s;
// A claim outlives the longest attempt by this much.
constexpr std::chrono::milliseconds claim_margin = 60s;

std::string attempts_text(int n) {
    return "attempt " + std::to_string(n);
}

} // namespace

struct notifier::transport {
    client::http_url url;
    std::shared_ptr<net::ssl::context> tls;
    client::connect_options connect;
};

notifier::notifier(net::any_io_executor ex, storage::store& store, const notify_options& options,
                   std::string owner)
    : ex_(ex), store_(store), options_(options), owner_(std::move(owner)), timer_(ex) {
    if (options_.url.empty())
        return;
    auto url = client::parse_http_url(options_.url);
    if (!url)
        throw std::runtime_error("notify.url = \"" + client::redact(options_.url) +
                                 "\" cannot be used: " + url.error().message());
    transport_ = std::make_unique<transport>();
    transport_->url = *url;
    transport_->tls = client::make_tls_client_context(options_.ca_file);
    transport_->connect.allow_http = options_.allow_http;
    // The receiver is the user's own app, often on this machine or the LAN.
    transport_->connect.allow_private_addresses = true;
    transport_->connect.connect_timeout = options_.timeout;
    transport_->connect.io_timeout = options_.timeout;
}

notifier::~notifier() = default;

void notifier::stop() {
    stopping_ = true;
    timer_.cancel();
}

net::awaitable<void> notifier::wait(std::chrono::milliseconds d) {
    timer_.expires_after(d);
    co_await timer_.async_wait(net::as_tuple(net::use_awaitable));
}

net::awaitable<void> notifier::run() {
    const auto lease = std::max(options_.timeout, options_.command_timeout) + claim_margin;
    while (!stopping_) {
        auto claimed = store_.claim_notifications(owner_, now_millis(), lease.count(), batch);
        if (!claimed) {
            log_error("", "cannot take notifications to send: " + claimed.error().message +
                              "; trying again in 5 s");
            co_await wait(5s);
            continue;
        }
        for (const auto& n : *claimed) {
            if (stopping_)
                co_return; // the claim is released at shutdown (store::release_claims)
            co_await deliver(n);
        }
        if (!claimed->empty())
            continue;
        auto next = store_.next_notification_due();
        std::chrono::milliseconds until = idle_check;
        if (next && *next)
            until = std::clamp(std::chrono::milliseconds(**next - now_millis()), 0ms, idle_check);
        co_await wait(until);
    }
}

net::awaitable<void> notifier::deliver(const storage::notification_record& n) {
    // Not a conditional expression: GCC 12 mishandles co_await in both arms.
    attempt a;
    if (n.channel == "url")
        a = co_await post(n);
    else
        a = co_await run_command(n);
    record(n, a);
}

net::awaitable<notifier::attempt> notifier::post(const storage::notification_record& n) {
    if (!transport_)
        co_return attempt{false, false, "notify.url is not set"};
    const auto seconds = now_millis() / 1000;
    const std::string timestamp = std::to_string(seconds);
    client::signed_event event{n.id, timestamp,
                               "v1," + webhook_signature_v1(options_.key, n.id, timestamp, n.body),
                               n.body};
    auto answer =
        co_await client::post_event(transport_->url, event, transport_->connect, *transport_->tls);
    if (!answer)
        co_return attempt{false, false, "no answer: " + answer.error().message()};
    const auto verdict = judge_answer(*answer);
    co_return attempt{verdict == receiver_verdict::delivered, verdict == receiver_verdict::refused,
                      "HTTP " + std::to_string(*answer)};
}

net::awaitable<notifier::attempt> notifier::run_command(const storage::notification_record& n) {
    if (options_.command.empty())
        co_return attempt{false, false, "notify.command is not set"};
    const auto outcome =
        co_await jobs::run_command(ex_, options_.command, command_environment(n),
                                   options_.command_timeout, n.job_id, "notify command " + n.id);
    co_return attempt{outcome.exited && outcome.exit_code == 0, false, outcome.problem};
}

void notifier::record(const storage::notification_record& n, const attempt& a) {
    const std::string target =
        n.channel == "url" && transport_ ? transport_->url.redacted() : std::string("the command");
    const std::string about = "notification " + n.id + " (" + n.type + ") to " + target + ", " +
                              attempts_text(n.attempts) + ": ";
    storage::notification_end end;
    std::string_view kind;
    std::string detail = n.id + " " + a.what;
    std::optional<std::chrono::milliseconds> delay;
    if (a.delivered) {
        end.status = storage::notification_status::delivered;
        kind = event_kind::notify_delivered;
    } else if (a.refused) {
        end.status = storage::notification_status::refused;
        end.error = a.what;
        kind = event_kind::notify_refused;
    } else if ((delay = notify_retry_delay(n.attempts, rng_()))) {
        end.status = storage::notification_status::pending;
        end.error = a.what;
        end.next_attempt_at = now_millis() + delay->count();
        kind = event_kind::notify_retry;
        detail += "; next attempt at " + rfc3339(end.next_attempt_at);
    } else {
        end.status = storage::notification_status::failed;
        end.error = a.what;
        kind = event_kind::notify_failed;
        detail += "; given up after " + std::to_string(n.attempts) + " attempts";
    }
    const std::string outcome =
        kind == event_kind::notify_retry ? "retry" : std::string(end.status);
    auto ended = store_.end_notification(n.id, owner_, end, now_millis());
    if (!ended) {
        log_warning(n.job_id, about + a.what + "; cannot record it: " + ended.error().message);
        return;
    }
    meters().notifications.add(outcome);
    if (a.delivered)
        log_info(n.job_id, about + "delivered (" + a.what + ")");
    else
        log_warning(n.job_id, about + a.what + " (" + outcome + ")");
    note_event(store_, n.job_id, kind, "", detail);
}

} // namespace stemd::jobs
