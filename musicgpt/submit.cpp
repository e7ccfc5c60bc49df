#include "musicgpt/submit.hpp"

#include "musicgpt/error.hpp"
#include "musicgpt/fields.hpp"

#include <boost/json.hpp>

namespace stemd::musicgpt {

namespace json = boost::json;

std::vector<form_field> submit_fields(const submission& s, std::string_view api_version) {
    std::vector<form_field> fields;
    if (s.audio_file.empty() && !s.audio_url.empty())
        fields.push_back({"audio_url", s.audio_url});
    if (!s.stems_json.empty())
        fields.push_back({"stems", s.stems_json});
    if (!s.preprocessing_options_json.empty())
        fields.push_back({"preprocessing_options", s.preprocessing_options_json});
    if (api_version == "v2")
        fields.push_back({"eco_mode", s.eco_mode ? "true" : "false"});
    if (!s.webhook_url.empty())
        fields.push_back({"webhook_url", s.webhook_url});
    return fields;
}

result<submit_reply> read_submit_reply(unsigned http_status, std::string_view body) {
    submit_reply reply;
    reply.refused = refusal_in(http_status, body);
    if (reply.refused)
        return reply;
    // refusal_in found a JSON object.
    const json::object o = json::parse(body).as_object();
    submit_answer& a = reply.accepted;
    a.task_id = text_of(o, "task_id");
    if (a.task_id.empty())
        return stemd::error{make_error_code(error::bad_answer),
                            "MusicGPT accepted the job but sent no task_id"};
    a.conversion_id = text_of(o, "conversion_id");
    a.eta = number_in(o.if_contains("eta"));
    a.credit_estimate = number_in(o.if_contains("credit_estimate"));
    a.status = text_of(o, "status");
    return reply;
}

} // namespace stemd::musicgpt
