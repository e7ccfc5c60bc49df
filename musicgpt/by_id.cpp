#include "musicgpt/by_id.hpp"

#include "musicgpt/error.hpp"
#include "musicgpt/fields.hpp"
#include "musicgpt/webhook.hpp"

#include <boost/json.hpp>

#include <string>

namespace stemd::musicgpt {

namespace json = boost::json;

namespace {

constexpr std::size_t echo_limit = 200;

} // namespace

result<status_reply> read_status_reply(unsigned http_status, std::string_view body,
                                       std::string_view task_id) {
    status_reply reply;
    reply.refused = refusal_in(http_status, body);
    if (reply.refused)
        return reply;
    // refusal_in found a JSON object.
    json::value answer = json::parse(body);
    json::value* conversion = answer.as_object().if_contains("conversion");
    if (conversion == nullptr || !conversion->is_object())
        return stemd::error{make_error_code(error::bad_answer),
                            "MusicGPT answered the status query for task " +
                                printable(task_id, echo_limit) + " without a conversion record"};
    auto& fields = conversion->as_object();
    if (const auto* id = fields.if_contains("task_id"); id == nullptr || id->is_null())
        fields["task_id"] = task_id;
    auto parsed = parse_record(*conversion);
    if (!parsed)
        return stemd::error{parsed.error().code,
                            "MusicGPT's status answer is unusable: " + parsed.error().message};
    reply.conversion = std::move(*parsed);
    return reply;
}

} // namespace stemd::musicgpt
