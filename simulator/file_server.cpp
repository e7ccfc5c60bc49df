#include "simulator/file_server.hpp"

#include "simulator/api_reply.hpp"
#include "simulator/byte_range.hpp"
#include "simulator/decimal.hpp"
#include "simulator/error.hpp"
#include "simulator/stem_audio.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/url/url.hpp>

#include <algorithm>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <utility>

namespace stemd::simulator {

namespace net = boost::asio;
namespace http = boost::beast::http;
using listener::reply;

namespace {

constexpr std::size_t chunk_bytes = 64 * 1024;

// Thrown from a body stream to end the connection abruptly, as a crash or a
// cut cable would: the exception ends http_server's connection coroutine,
// which closes the socket without finishing the body or TLS.
struct dropped_connection : std::runtime_error {
    dropped_connection()
        : std::runtime_error("simulated fault: connection dropped mid-body, as the link asked") {}
};

struct body_stream {
    body_stream(std::shared_ptr<counters> c, std::string p)
        : stats(std::move(c)), path(std::move(p)) {
        stats->body_started(path);
    }
    // However the body ends (sent, cut, the peer gone), the stream is
    // released with the reply: the GET is no longer in flight.
    ~body_stream() { stats->body_ended(path); }
    body_stream(const body_stream&) = delete;
    body_stream& operator=(const body_stream&) = delete;

    std::shared_ptr<counters> stats; // for the byte counter
    std::string path;                // "/files/<task>/<stem>.wav"
    std::string task_id;
    std::string stem;
    std::uint64_t total = 0;
    std::uint64_t next = 0;
    std::uint64_t end = 0; // exclusive
    std::uint64_t rate = 0;
    std::uint64_t sent = 0;
    std::optional<std::chrono::steady_clock::time_point> started;
    // A fault: the body breaks off at this offset; after `silence` the
    // connection is dropped.
    std::optional<std::uint64_t> break_at;
    std::chrono::seconds silence{0};
};

net::awaitable<void> sleep_until(std::chrono::steady_clock::time_point when) {
    net::steady_timer timer(co_await net::this_coro::executor, when);
    co_await timer.async_wait(net::use_awaitable);
}

// The next chunk of a file body; "" at the end. With a rate, each chunk is
// held back until the average since the first chunk is down to that rate.
net::awaitable<std::string> next_chunk(std::shared_ptr<body_stream> s) {
    if (s->break_at && s->next >= *s->break_at) {
        if (s->silence.count() > 0) {
            co_await sleep_until(std::chrono::steady_clock::now() + s->silence);
        }
        throw dropped_connection();
    }
    if (s->next >= s->end) {
        co_return std::string{};
    }
    if (!s->started) {
        s->started = std::chrono::steady_clock::now();
    }
    const std::uint64_t stop = s->break_at ? std::min(s->end, *s->break_at) : s->end;
    const std::uint64_t n = std::min<std::uint64_t>(chunk_bytes, stop - s->next);
    std::string chunk = stem_audio_range(s->task_id, s->stem, s->total, s->next, n);
    s->next += n;
    s->sent += n;
    s->stats->bytes_served += n;
    if (s->rate > 0) {
        const std::chrono::duration<double> due(static_cast<double>(s->sent) /
                                                static_cast<double>(s->rate));
        co_await sleep_until(*s->started +
                             std::chrono::duration_cast<std::chrono::nanoseconds>(due));
    }
    co_return chunk;
}

// One body fault per request; the Content-Length still announces the whole
// body, which is the point.
void break_body(body_stream& s, const fault_plan& plan, counters& stats) {
    const std::uint64_t length = s.end - s.next;
    if (plan.short_body) {
        stats.count_fault("short");
        s.break_at = s.end - std::min<std::uint64_t>(1, length);
    } else if (plan.close_mid) {
        stats.count_fault("close-mid");
        s.break_at = s.next + length / 2;
    } else if (plan.stall.count() > 0) {
        stats.count_fault("stall");
        s.break_at = s.next + length / 2;
        s.silence = plan.stall;
    }
}

// The link's own fault list and how far along a redirect chain it is.
struct link_faults {
    result<fault_plan> plan = fault_plan{};
    std::uint64_t hop = 0;
};

link_faults read_link_faults(const boost::urls::url_view& link) {
    link_faults out;
    for (const auto& param : link.params()) {
        if (param.key == "fault") {
            out.plan = parse_faults(param.value);
        } else if (param.key == "hop") {
            out.hop = parse_decimal(param.value).value_or(0);
        }
    }
    return out;
}

struct stem_file {
    std::shared_ptr<const task> owner;
    std::string stem;
};

// The stem a /files/<task>/<stem>.wav path names. Like the real CDN, a stem
// exists only once its task has completed.
result<stem_file> find_file(const task_table& tasks, std::string_view path) {
    const std::string_view rest = path.substr(std::string_view("/files/").size());
    const auto slash = rest.find('/');
    const std::string_view name =
        slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
    const std::string stem(name.substr(0, name.size() - std::min<std::size_t>(4, name.size())));
    auto t = tasks.find(rest.substr(0, slash));
    if (!name.ends_with(".wav") || !t || t->fail || !t->ready() ||
        std::find(t->stems.begin(), t->stems.end(), stem) == t->stems.end()) {
        return make_error(error::not_found, "no such stem file");
    }
    return stem_file{std::move(t), stem};
}

// The bytes to send of a file of `size` bytes: the Range asked for, unless
// the fault no-range ignores it or If-Range names another version.
byte_range requested_range(const listener::request& req, const fault_plan& plan,
                           const std::string& etag, std::uint64_t size, counters& stats) {
    byte_range range;
    if (const auto header = req.find(http::field::range); header != req.end()) {
        ++stats.range_requests;
        const auto if_range = req.find(http::field::if_range);
        if (plan.no_range) {
            ++stats.ranges_ignored;
            stats.count_fault("no-range");
        } else if (if_range == req.end() || if_range->value() == etag) {
            range = interpret_range(header->value(), size);
        }
    }
    if (range.what == byte_range::kind::whole) {
        range.first = 0;
        range.last = size == 0 ? 0 : size - 1;
    }
    return range;
}

reply file_headers(const byte_range& range, std::uint64_t size, const std::string& etag,
                   bool ranges) {
    reply r;
    const bool part = range.what == byte_range::kind::part;
    r.message.result(part ? http::status::partial_content : http::status::ok);
    r.message.set(http::field::content_type, "audio/wav");
    r.message.set(http::field::accept_ranges, ranges ? "bytes" : "none");
    r.message.set(http::field::etag, etag);
    if (part) {
        r.message.set(http::field::content_range, "bytes " + std::to_string(range.first) + "-" +
                                                      std::to_string(range.last) + "/" +
                                                      std::to_string(size));
    }
    r.message.content_length(size == 0 ? 0 : range.last - range.first + 1);
    return r;
}

} // namespace

// Where the current hop of a redirect fault sends the client: the same
// link one hop further, or, for a loop, back to where the chain began.
reply file_server::redirect(const boost::urls::url_view& link, std::uint64_t hop,
                            const fault_plan& plan) {
    ++stats_->redirects_served;
    if (hop == 0) {
        stats_->count_fault(plan.redirect_loop ? "redirect-loop"
                                               : "redirect-" + std::to_string(plan.redirects));
    }
    boost::urls::url next(link);
    if (plan.redirect_loop && hop > 0) {
        next.params().erase("hop");
    } else {
        next.params().set("hop", std::to_string(hop + 1));
    }
    reply r;
    r.message.result(http::status::found);
    r.message.set(http::field::location, links_.public_url() + std::string(next.encoded_target()));
    r.message.prepare_payload();
    return r;
}

reply file_server::serve(const listener::request& req, const boost::urls::url_view& link) {
    ++stats_->file_requests;
    auto file = find_file(tasks_, link.encoded_path());
    const link_faults faults = read_link_faults(link);
    if (!file || !faults.plan) {
        return api_error(!file ? file.error() : faults.plan.error());
    }
    const fault_plan& plan = *faults.plan;
    if (plan.gone) {
        stats_->count_fault("gone");
        return api_error(make_error(error::not_found, "no such stem file (fault gone)"));
    }
    if (plan.redirect_loop || faults.hop < plan.redirects) {
        return redirect(link, faults.hop, plan);
    }
    const bool first_request =
        plan.one_shot() && faulted_files_.insert(file->owner->task_id + "/" + file->stem).second;
    if (first_request && plan.unavailable_once) {
        stats_->count_fault("503-once");
        reply r = api_error(make_error(error::unavailable, "simulated outage (fault 503-once)"));
        r.message.set(http::field::retry_after, "1");
        return r;
    }
    const std::string etag =
        "\"" + file->owner->task_id + "-" + file->stem + "-" + std::to_string(stem_bytes_) + "\"";
    const byte_range range = requested_range(req, plan, etag, stem_bytes_, *stats_);
    if (range.what == byte_range::kind::unsatisfiable) {
        reply r = api_error(make_error(error::range_not_satisfiable,
                                       "the range starts beyond the end of the file"));
        r.message.set(http::field::content_range, "bytes */" + std::to_string(stem_bytes_));
        return r;
    }
    reply r = file_headers(range, stem_bytes_, etag, !plan.no_range);
    auto s = std::make_shared<body_stream>(stats_, std::string(link.encoded_path()));
    s->task_id = file->owner->task_id;
    s->stem = file->stem;
    s->total = stem_bytes_;
    s->next = range.first;
    s->end = range.first + (stem_bytes_ == 0 ? 0 : range.last - range.first + 1);
    s->rate = rate_;
    if (first_request) {
        break_body(*s, plan, *stats_);
    }
    r.stream = [s] {
        return next_chunk(s);
    };
    return r;
}

} // namespace stemd::simulator
