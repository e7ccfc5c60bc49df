#include "jobs/job_request.hpp"

#include "client/url.hpp"
#include "common/json_text.hpp"
#include "jobs/error.hpp"

#include <boost/json/parse.hpp>

#include <optional>

namespace stemd::jobs {

namespace json = boost::json;

namespace {

stemd::error invalid(std::string message) {
    return make_error(error::invalid_request, std::move(message));
}

// A JSON list of non-empty strings, as text ("" when absent); the message
// names the field when it is anything else.
result<std::string> string_list(const json::object& o, std::string_view field) {
    auto* v = o.if_contains(field);
    if (!v || v->is_null())
        return std::string();
    if (!v->is_array())
        return invalid(std::string(field) + " must be a list of strings");
    for (const auto& item : v->get_array())
        if (!item.is_string() || item.get_string().empty())
            return invalid(std::string(field) + " must be a list of non-empty strings");
    if (v->get_array().empty())
        return std::string();
    return json_text(*v);
}

result<void> known_fields_only(const json::object& o, bool with_source) {
    for (const auto& [key, value] : o) {
        const bool source = key == "audio_url" || key == "audio_file";
        if ((source && !with_source) ||
            (!source && key != "stems" && key != "preprocessing_options" && key != "eco_mode"))
            return invalid("unknown field \"" + std::string(key) +
                           "\"; known: " + (with_source ? "audio_url, audio_file, " : "") +
                           "stems, preprocessing_options, eco_mode");
    }
    return {};
}

result<void> text(const json::object& o, std::string_view field, std::string& out) {
    auto* f = o.if_contains(field);
    if (!f || f->is_null())
        return {};
    if (!f->is_string())
        return invalid(std::string(field) + " must be a string");
    out = std::string(f->get_string());
    return {};
}

// audio_url or audio_file: exactly one, and usable.
result<void> read_source(const json::object& o, job_request& r) {
    if (auto ok = text(o, "audio_url", r.audio_url); !ok)
        return ok;
    if (auto ok = text(o, "audio_file", r.audio_file); !ok)
        return ok;
    if (r.audio_url.empty() == r.audio_file.empty())
        return invalid(r.audio_url.empty() ? "give either audio_url or audio_file"
                                           : "give either audio_url or audio_file, not both");
    if (!r.audio_url.empty() && !client::parse_http_url(r.audio_url))
        return invalid("audio_url must be an absolute http(s) URL");
    if (!r.audio_file.empty() && r.audio_file.front() != '/')
        return invalid("audio_file must be an absolute path, got \"" + r.audio_file + "\"");
    return {};
}

result<void> read_options(const json::object& o, job_request& r) {
    auto stems = string_list(o, "stems");
    if (!stems)
        return stems.error();
    r.stems_json = *stems;
    auto options = string_list(o, "preprocessing_options");
    if (!options)
        return options.error();
    r.preprocessing_options_json = *options;
    if (auto* eco = o.if_contains("eco_mode"); eco && !eco->is_null()) {
        if (!eco->is_bool())
            return invalid("eco_mode must be true or false");
        r.eco_mode = eco->get_bool();
    }
    return {};
}

result<job_request> parse(std::string_view body, bool with_source) {
    boost::system::error_code ec;
    auto v = json::parse(body, ec);
    if (ec)
        return make_error(error::malformed_request, "body is not valid JSON: " + ec.message());
    if (!v.is_object())
        return make_error(error::malformed_request, "body must be a JSON object");
    const auto& o = v.get_object();
    job_request r;
    if (auto ok = known_fields_only(o, with_source); !ok)
        return ok.error();
    if (with_source)
        if (auto ok = read_source(o, r); !ok)
            return ok.error();
    if (auto ok = read_options(o, r); !ok)
        return ok.error();
    return r;
}

} // namespace

result<job_request> parse_job_request(std::string_view body) {
    return parse(body, true);
}

result<job_request> parse_job_options(std::string_view body) {
    if (body.empty())
        return job_request{};
    return parse(body, false);
}

} // namespace stemd::jobs
