#include "cli/api_client.hpp"

#include "cli/error.hpp"
#include "cli/format.hpp"
#include "cli/job_view.hpp"
#include "client/connection.hpp"
#include "client/error.hpp"
#include "common/text.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <array>
#include <chrono>
#include <exception>
#include <optional>
#include <utility>
#include <vector>

namespace stemd::cli {

namespace {

namespace http = boost::beast::http;
namespace json = boost::json;
namespace net = boost::asio;
using namespace std::chrono_literals;
using boost::system::error_code;

constexpr std::size_t answer_limit = 64 * 1024 * 1024;

// Runs one coroutine to its end on a private io_context: each client command
// makes a handful of requests one after another, so nothing else needs to run.
template <typename T> T run_to_completion(net::awaitable<T> task) {
    net::io_context ioc(1);
    std::optional<T> out;
    std::exception_ptr thrown;
    net::co_spawn(ioc, std::move(task), [&](std::exception_ptr e, T value) {
        thrown = e;
        if (!e)
            out.emplace(std::move(value));
    });
    ioc.run();
    if (thrown)
        std::rethrow_exception(thrown);
    return std::move(*out);
}

client::connect_options options_for(method m) {
    client::connect_options options;
    options.allow_http = true;
    options.allow_private_addresses = true;
    options.connect_timeout = 5s;
    // A submission answers only after MusicGPT has taken the audio, which
    // for an uploaded file can take minutes.
    options.io_timeout = m == method::post ? std::chrono::milliseconds(15min) : 60s;
    return options;
}

std::string describe_upstream(const json::object& body) {
    std::string out;
    // 0 means MusicGPT was not reached at all; the message says why.
    if (const auto upstream = unsigned_field(body, "upstream_status"); upstream && *upstream > 0)
        out += " with HTTP " + std::to_string(*upstream);
    if (const auto* said = body.if_contains("message");
        said && said->is_string() && !said->get_string().empty())
        out += ": " + printable(said->get_string());
    if (const auto* job = body.if_contains("job"); job && job->is_object()) {
        if (const auto id = text_field(job->get_object(), "id"); !id.empty())
            out += " (recorded as failed job " + id + ")";
    }
    return out;
}

std::string describe_error(const json::object& body, unsigned status) {
    std::string out;
    if (const auto* error = body.if_contains("error"); error && error->is_string())
        out += ": " + printable(error->get_string());
    return status == 502 ? out + describe_upstream(body) : out;
}

stemd::error transport_failure(const error_code& ec, const std::string& where) {
    if (ec == client::error::body_too_large || ec == client::error::bad_response ||
        ec == client::error::length_mismatch)
        return failure(error::bad_answer, "the stemd API at " + where +
                                              " sent an unusable answer: " + ec.message() +
                                              "; is another program listening there?");
    return failure(error::unreachable,
                   "cannot reach the stemd API at " + where + ": " + ec.message() +
                       "; is `stemd serve` running, and is --api (or api.listen in the "
                       "configuration) right?");
}

// Streams the form; an API that refuses the upload early (413) answers and
// closes, and its answer says more than the broken pipe.
net::awaitable<boost::system::result<http::response<http::string_body>>>
post_form(client::http_url url, http::request<http::empty_body> req,
          const client::multipart_form& form, std::shared_ptr<net::ssl::context> tls) {
    auto conn = co_await client::connection::open(url, options_for(method::post), *tls);
    if (!conn)
        co_return conn.error();
    client::multipart_form::reader reader(form);
    std::optional<stemd::error> read_problem;
    const client::body_source source = [&]() -> boost::system::result<std::span<const char>> {
        auto piece = reader.next();
        if (!piece) {
            read_problem = piece.error();
            return piece.error().code;
        }
        return *piece;
    };
    auto written = co_await conn->write_streaming(req, source);
    if (read_problem) {
        co_await conn->close();
        co_return read_problem->code;
    }
    auto answer = co_await conn->read(answer_limit);
    co_await conn->close();
    if (!answer)
        co_return written ? answer.error() : written.error();
    co_return answer;
}

// The text/event-stream format, fed bytes in any split: complete events
// come back; comments and unknown fields are dropped.
class event_parser {
public:
    std::vector<stream_event> feed(std::string_view bytes) {
        std::vector<stream_event> out;
        pending_ += bytes;
        std::size_t start = 0;
        for (auto end = pending_.find('\n'); end != std::string::npos;
             end = pending_.find('\n', start)) {
            std::string_view line(pending_.data() + start, end - start);
            start = end + 1;
            if (line.ends_with('\r'))
                line.remove_suffix(1);
            take(line, out);
        }
        pending_.erase(0, start);
        return out;
    }

private:
    void take(std::string_view line, std::vector<stream_event>& out) {
        if (line.empty()) {
            if (any_)
                out.push_back(std::exchange(current_, {}));
            any_ = false;
            return;
        }
        if (line.front() == ':')
            return;
        const auto colon = line.find(':');
        const auto field = line.substr(0, colon);
        auto value = colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
        if (value.starts_with(' '))
            value.remove_prefix(1);
        any_ = true;
        if (field == "id")
            current_.id = value;
        else if (field == "event")
            current_.event = value;
        else if (field == "data")
            current_.data += (current_.data.empty() ? "" : "\n") + std::string(value);
    }

    std::string pending_;
    stream_event current_;
    bool any_ = false;
};

struct stream_outcome {
    boost::system::error_code failed; // no connection, or it broke before the header
    unsigned status = 0;
    std::string body; // a refusal's body (bounded)
    bool stopped = false;
};

net::awaitable<stream_outcome>
read_stream(client::http_url url, http::request<http::string_body> req,
            client::connect_options options, std::shared_ptr<net::ssl::context> tls,
            const std::function<bool()>& on_open,
            const std::function<bool(const stream_event&)>& on_event) {
    stream_outcome out;
    auto conn = co_await client::connection::open(url, options, *tls);
    if (!conn) {
        out.failed = conn.error();
        co_return out;
    }
    if (auto written = co_await conn->write(req); !written) {
        out.failed = written.error();
        co_return out;
    }
    http::response_parser<http::buffer_body> parser;
    parser.body_limit(boost::none); // open-ended: bounded by what is read per event instead
    if (auto header = co_await conn->read_header(parser); !header) {
        out.failed = header.error();
        co_return out;
    }
    out.status = parser.get().result_int();
    event_parser events;
    std::array<char, 16 * 1024> buffer{};
    const bool streaming = out.status == 200;
    if (streaming && !on_open()) {
        out.stopped = true;
        co_return out;
    }
    while (!parser.is_done()) {
        auto n = co_await conn->read_some(parser, buffer);
        if (!n || *n == 0)
            break; // dropped, or the end: the caller reconnects
        const std::string_view got(buffer.data(), *n);
        if (!streaming) {
            if (out.body.size() < 64 * 1024)
                out.body += got;
            continue;
        }
        for (const auto& e : events.feed(got)) {
            if (!on_event(e)) {
                out.stopped = true;
                co_return out;
            }
        }
    }
    co_return out;
}

} // namespace

result<stream_end> api_client::read_events(const std::string& target,
                                           const std::string& last_event_id,
                                           std::chrono::milliseconds silence,
                                           const std::function<bool()>& on_open,
                                           const std::function<bool(const stream_event&)>& on_event,
                                           std::string_view action) const {
    http::request<http::string_body> req{http::verb::get, prefix_ + target, 11};
    req.set(http::field::host, base_.host_header());
    req.set(http::field::user_agent, "stemd/" STEMD_VERSION);
    req.set(http::field::accept, "text/event-stream");
    req.set(http::field::authorization, "Bearer " + token_);
    if (!last_event_id.empty())
        req.set("Last-Event-ID", last_event_id);
    auto options = options_for(method::get);
    options.io_timeout = silence;
    auto out =
        run_to_completion(read_stream(base_, std::move(req), options, tls_, on_open, on_event));
    if (out.failed)
        return transport_failure(out.failed, where());
    if (out.status == 404)
        return failure(error::no_job,
                       "no job for " + std::string(action) + "; `stemd list` shows the known jobs");
    if (out.status != 200)
        return refusal(answer{out.status, std::move(out.body)}, action);
    return out.stopped ? stream_end::stopped : stream_end::dropped;
}

result<answer> api_client::upload(const std::string& target,
                                  const client::multipart_form& form) const {
    auto length = form.content_length();
    if (!length)
        return failure(error::no_file, length.error().message);
    http::request<http::empty_body> req{http::verb::post, prefix_ + target, 11};
    req.set(http::field::host, base_.host_header());
    req.set(http::field::user_agent, "stemd/" STEMD_VERSION);
    req.set(http::field::accept, "application/json");
    req.set(http::field::authorization, "Bearer " + token_);
    req.set(http::field::content_type, form.content_type());
    req.content_length(*length);
    req.keep_alive(false);
    auto response = run_to_completion(post_form(base_, std::move(req), form, tls_));
    if (!response && response.error() == client::error::file_io)
        return failure(error::no_file, "the file to upload could not be read while it was sent; "
                                       "submit it again once nothing writes to it");
    if (!response)
        return transport_failure(response.error(), where());
    return answer{response->result_int(), std::move(response->body())};
}

api_client::api_client(client::http_url base, std::string token,
                       std::shared_ptr<net::ssl::context> tls)
    : base_(std::move(base)), prefix_(base_.target), token_(std::move(token)),
      tls_(std::move(tls)) {
    while (!prefix_.empty() && prefix_.back() == '/')
        prefix_.pop_back();
}

result<answer> api_client::call(method m, const std::string& target, std::string body) const {
    http::request<http::string_body> req{m == method::post ? http::verb::post : http::verb::get,
                                         prefix_ + target, 11};
    req.set(http::field::user_agent, "stemd/" STEMD_VERSION);
    req.set(http::field::accept, "application/json");
    req.set(http::field::authorization, "Bearer " + token_);
    // Every POST, even one without a body: the API refuses other types.
    if (m == method::post)
        req.set(http::field::content_type, "application/json");
    req.body() = std::move(body);
    auto response = run_to_completion(
        client::exchange(base_, std::move(req), options_for(m), *tls_, answer_limit));
    if (!response)
        return transport_failure(response.error(), where());
    return answer{response->result_int(), std::move(response->body())};
}

result<answer> api_client::call_job(method m, const std::string& key, std::string_view suffix,
                                    std::string_view action) const {
    auto a = call(m, "/v1/jobs/" + percent_encode(key) + std::string(suffix));
    if (!a)
        return a.error();
    if (a->status == 404)
        return failure(error::no_job,
                       "no job " + printable(key, 100) + "; `stemd list` shows the known jobs");
    if (a->status != 200)
        return refusal(*a, std::string(action) + " " + printable(key, 100));
    return a;
}

result<json::object> api_client::object_of(const answer& a) const {
    error_code ec;
    auto value = json::parse(a.body, ec);
    if (ec || !value.is_object())
        return failure(error::bad_answer, "the stemd API at " + where() + " answered HTTP " +
                                              std::to_string(a.status) +
                                              " with something other than a JSON object; is "
                                              "another program listening there?");
    return std::move(value.as_object());
}

stemd::error api_client::refusal(const answer& a, std::string_view action) const {
    std::string message = "the stemd API refused to " + std::string(action) + " (HTTP " +
                          std::to_string(a.status) + ")";
    error_code ec;
    const auto value = json::parse(a.body, ec);
    const auto described =
        !ec && value.is_object() ? describe_error(value.as_object(), a.status) : std::string();
    if (!described.empty())
        message += described;
    else
        message += (a.body.empty() ? "" : ": " + printable(a.body, 200)) +
                   "; is --api pointing at a stemd API?";
    if (a.status >= 500 && a.status != 502)
        message += "; the log of `stemd serve` has the details";
    return failure(error::refused, std::move(message));
}

std::string api_client::where() const {
    std::string text = base_.redacted();
    if (text.ends_with('/'))
        text.pop_back();
    return text;
}

result<api_client> open_api(const api_address& address) {
    auto base = api_base_url(address);
    if (!base)
        return base.error();
    auto token = api_token(address);
    if (!token)
        return token.error();
    try {
        return api_client(std::move(*base), std::move(*token), client::make_tls_client_context(""));
    } catch (const std::exception& e) {
        return failure(error::tls,
                       std::string("cannot set up TLS for the API connection: ") + e.what());
    }
}

} // namespace stemd::cli
