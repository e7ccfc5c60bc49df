#include "client/musicgpt_client.hpp"

#include "client/error.hpp"
#include "client/multipart.hpp"
#include "client/url.hpp"

#include <boost/beast/http/empty_body.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <charconv>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <utility>

namespace stemd::client {

namespace net = boost::asio;
namespace http = boost::beast::http;
namespace json = boost::json;
using boost::system::error_code;
using boost::system::result;

namespace {

using response = http::response<http::string_body>;

// MusicGPT's answers are small JSON documents; anything near this is not one.
constexpr std::size_t answer_limit = 1024 * 1024;
// How much of a server's own text is repeated in a message.
constexpr std::size_t echo_limit = 200;
constexpr std::size_t message_limit = 500;

const char* const user_agent = "stemd/" STEMD_VERSION;

// The cut of a long text may fall inside a multi-byte character.
void drop_incomplete_utf8_tail(std::string& text) {
    auto byte_at = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
    std::size_t lead = text.size();
    while (lead > 0 && (byte_at(lead - 1) & 0xC0) == 0x80)
        --lead;
    if (lead == 0 || byte_at(lead - 1) < 0xC0)
        return;
    const unsigned char first = byte_at(lead - 1);
    const std::size_t length = first >= 0xF0 ? 4 : first >= 0xE0 ? 3 : 2;
    if (text.size() - (lead - 1) < length)
        text.resize(lead - 1);
}

// Text from a server made fit for one log line: control characters become
// spaces, runs of spaces collapse, and it ends after `limit` bytes without
// splitting a UTF-8 sequence.
std::string printable(std::string_view text, std::size_t limit) {
    std::string out;
    std::size_t used = 0;
    for (; used < text.size() && out.size() < limit; ++used) {
        const auto byte = static_cast<unsigned char>(text[used]);
        if (byte <= 0x20 || byte == 0x7F) {
            if (!out.empty() && out.back() != ' ')
                out += ' ';
        } else {
            out += text[used];
        }
    }
    if (used < text.size())
        drop_incomplete_utf8_tail(out);
    while (!out.empty() && out.back() == ' ')
        out.pop_back();
    if (used < text.size())
        out += "...";
    return out;
}

// A server could echo the key it was sent ("invalid key: ..."); such text
// must not reach logs.
std::string without_secret(std::string message, const std::string& secret) {
    if (secret.empty())
        return message;
    for (auto at = message.find(secret); at != std::string::npos;
         at = message.find(secret, at)) {
        message.replace(at, secret.size(), "(API key)");
    }
    return message;
}

std::optional<json::value> parse_json(std::string_view text) {
    error_code ec;
    json::value v = json::parse(text, ec);
    if (ec)
        return std::nullopt;
    return v;
}

// A string member as is; any other non-null member as compact JSON (FastAPI
// style "detail" is a list of objects).
std::string text_of(const json::object& obj, std::string_view key) {
    const json::value* v = obj.if_contains(key);
    if (v == nullptr || v->is_null())
        return {};
    if (const auto* s = v->if_string())
        return std::string(*s);
    return json::serialize(*v);
}

std::optional<double> number_from_text(std::string_view text) {
    double d = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
    if (ec != std::errc() || end != text.data() + text.size() || text.empty())
        return std::nullopt;
    return d;
}

// MusicGPT sends some numbers as strings ("5.55").
std::optional<double> number_of(const json::object& obj, std::string_view key) {
    const json::value* v = obj.if_contains(key);
    if (v == nullptr)
        return std::nullopt;
    if (v->is_number())
        return v->to_number<double>();
    if (const auto* s = v->if_string())
        return number_from_text(*s);
    return std::nullopt;
}

// Only the delta-seconds form: an HTTP date would need a trustworthy clock
// comparison and MusicGPT is not known to send one.
std::optional<double> retry_after(const response& r) {
    auto it = r.find(http::field::retry_after);
    if (it == r.end())
        return std::nullopt;
    std::string_view text = it->value();
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
        text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
        text.remove_suffix(1);
    unsigned long seconds = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
    if (ec != std::errc() || end != text.data() + text.size() || text.empty())
        return std::nullopt;
    return static_cast<double>(seconds);
}

bool is_success_status(const response& r) { return r.result_int() / 100 == 2; }

// An answer that did not give what was asked. `body` is null when it is not
// JSON.
api_failure failure_from_answer(const response& r, const json::value* body,
                                const std::string& secret) {
    api_failure f;
    f.code = is_success_status(r) ? error::bad_response : error::http_status;
    f.http_status = r.result_int();
    f.retry_after_seconds = retry_after(r);
    const std::string status = std::to_string(f.http_status);
    const json::object* obj = body != nullptr ? body->if_object() : nullptr;
    if (obj == nullptr) {
        f.message = "MusicGPT answered HTTP " + status + " with a non-JSON body";
        if (auto echo = printable(r.body(), echo_limit); !echo.empty())
            f.message += ": " + echo;
        f.message = without_secret(std::move(f.message), secret);
        return f;
    }
    f.error_code = without_secret(printable(text_of(*obj, "error_code"), echo_limit), secret);
    for (std::string_view key : {"message", "detail", "error"}) {
        if (auto text = text_of(*obj, key); !text.empty()) {
            f.message = without_secret(printable(text, message_limit), secret);
            break;
        }
    }
    if (f.message.empty()) {
        f.message = "MusicGPT answered HTTP " + status +
                    (f.error_code.empty() ? "" : " (" + f.error_code + ")") +
                    " without an explanation";
    }
    return f;
}

bool says_failure(const json::object& obj) {
    const json::value* success = obj.if_contains("success");
    return success != nullptr && success->is_bool() && !success->as_bool();
}

result<submit_answer, api_failure> read_submit_answer(const response& r,
                                                      const std::string& secret) {
    const auto body = parse_json(r.body());
    const json::value* v = body ? &*body : nullptr;
    const json::object* obj = v != nullptr ? v->if_object() : nullptr;
    if (!is_success_status(r) || obj == nullptr || says_failure(*obj))
        return failure_from_answer(r, v, secret);

    submit_answer a;
    a.task_id = text_of(*obj, "task_id");
    if (a.task_id.empty()) {
        return api_failure{make_error_code(error::bad_response), r.result_int(), {},
                           "MusicGPT accepted the job but sent no task_id", std::nullopt};
    }
    a.conversion_id = text_of(*obj, "conversion_id");
    a.eta = number_of(*obj, "eta");
    a.credit_estimate = number_of(*obj, "credit_estimate");
    a.status = text_of(*obj, "status");
    return a;
}

result<json::object, api_failure> read_conversion(const response& r, const std::string& task_id,
                                                  const std::string& secret) {
    auto body = parse_json(r.body());
    json::value* v = body ? &*body : nullptr;
    json::object* obj = v != nullptr ? v->if_object() : nullptr;
    if (!is_success_status(r) || obj == nullptr || says_failure(*obj))
        return failure_from_answer(r, v, secret);
    json::value* conversion = obj->if_contains("conversion");
    if (conversion == nullptr || !conversion->is_object()) {
        return api_failure{make_error_code(error::bad_response), r.result_int(), {},
                           "MusicGPT answered the status query for task " +
                               printable(task_id, echo_limit) + " without a conversion record",
                           std::nullopt};
    }
    return std::move(conversion->as_object());
}

api_failure transport_failure(error_code ec, const http_url& url) {
    return {ec, 0, {}, "could not reach " + url.redacted() + ": " + ec.message(), std::nullopt};
}

api_failure file_failure(const file_problem& p) {
    return {p.code, 0, {}, p.message, std::nullopt};
}

// Every byte outside the unreserved set is escaped, so a task id can never
// add parameters to the query.
std::string query_escaped(std::string_view text) {
    static constexpr std::string_view hex = "0123456789ABCDEF";
    std::string out;
    for (char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        const bool unreserved = (byte >= 'A' && byte <= 'Z') || (byte >= 'a' && byte <= 'z') ||
                                (byte >= '0' && byte <= '9') || c == '-' || c == '.' ||
                                c == '_' || c == '~';
        if (unreserved) {
            out += c;
        } else {
            out += '%';
            out += hex[byte >> 4];
            out += hex[byte & 0xF];
        }
    }
    return out;
}

std::string base_without_slash(std::string base) {
    while (!base.empty() && base.back() == '/')
        base.pop_back();
    return base;
}

result<http_url, api_failure> endpoint(const std::string& base_url, const std::string& path) {
    auto url = parse_http_url(base_without_slash(base_url) + path);
    if (!url) {
        return api_failure{url.error(), 0, {},
                           "the MusicGPT base URL " + redact(base_url) +
                               " is not an absolute http(s) URL; fix base_url in the "
                               "[musicgpt] configuration",
                           std::nullopt};
    }
    return *url;
}

// A header value with CR or LF would end the header early.
bool header_safe(const std::string& value) {
    return value.find_first_of("\r\n") == std::string::npos;
}

api_failure unusable_key() {
    return {make_error_code(boost::system::errc::invalid_argument), 0, {},
            "the MusicGPT API key contains a line break; check api_key or api_key_file",
            std::nullopt};
}

template <class Body>
void set_common_headers(http::request<Body>& req, const http_url& url,
                        const std::string& api_key) {
    req.set(http::field::host, url.host_header());
    req.set(http::field::authorization, api_key);
    req.set(http::field::accept, "application/json");
    req.set(http::field::user_agent, user_agent);
    req.keep_alive(false);
}

multipart_form submit_form(const submit_request& r, const std::string& api_version) {
    multipart_form form;
    // Fields first, so a server can refuse the job before the upload.
    if (r.audio_file.empty() && !r.audio_url.empty())
        form.add_field("audio_url", r.audio_url);
    if (!r.stems_json.empty())
        form.add_field("stems", r.stems_json);
    if (!r.preprocessing_options_json.empty())
        form.add_field("preprocessing_options", r.preprocessing_options_json);
    if (api_version == "v2")
        form.add_field("eco_mode", r.eco_mode ? "true" : "false");
    if (!r.webhook_url.empty())
        form.add_field("webhook_url", r.webhook_url);
    if (!r.audio_file.empty())
        form.add_file("audio_file", r.audio_file, audio_content_type(r.audio_file));
    return form;
}

} // namespace

void throw_exception_from_error(const api_failure& f, const boost::source_location&) {
    throw std::runtime_error(f.message);
}

musicgpt_client::musicgpt_client(musicgpt_options options, net::ssl::context& tls)
    : options_(std::move(options)), tls_(&tls) {}

net::awaitable<result<submit_answer, api_failure>>
musicgpt_client::submit(const submit_request& r) {
    if (!header_safe(options_.api_key))
        co_return unusable_key();
    auto url = endpoint(options_.base_url, "/" + options_.api_version + "/Extraction");
    if (!url)
        co_return url.error();

    const multipart_form form = submit_form(r, options_.api_version);
    auto length = form.content_length();
    if (!length)
        co_return file_failure(length.error());

    http::request<http::empty_body> req{http::verb::post, url->target, 11};
    set_common_headers(req, *url, options_.api_key);
    req.set(http::field::content_type, form.content_type());
    req.content_length(*length);

    auto conn = co_await connection::open(*url, options_.connect, *tls_);
    if (!conn)
        co_return transport_failure(conn.error(), *url);

    multipart_form::reader reader(form);
    std::optional<file_problem> read_problem;
    const body_source source = [&]() -> result<std::span<const char>> {
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
        co_return file_failure(*read_problem);
    }
    // A server may refuse a job (bad key, no credits) before taking the whole
    // upload and then close; its answer explains more than the broken pipe.
    result<response> answer = make_error_code(error::timeout);
    if (written || written.error() != error::timeout)
        answer = co_await conn->read(answer_limit);
    co_await conn->close();
    if (!written && !answer)
        co_return transport_failure(written.error(), *url);
    if (!answer)
        co_return transport_failure(answer.error(), *url);
    co_return read_submit_answer(*answer, options_.api_key);
}

net::awaitable<result<json::object, api_failure>>
musicgpt_client::by_id(const std::string& task_id) {
    if (!header_safe(options_.api_key))
        co_return unusable_key();
    auto url = endpoint(options_.base_url,
                        "/v1/byId?conversionType=EXTRACTION&task_id=" + query_escaped(task_id));
    if (!url)
        co_return url.error();

    http::request<http::string_body> req{http::verb::get, url->target, 11};
    set_common_headers(req, *url, options_.api_key);
    auto answer = co_await exchange(*url, std::move(req), options_.connect, *tls_, answer_limit);
    if (!answer)
        co_return transport_failure(answer.error(), *url);
    co_return read_conversion(*answer, task_id, options_.api_key);
}

} // namespace stemd::client
