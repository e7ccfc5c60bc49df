#include "musicgpt/refusal.hpp"

#include "musicgpt/fields.hpp"

#include <boost/json.hpp>

namespace stemd::musicgpt {

namespace json = boost::json;

namespace {

// How much of a server's own text is repeated in a message.
constexpr std::size_t echo_limit = 200;
constexpr std::size_t message_limit = 500;

bool says_failure(const json::object& o) {
    const json::value* success = o.if_contains("success");
    return success != nullptr && success->is_bool() && !success->as_bool();
}

// MusicGPT's error body: {"error_code": ..., "message": ...}, or the
// "detail" / "error" some of its endpoints send instead of a message.
refusal from_error_body(unsigned http_status, const json::object& o) {
    refusal r;
    r.http_status = http_status;
    r.error_code = printable(text_of(o, "error_code"), echo_limit);
    for (std::string_view key : {"message", "detail", "error"}) {
        if (auto text = text_of(o, key); !text.empty()) {
            r.message = printable(text, message_limit);
            break;
        }
    }
    if (r.message.empty()) {
        r.message = "MusicGPT answered HTTP " + std::to_string(http_status) +
                    (r.error_code.empty() ? "" : " (" + r.error_code + ")") +
                    " without an explanation";
    }
    return r;
}

} // namespace

std::optional<refusal> refusal_in(unsigned http_status, std::string_view body) {
    boost::system::error_code ec;
    const json::value parsed = json::parse(body, ec);
    const json::object* o = ec ? nullptr : parsed.if_object();
    if (o == nullptr) {
        refusal r;
        r.http_status = http_status;
        r.message =
            "MusicGPT answered HTTP " + std::to_string(http_status) + " with a non-JSON body";
        if (auto echo = printable(body, echo_limit); !echo.empty())
            r.message += ": " + echo;
        return r;
    }
    if (http_status / 100 != 2 || says_failure(*o))
        return from_error_body(http_status, *o);
    return std::nullopt;
}

} // namespace stemd::musicgpt
