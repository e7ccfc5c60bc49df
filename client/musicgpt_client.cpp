#include "client/musicgpt_client.hpp"

#include "client/error.hpp"
#include "client/media_type.hpp"
#include "client/multipart.hpp"
#include "client/url.hpp"
#include "common/text.hpp"

#include <boost/beast/http/empty_body.hpp>

#include <charconv>
#include <optional>
#include <string_view>
#include <utility>

namespace stemd::client {

namespace net = boost::asio;
namespace http = boost::beast::http;
using boost::system::error_code;

namespace {

using response = http::response<http::string_body>;

// MusicGPT's answers are small JSON documents; anything near this is not one.
constexpr std::size_t answer_limit = 1024 * 1024;

const char* const user_agent = "stemd/" STEMD_VERSION;

// A server could echo the key it was sent ("invalid key: ..."); such text
// must not reach logs.
std::string without_secret(std::string message, const std::string& secret) {
    if (secret.empty())
        return message;
    for (auto at = message.find(secret); at != std::string::npos; at = message.find(secret, at)) {
        message.replace(at, secret.size(), "(API key)");
    }
    return message;
}

// Only the delta-seconds form: an HTTP date would need a trustworthy clock
// comparison and MusicGPT is not known to send one.
std::optional<double> retry_after(const response& r) {
    auto it = r.find(http::field::retry_after);
    if (it == r.end())
        return std::nullopt;
    const std::string_view text = trim(it->value());
    unsigned long seconds = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
    if (ec != std::errc() || end != text.data() + text.size() || text.empty())
        return std::nullopt;
    return static_cast<double>(seconds);
}

// What the transport adds to MusicGPT's refusal, and what it takes out.
void complete_refusal(std::optional<musicgpt::refusal>& refused, const response& r,
                      const std::string& secret) {
    if (!refused)
        return;
    refused->retry_after_seconds = retry_after(r);
    refused->error_code = without_secret(std::move(refused->error_code), secret);
    refused->message = without_secret(std::move(refused->message), secret);
}

stemd::error unreachable(error_code ec, const http_url& url) {
    return transport_error(ec, "could not reach " + url.redacted() + ": " + ec.message());
}

std::string base_without_slash(std::string base) {
    while (!base.empty() && base.back() == '/')
        base.pop_back();
    return base;
}

result<http_url> endpoint(const std::string& base_url, const std::string& path) {
    auto url = parse_http_url(base_without_slash(base_url) + path);
    if (!url) {
        return stemd::error{url.error(), "the MusicGPT base URL " + redact(base_url) +
                                             " is not an absolute http(s) URL; fix base_url in "
                                             "the [musicgpt] configuration"};
    }
    return *url;
}

// A header value with CR or LF would end the header early.
result<void> check_key(const std::string& api_key) {
    if (api_key.find_first_of("\r\n") == std::string::npos)
        return {};
    return stemd::error{
        make_error_code(error::bad_api_key),
        "the MusicGPT API key contains a line break; check api_key or api_key_file"};
}

template <class Body>
void set_common_headers(http::request<Body>& req, const http_url& url, const std::string& api_key) {
    req.set(http::field::host, url.host_header());
    req.set(http::field::authorization, api_key);
    req.set(http::field::accept, "application/json");
    req.set(http::field::user_agent, user_agent);
    req.keep_alive(false);
}

multipart_form submit_form(const musicgpt::submission& s, const std::string& api_version) {
    multipart_form form;
    for (auto& field : musicgpt::submit_fields(s, api_version))
        form.add_field(std::move(field.name), std::move(field.value));
    if (const auto& f = s.audio_file; !f.empty())
        form.add_file(std::string(musicgpt::audio_file_field), f.fd, f.offset, f.length, f.name,
                      audio_content_type(f.name));
    return form;
}

// Streams the form and reads the answer. A server may refuse a job (bad
// key, no credits) before taking the whole upload and then close; its
// answer explains more than the broken pipe.
net::awaitable<result<response>> send_form(connection& conn, http::request<http::empty_body>& req,
                                           const multipart_form& form, const http_url& url) {
    multipart_form::reader reader(form);
    std::optional<stemd::error> read_problem;
    const body_source source = [&]() -> boost::system::result<std::span<const char>> {
        auto piece = reader.next();
        if (!piece) {
            read_problem = piece.error();
            return piece.error().code;
        }
        return *piece;
    };
    auto written = co_await conn.write_streaming(req, source);
    if (read_problem) {
        co_await conn.close();
        co_return *read_problem;
    }
    boost::system::result<response> answer = make_error_code(error::timeout);
    if (written || written.error() != error::timeout)
        answer = co_await conn.read(answer_limit);
    co_await conn.close();
    if (!written && !answer)
        co_return unreachable(written.error(), url);
    if (!answer)
        co_return unreachable(answer.error(), url);
    co_return std::move(*answer);
}

} // namespace

musicgpt_client::musicgpt_client(musicgpt_options options, net::ssl::context& tls)
    : options_(std::move(options)), tls_(&tls) {}

net::awaitable<result<musicgpt::submit_reply>>
musicgpt_client::submit(const musicgpt::submission& s) {
    if (auto key = check_key(options_.api_key); !key)
        co_return key.error();
    auto url = endpoint(options_.base_url, "/" + options_.api_version + "/Extraction");
    if (!url)
        co_return url.error();

    const multipart_form form = submit_form(s, options_.api_version);
    auto length = form.content_length();
    if (!length)
        co_return length.error();

    http::request<http::empty_body> req{http::verb::post, url->target, 11};
    set_common_headers(req, *url, options_.api_key);
    req.set(http::field::content_type, form.content_type());
    req.content_length(*length);

    auto conn = co_await connection::open(*url, options_.connect, *tls_);
    if (!conn)
        co_return unreachable(conn.error(), *url);
    auto answer = co_await send_form(*conn, req, form, *url);
    if (!answer)
        co_return answer.error();
    auto reply = musicgpt::read_submit_reply(answer->result_int(), answer->body());
    if (reply)
        complete_refusal(reply->refused, *answer, options_.api_key);
    co_return reply;
}

net::awaitable<result<response>> musicgpt_client::ask_by_id(const std::string& task_id) {
    if (auto key = check_key(options_.api_key); !key)
        co_return key.error();
    auto url = endpoint(options_.base_url,
                        "/v1/byId?conversionType=EXTRACTION&task_id=" + percent_encode(task_id));
    if (!url)
        co_return url.error();

    http::request<http::string_body> req{http::verb::get, url->target, 11};
    set_common_headers(req, *url, options_.api_key);
    auto answer = co_await exchange(*url, std::move(req), options_.connect, *tls_, answer_limit);
    if (!answer)
        co_return unreachable(answer.error(), *url);
    co_return std::move(*answer);
}

net::awaitable<result<key_probe_answer>> musicgpt_client::probe_key(const std::string& task_id) {
    auto answer = co_await ask_by_id(task_id);
    if (!answer)
        co_return answer.error();
    key_probe_answer out;
    out.http_status = answer->result_int();
    if (auto refused = musicgpt::refusal_in(out.http_status, answer->body())) {
        out.error_code = without_secret(std::move(refused->error_code), options_.api_key);
        out.message = without_secret(std::move(refused->message), options_.api_key);
    }
    if (auto date = answer->find(http::field::date); date != answer->end())
        out.date = std::string(date->value());
    co_return out;
}

net::awaitable<result<musicgpt::status_reply>> musicgpt_client::by_id(const std::string& task_id) {
    auto answer = co_await ask_by_id(task_id);
    if (!answer)
        co_return answer.error();
    auto reply = musicgpt::read_status_reply(answer->result_int(), answer->body(), task_id);
    if (reply)
        complete_refusal(reply->refused, *answer, options_.api_key);
    co_return reply;
}

} // namespace stemd::client
