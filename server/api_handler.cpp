#include "server/api_handler.hpp"

#include "client/url.hpp"
#include "server/job_json.hpp"
#include "server/job_service.hpp"
#include "common/log.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace stemd::server {

namespace net = boost::asio;
namespace http = boost::beast::http;
namespace json = boost::json;
namespace urls = boost::urls;

void throw_exception_from_error(const api_refusal& r, const boost::source_location&) {
    throw std::invalid_argument(r.reason);
}

namespace {

listener::response answer(unsigned status, const json::value& body) {
    listener::response r;
    r.result(status);
    r.set(http::field::content_type, "application/json");
    r.body() = json::serialize(body) + "\n";
    r.prepare_payload();
    return r;
}

listener::response refuse(unsigned status, std::string_view reason) {
    return answer(status, json::object{{"error", reason}});
}

// A JSON list of non-empty strings, as text ("" when absent); the reason
// names the field when it is anything else.
boost::system::result<std::string, api_refusal> string_list(const json::object& o,
                                                            std::string_view field) {
    auto* v = o.if_contains(field);
    if (!v || v->is_null())
        return std::string();
    if (!v->is_array())
        return api_refusal{422, std::string(field) + " must be a list of strings"};
    for (const auto& item : v->get_array())
        if (!item.is_string() || item.get_string().empty())
            return api_refusal{422, std::string(field) + " must be a list of non-empty strings"};
    if (v->get_array().empty())
        return std::string();
    return json::serialize(*v);
}

std::string readable_file_problem(const std::string& path) {
    if (path.empty() || path.front() != '/')
        return "audio_file must be an absolute path, got \"" + path + "\"";
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return "cannot read audio_file " + path + ": " + std::strerror(errno);
    struct stat st {};
    int rc = ::fstat(fd, &st);
    ::close(fd);
    if (rc != 0 || !S_ISREG(st.st_mode))
        return "audio_file " + path + " is not a regular file";
    if (st.st_size == 0)
        return "audio_file " + path + " is empty";
    return {};
}

// Decodes the {key} path segment; "" when it is not one segment.
std::string job_key(std::string_view path) {
    constexpr std::string_view prefix = "/v1/jobs/";
    if (!path.starts_with(prefix))
        return {};
    path.remove_prefix(prefix.size());
    if (path.empty() || path.find('/') != std::string_view::npos)
        return {};
    auto decoded = urls::make_pct_string_view(path);
    return decoded ? decoded->decode() : std::string();
}

net::awaitable<listener::response> create_job(job_service& service, const listener::request& req) {
    auto parsed = parse_job_request(req.body());
    if (!parsed)
        co_return refuse(parsed.error().status, parsed.error().reason);
    auto submitted = co_await service.submit(*parsed);
    if (!submitted) {
        log_error("", "cannot record a new job: " + submitted.error().message);
        co_return refuse(500, "cannot record the job in the database; see the stemd log");
    }
    if (submitted->refused) {
        const auto& f = *submitted->refused;
        co_return answer(502, json::object{
                                  {"error", "MusicGPT refused the job"},
                                  {"upstream_status", f.http_status},
                                  {"upstream_error_code", f.error_code},
                                  {"message", f.message},
                                  {"job", job_to_json(submitted->job)},
                              });
    }
    co_return answer(201, job_to_json(submitted->job));
}

// POST /v1/jobs/{key}/retry: 200 with the job, 404 unknown, 409 when the
// job cannot be retried (the store says why).
listener::response retry_job(job_service& service, const std::string& key) {
    auto job = service.retry(key);
    if (job)
        return answer(200, job_to_json(*job));
    if (job.error().is(condition::not_found))
        return refuse(404, "no job with id, task_id or conversion_id \"" + key + "\"");
    if (job.error().is(condition::conflict))
        return refuse(409, job.error().message);
    log_error("", "cannot retry job " + key + ": " + job.error().message);
    return refuse(500, "cannot update the job in the database; see the stemd log");
}

listener::response list_jobs(job_service& service, const urls::url_view& url) {
    std::optional<storage::job_status> status;
    int limit = 50;
    for (auto param : url.params()) {
        if (param.key == "status" && !param.value.empty()) {
            status = storage::parse_job_status(param.value);
            if (!status)
                return refuse(400, "unknown status \"" + param.value +
                                       "\"; use submitting, submitted, downloading, completed "
                                       "or failed");
        } else if (param.key == "limit") {
            try {
                limit = std::stoi(param.value);
            } catch (const std::exception&) {
                return refuse(400, "limit must be a number from 1 to 1000");
            }
            if (limit < 1 || limit > 1000)
                return refuse(400, "limit must be a number from 1 to 1000");
        }
    }
    auto jobs = service.store().list(status, limit);
    if (!jobs) {
        log_error("", "cannot list jobs: " + jobs.error().message);
        return refuse(500, "cannot read jobs from the database; see the stemd log");
    }
    json::array out;
    for (const auto& j : *jobs)
        out.push_back(job_to_json(j));
    return answer(200, json::object{{"jobs", std::move(out)}});
}

} // namespace

boost::system::result<job_request, api_refusal> parse_job_request(std::string_view body) {
    boost::system::error_code ec;
    auto v = json::parse(body, ec);
    if (ec)
        return api_refusal{400, "body is not valid JSON: " + ec.message()};
    if (!v.is_object())
        return api_refusal{400, "body must be a JSON object"};
    const auto& o = v.get_object();
    for (const auto& [key, value] : o)
        if (key != "audio_url" && key != "audio_file" && key != "stems" &&
            key != "preprocessing_options" && key != "eco_mode")
            return api_refusal{422, "unknown field \"" + std::string(key) +
                                        "\"; known: audio_url, audio_file, stems, "
                                        "preprocessing_options, eco_mode"};

    job_request r;
    auto text = [&](std::string_view field, std::string& out) -> std::optional<api_refusal> {
        auto* f = o.if_contains(field);
        if (!f || f->is_null())
            return std::nullopt;
        if (!f->is_string())
            return api_refusal{422, std::string(field) + " must be a string"};
        out = std::string(f->get_string());
        return std::nullopt;
    };
    if (auto bad = text("audio_url", r.audio_url))
        return *bad;
    if (auto bad = text("audio_file", r.audio_file))
        return *bad;
    if (r.audio_url.empty() == r.audio_file.empty())
        return api_refusal{422, r.audio_url.empty()
                                    ? "give either audio_url or audio_file"
                                    : "give either audio_url or audio_file, not both"};
    if (!r.audio_url.empty() && !client::parse_http_url(r.audio_url))
        return api_refusal{422, "audio_url must be an absolute http(s) URL"};
    if (!r.audio_file.empty())
        if (auto problem = readable_file_problem(r.audio_file); !problem.empty())
            return api_refusal{422, problem};

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
            return api_refusal{422, "eco_mode must be true or false"};
        r.eco_mode = eco->get_bool();
    }
    return r;
}

net::awaitable<listener::response> handle_api(job_service& service, const listener::request& req) {
    auto url = urls::parse_origin_form(req.target());
    if (!url)
        co_return refuse(400, "malformed request target");
    const std::string path = url->path();

    if (path == "/healthz")
        co_return answer(200, json::object{{"ok", true}});
    if (path == "/v1/jobs") {
        if (req.method() == http::verb::post)
            co_return co_await create_job(service, req);
        if (req.method() == http::verb::get)
            co_return list_jobs(service, *url);
        co_return refuse(405, "use GET or POST on /v1/jobs");
    }
    // Matched on the encoded path: a key holding "%2Fretry" is a key.
    if (constexpr std::string_view retry_suffix = "/retry";
        url->encoded_path().ends_with(retry_suffix)) {
        std::string_view encoded = url->encoded_path();
        encoded.remove_suffix(retry_suffix.size());
        auto key = job_key(encoded);
        if (!key.empty()) {
            if (req.method() != http::verb::post)
                co_return refuse(405, "use POST on /v1/jobs/{key}/retry");
            co_return retry_job(service, key);
        }
    }
    if (path.starts_with("/v1/jobs/")) {
        if (req.method() != http::verb::get)
            co_return refuse(405, "use GET on /v1/jobs/{key}");
        auto key = job_key(url->encoded_path());
        if (key.empty())
            co_return refuse(404, "not found");
        auto job = service.store().find(key);
        if (job.has_error() && !job.error().is(condition::not_found))
            log_error("", "cannot read job " + key + ": " + job.error().message);
        if (!job)
            co_return job.error().is(condition::not_found)
                ? refuse(404, "no job with id, task_id or conversion_id \"" + key + "\"")
                : refuse(500, "cannot read the job from the database; see the stemd log");
        co_return answer(200, job_to_json(*job));
    }
    co_return refuse(404, "not found");
}

} // namespace stemd::server
