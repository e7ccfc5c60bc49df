#include "jobs/job_request.hpp"

#include "client/url.hpp"
#include "common/posix_file.hpp"
#include "jobs/error.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
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
    return json::serialize(*v);
}

// "" when `path` names a non-empty regular file stemd can read.
std::string readable_file_problem(const std::string& path) {
    if (path.empty() || path.front() != '/')
        return "audio_file must be an absolute path, got \"" + path + "\"";
    unique_fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd)
        return "cannot read audio_file " + path + ": " + std::strerror(errno);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode))
        return "audio_file " + path + " is not a regular file";
    if (st.st_size == 0)
        return "audio_file " + path + " is empty";
    return {};
}

result<void> known_fields_only(const json::object& o) {
    for (const auto& [key, value] : o)
        if (key != "audio_url" && key != "audio_file" && key != "stems" &&
            key != "preprocessing_options" && key != "eco_mode")
            return invalid("unknown field \"" + std::string(key) +
                           "\"; known: audio_url, audio_file, stems, preprocessing_options, "
                           "eco_mode");
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
    if (!r.audio_file.empty())
        if (auto problem = readable_file_problem(r.audio_file); !problem.empty())
            return invalid(problem);
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

} // namespace

result<job_request> parse_job_request(std::string_view body) {
    boost::system::error_code ec;
    auto v = json::parse(body, ec);
    if (ec)
        return make_error(error::malformed_request, "body is not valid JSON: " + ec.message());
    if (!v.is_object())
        return make_error(error::malformed_request, "body must be a JSON object");
    const auto& o = v.get_object();
    job_request r;
    if (auto ok = known_fields_only(o); !ok)
        return ok.error();
    if (auto ok = read_source(o, r); !ok)
        return ok.error();
    if (auto ok = read_options(o, r); !ok)
        return ok.error();
    return r;
}

} // namespace stemd::jobs
