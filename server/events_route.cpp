#include "server/events_route.hpp"

#include "common/json_text.hpp"
#include "common/log.hpp"
#include "common/time.hpp"
#include "jobs/event_hub.hpp"
#include "jobs/service.hpp"
#include "server/error.hpp"
#include "server/reply.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <charconv>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace stemd::server {

namespace net = boost::asio;
namespace http = boost::beast::http;
namespace json = boost::json;
namespace urls = boost::urls;
using steady = std::chrono::steady_clock;

namespace {

// Stored events read from the store per chunk while catching up.
constexpr int replay_page = 200;

std::string job_event_text(const storage::event_record& e, storage::job_status status) {
    const json::object data{{"id", e.id},         {"job_id", e.job_id},
                            {"kind", e.kind},     {"status", storage::to_string(status)},
                            {"file", e.file},     {"detail", e.detail},
                            {"at", rfc3339(e.at)}};
    return "id: " + std::to_string(e.id) + "\nevent: job\ndata: " + json_text(data) + "\n\n";
}

// One open stream: where it is in the event log, and the progress it sent.
struct event_stream {
    jobs::service& service;
    std::string job_id; // "" for all jobs
    std::int64_t last_id = 0;
    bool catching_up = false; // stored events after last_id are still to be read
    events_pacing pacing;
    net::steady_timer wake;
    std::shared_ptr<jobs::event_hub::subscriber> sub;
    steady::time_point next_ping;
    steady::time_point next_progress;
    std::map<std::int64_t, std::uint64_t> sent; // received bytes last sent, by file id
    std::function<bool(millis)> still_allowed;

    event_stream(jobs::service& s, net::any_io_executor ex, events_pacing p)
        : service(s), pacing(p), wake(ex), next_ping(steady::now() + p.ping),
          next_progress(steady::now()) {}

    std::string from_store();
    std::string from_queue();
    std::string progress();
    net::awaitable<std::string> next();
};

// A page of stored events after last_id. The queue is dropped first: every
// event in it is stored already (note_event appends, then publishes), and
// those published from now on are queued again.
// Replayed events carry the job's status now, not the one just after the
// event: the events table has no status column (that would need a schema
// change), and the newest state is what a reader catching up acts on. The
// events of a job no longer there (pruned) are skipped: it has no status
// to show, and nothing to fetch.
std::string event_stream::from_store() {
    sub->queue.clear();
    sub->resync = false;
    auto page = service.events_after(last_id, job_id, replay_page);
    if (!page) {
        log_error("", "GET /v1/events: cannot read stored events: " + page.error().message);
        catching_up = false; // the live ones still come; a reconnect retries
        return {};
    }
    catching_up = static_cast<int>(page->size()) == replay_page;
    std::map<std::string, std::optional<storage::job_status>> status;
    std::string out;
    for (const auto& e : *page) {
        auto known = status.find(e.job_id);
        if (known == status.end()) {
            auto job = service.find(e.job_id);
            if (!job && !job.error().is(condition::not_found)) {
                log_error(e.job_id, "GET /v1/events: cannot read the job: " + job.error().message);
                catching_up = false; // as above
                return out;
            }
            known = status.emplace(e.job_id, job ? std::optional(job->status) : std::nullopt).first;
        }
        if (known->second)
            out += job_event_text(e, *known->second);
        last_id = e.id;
    }
    return out;
}

std::string event_stream::from_queue() {
    std::string out;
    for (const auto& e : sub->queue) {
        if (e.event.id <= last_id)
            continue; // read from the store already
        out += job_event_text(e.event, e.status);
        last_id = e.event.id;
    }
    sub->queue.clear();
    return out;
}

// The table names each download's job and file, so nothing is looked up.
std::string event_stream::progress() {
    const auto& table = service.progress();
    std::string out;
    for (const auto& [id, d] : table) {
        const auto last = sent.find(id);
        if ((!job_id.empty() && d.job_id != job_id) ||
            (last != sent.end() && last->second == d.progress.received))
            continue;
        sent[id] = d.progress.received;
        const auto& p = d.progress;
        const json::object data{
            {"job_id", d.job_id},
            {"file", d.file},
            {"received_bytes", p.received},
            {"total_bytes", p.total ? json::value(*p.total) : json::value(nullptr)}};
        out += "event: progress\ndata: " + json_text(data) + "\n\n";
    }
    // Files no longer downloading are forgotten (a retry starts afresh).
    std::erase_if(sent, [&](const auto& f) { return !table.contains(f.first); });
    return out;
}

net::awaitable<std::string> event_stream::next() {
    for (;;) {
        // Authorised when it opened, but it outlives that request: a
        // signed-out page or a rotated token must stop receiving at once.
        if (still_allowed && !still_allowed(now_millis())) {
            log_info("", "GET /v1/events: a stream ended: its session or API token ended");
            co_return std::string();
        }
        if (catching_up || sub->resync) {
            std::string text = from_store();
            while (text.empty() && catching_up) // a page of pruned jobs' events only
                text = from_store();
            if (!text.empty())
                co_return text;
        }
        if (auto text = from_queue(); !text.empty())
            co_return text;
        const auto now = steady::now();
        if (now >= next_ping) {
            next_ping = now + pacing.ping;
            co_return ": ping\n\n";
        }
        if (now >= next_progress) {
            next_progress = now + pacing.progress;
            if (auto text = progress(); !text.empty())
                co_return text;
        }
        // Woken early by the hub (wake.cancel()) or, when the server
        // stops, cancelled: then this coroutine ends.
        wake.expires_at(std::min(next_ping, next_progress));
        co_await wake.async_wait(net::as_tuple(net::use_awaitable));
        auto cs = co_await net::this_coro::cancellation_state;
        if (cs.cancelled() != net::cancellation_type::none)
            co_return std::string();
    }
}

result<std::int64_t> read_id(std::string_view text, std::string_view what) {
    std::int64_t id = 0;
    const auto* end = text.data() + text.size();
    auto [p, ec] = std::from_chars(text.data(), end, id);
    if (text.empty() || ec != std::errc() || p != end || id < 0)
        return make_error(error::bad_request, std::string(what) +
                                                  " must be an event id (a number from 0), not \"" +
                                                  std::string(text) + "\"");
    return id;
}

struct events_query {
    std::string job_key;
    std::optional<std::int64_t> after;
};

// ?job= and ?after=; a Last-Event-ID header (an EventSource reconnecting)
// wins over ?after=, which the reconnecting client repeats unchanged.
result<events_query> read_query(const listener::request& req, const urls::url_view& url) {
    events_query q;
    for (auto param : url.params()) {
        if (param.key == "job") {
            q.job_key = param.value;
        } else if (param.key == "after") {
            auto id = read_id(param.value, "after");
            if (!id)
                return id.error();
            q.after = *id;
        }
    }
    if (auto last = req.find("Last-Event-ID"); last != req.end()) {
        auto id = read_id(last->value(), "Last-Event-ID");
        if (!id)
            return id.error();
        q.after = *id;
    }
    return q;
}

} // namespace

net::awaitable<listener::reply> events_reply(jobs::service& service, const listener::request& req,
                                             events_pacing pacing,
                                             std::function<bool(millis)> still_allowed) {
    if (req.method() != http::verb::get)
        co_return listener::reply{method_not_allowed({"GET"}, "/v1/events"), {}};
    auto url = urls::parse_origin_form(req.target());
    auto query = url ? read_query(req, *url)
                     : result<events_query>(make_error(error::bad_request, "malformed target"));
    if (!query)
        co_return listener::reply{error_response(query.error()), {}};

    const auto ex = co_await net::this_coro::executor;
    auto s = std::make_shared<event_stream>(service, ex, pacing);
    s->still_allowed = std::move(still_allowed);
    if (!query->job_key.empty()) {
        auto job = service.find(query->job_key);
        if (!job) {
            const bool unknown = http_status(job.error()) == 404;
            if (!unknown)
                log_error("", "GET /v1/events: cannot read job " + query->job_key + ": " +
                                  job.error().message);
            co_return listener::reply{
                unknown ? error_response(404, "no job with id, task_id or conversion_id \"" +
                                                  query->job_key + "\"")
                        : error_response(500, "cannot read the job from the database; see the "
                                              "stemd log"),
                {}};
        }
        s->job_id = job->id;
    }
    s->sub = jobs::hub().subscribe(s->job_id, [w = &s->wake] { w->cancel(); });
    if (!s->sub)
        co_return listener::reply{
            error_response(503, "too many event streams are open (" +
                                    std::to_string(jobs::hub().max_subscribers()) +
                                    "); close one, or try again later"),
            {}};
    if (query->after) {
        s->last_id = *query->after;
        s->catching_up = true;
    } else if (auto newest = service.newest_event_id(); newest) {
        s->last_id = *newest; // live only
    }

    listener::reply r;
    r.message.result(http::status::ok);
    r.message.set(http::field::content_type, "text/event-stream");
    r.message.set(http::field::cache_control, "no-store");
    r.open_ended = true;
    r.stream = [s]() {
        return s->next();
    };
    co_return r;
}

} // namespace stemd::server
