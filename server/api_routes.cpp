#include "server/api_routes.hpp"

#include "client/url.hpp"
#include "common/log.hpp"
#include "common/time.hpp"
#include "jobs/object_store.hpp"
#include "jobs/service.hpp"
#include "server/doctor.hpp"
#include "server/error.hpp"
#include "server/events_route.hpp"
#include "server/file_route.hpp"
#include "server/job_json.hpp"
#include "server/jobs_list_route.hpp"
#include "server/notifications_route.hpp"
#include "server/page_route.hpp"
#include "server/prune_route.hpp"
#include "server/reply.hpp"
#include "server/rooted_file.hpp"
#include "server/session_route.hpp"
#include "server/stem_files.hpp"
#include "server/upload_form.hpp"
#include "server/waveform_route.hpp"

#include <boost/json/array.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

namespace stemd::server {

namespace net = boost::asio;
namespace http = boost::beast::http;
namespace json = boost::json;
namespace urls = boost::urls;

namespace {

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

// A failure about the job `key`: 404 naming the key, the store's reason
// for a conflict, a logged 500 with `generic` for anything else.
listener::response job_failure(const stemd::error& e, const std::string& key,
                               std::string_view doing, std::string_view generic) {
    const unsigned status = http_status(e);
    if (status == 404)
        return error_response(404, "no job with id, task_id or conversion_id \"" + key + "\"");
    if (status != 500)
        return error_response(status, e.message);
    log_error("", "cannot " + std::string(doing) + " job " + key + ": " + e.message);
    return error_response(500, generic);
}

net::awaitable<listener::response> submit_job(jobs::service& service, const jobs::job_request& r) {
    auto submitted = co_await service.submit(r);
    if (!submitted) {
        log_error("", "cannot record a new job: " + submitted.error().message);
        co_return error_response(500, "cannot record the job in the database; see the stemd log");
    }
    if (submitted->refused) {
        const auto& f = *submitted->refused;
        auto body = error_body("MusicGPT refused the job");
        body["upstream_status"] = f.http_status;
        body["upstream_error_code"] = f.error_code;
        body["message"] = f.message;
        body["job"] = job_to_json(submitted->job);
        co_return json_response(502, body);
    }
    co_return json_response(201, job_to_json(submitted->job));
}

// JSON: audio_url, or audio_file opened beneath api.file_roots only; the
// descriptor opened there is the one uploaded.
net::awaitable<listener::response> create_job(jobs::service& service, const listener::request& req,
                                              const api_options& options) {
    auto parsed = jobs::parse_job_request(req.body());
    if (!parsed)
        co_return error_response(parsed.error());
    if (parsed->audio_file.empty())
        co_return co_await submit_job(service, *parsed);
    auto file = open_beneath(options.file_roots, parsed->audio_file);
    if (!file)
        co_return error_response(file.error());
    parsed->upload = {.fd = file->fd.get(),
                      .length = file->size,
                      .name = std::filesystem::path(parsed->audio_file).filename().string()};
    co_return co_await submit_job(service, *parsed);
}

// multipart/form-data: the file the client sent, spooled by the listener.
net::awaitable<listener::response> create_uploaded_job(jobs::service& service,
                                                       const listener::request& req,
                                                       const std::filesystem::path& spooled) {
    if (spooled.empty())
        co_return error_response(400, "an upload must be a multipart/form-data POST /v1/jobs");
    std::string type(req[http::field::content_type]);
    auto form = co_await read_upload_on_worker(spooled, std::move(type));
    if (!form) {
        if (http_status(form.error()) == 500)
            log_error("", "cannot take an upload: " + form.error().message);
        co_return error_response(form.error());
    }
    auto parsed = jobs::parse_job_options(form->options_json);
    if (!parsed)
        co_return error_response(parsed.error());
    parsed->audio_file = form->file.name;
    parsed->upload = form->file;
    co_return co_await submit_job(service, *parsed);
}

// The query parameters each API route takes, nullopt for a path that is no
// route (its 404 follows). One list for all routes: a misspelt or stray
// parameter would otherwise be ignored, and the answer look like what was
// asked for (or, on POST /v1/prune, do what was not). A method the route
// does not take is given the parameters of the one it does, so that its
// 405 is what it hears, not a 400 about the query.
std::optional<std::vector<std::string_view>> query_params_of(http::verb method,
                                                             std::string_view path) {
    using params = std::vector<std::string_view>;
    if (path == "/v1/jobs")
        return method == http::verb::post ? params{} : params{"status", "limit", "since", "before"};
    if (path == "/v1/events")
        return params{"job", "after"};
    if (path == "/v1/notifications")
        return params{"status", "limit"};
    if (path.starts_with("/v1/jobs/") && path.ends_with("/events"))
        return params{"limit"};
    if (path.starts_with("/v1/jobs/") && path.ends_with("/waveform"))
        return params{"points"};
    if (path == "/healthz" || path == "/metrics" || path == "/v1/counts" || path == "/v1/prune" ||
        path == "/v1/doctor" || path == "/v1/session" || path == "/v1/session/code" ||
        path.starts_with("/v1/jobs/"))
        return params{};
    return std::nullopt;
}

// 400 naming the first query parameter the route does not take.
std::optional<listener::response> refuse_unknown_query(const urls::url_view& url,
                                                       http::verb method) {
    const auto allowed = query_params_of(method, url.encoded_path());
    if (!allowed)
        return std::nullopt;
    for (auto param : url.params()) {
        if (std::find(allowed->begin(), allowed->end(), param.key) != allowed->end())
            continue;
        const std::string known =
            allowed->empty() ? std::string("it takes none") : "use " + spoken_list(*allowed);
        return error_response(
            make_error(error::bad_request, "unknown query parameter \"" + param.key + "\" on " +
                                               std::string(url.encoded_path()) + "; " + known));
    }
    return std::nullopt;
}

// GET /v1/jobs/{key}
listener::response find_job(jobs::service& service, const std::string& key) {
    if (key.empty())
        return error_response(404, "not found");
    auto job = service.find(key);
    if (!job)
        return job_failure(job.error(), key, "read",
                           "cannot read the job from the database; see the stemd log");
    return json_response(200, job_to_json(*job, &service.progress()));
}

// GET /v1/jobs/{key}/events?limit=: the job's history, oldest first.
listener::response job_events(jobs::service& service, const std::string& key,
                              const urls::url_view& url) {
    int limit = storage::max_events_per_job;
    for (auto param : url.params()) {
        auto parsed = read_limit(param.value, storage::max_events_per_job);
        if (!parsed)
            return error_response(parsed.error());
        limit = *parsed;
    }
    auto events = service.events(key, limit);
    if (!events)
        return job_failure(events.error(), key, "read the events of",
                           "cannot read the job's events from the database; see the stemd log");
    json::array out;
    for (const auto& e : *events)
        out.push_back(event_to_json(e));
    return json_response(200, json::object{{"events", std::move(out)}});
}

// POST /v1/jobs/{key}/retry: 200 with the job, 404 unknown, 409 when the
// job cannot be retried (the store says why).
listener::response retry_job(jobs::service& service, const std::string& key) {
    auto job = service.retry(key);
    if (!job)
        return job_failure(job.error(), key, "retry",
                           "cannot update the job in the database; see the stemd log");
    return json_response(200, job_to_json(*job));
}

// The key of /v1/jobs/{key}/retry (or /events), matched on the encoded path so that a
// key holding "%2Fretry" is a key; "" for any other path.
std::string key_before(std::string_view encoded_path, std::string_view suffix) {
    if (!encoded_path.ends_with(suffix))
        return {};
    encoded_path.remove_suffix(suffix.size());
    return job_key(encoded_path);
}

template <class Name>
std::optional<std::string_view> header(const http::request_header<>& req, Name name) {
    const auto found = req.find(name);
    if (found == req.end())
        return std::nullopt;
    return found->value();
}

} // namespace

request_facts facts_of(const http::request_header<>& req) {
    const std::string_view target = req.target();
    return {req.method_string(),
            target.substr(0, target.find('?')),
            header(req, http::field::host),
            header(req, http::field::origin),
            header(req, http::field::authorization),
            header(req, http::field::content_type),
            header(req, http::field::cookie),
            header(req, "X-CSRF-Token"),
            header(req, http::field::content_length)};
}

std::optional<listener::response> refuse_access(const api_access& access,
                                                const http::request_header<>& req) {
    if (auto allowed = access.check(facts_of(req)); !allowed)
        return error_response(allowed.error());
    return std::nullopt;
}

bool is_upload(const http::request_header<>& header) {
    const std::string_view target = header.target();
    return header.method() == http::verb::post &&
           target.substr(0, target.find('?')) == "/v1/jobs" &&
           media_type(header[http::field::content_type]) == "multipart/form-data";
}

namespace {

// /v1/jobs/{key} and what lies beneath it, matched on the encoded path so
// that a key holding "%2Fretry" is a key.
net::awaitable<listener::response> route_job(jobs::service& service, http::verb method,
                                             const urls::url_view& url) {
    const std::string_view path = url.encoded_path();
    if (auto key = key_before(path, "/retry"); !key.empty()) {
        if (method != http::verb::post)
            co_return method_not_allowed({"POST"}, "/v1/jobs/{key}/retry");
        co_return retry_job(service, key);
    }
    if (auto key = key_before(path, "/events"); !key.empty()) {
        if (method != http::verb::get)
            co_return method_not_allowed({"GET"}, "/v1/jobs/{key}/events");
        co_return job_events(service, key, url);
    }
    if (auto t = parse_file_target(path); t && t->rest == "waveform")
        co_return co_await waveform(service, method, t->key, t->file, url);
    if (method != http::verb::get)
        co_return method_not_allowed({"GET"}, "/v1/jobs/{key}");
    co_return find_job(service, job_key(path));
}

// Where the file route redirects a stem kept in S3 (the endpoint's
// scheme://host[:port], as presigned URLs name it), which the page's CSP
// must let <audio> load from; "" when stems are kept beneath output_dir.
std::string media_origin(jobs::service& service) {
    jobs::object_store* objects = service.objects();
    if (objects == nullptr)
        return {};
    auto url = client::parse_http_url(objects->client().settings().endpoint);
    if (!url)
        return {};
    return std::string(url->https ? "https://" : "http://") + url->host_header();
}

net::awaitable<listener::response> route(jobs::service& service, const listener::request& req,
                                         const urls::url_view& url, const api_options& options,
                                         const std::filesystem::path& spooled_body) {
    // The encoded path, as the access checks (facts_of) and the query
    // check read it: a fixed part spelt with %XX is no route (404), so no
    // check can be passed under one spelling and the route reached under
    // another. Only {key} and {file} segments are decoded.
    const std::string_view path = url.encoded_path();
    const auto method = req.method();

    if (is_page_path(path)) {
        const std::string origin = media_origin(service);
        co_return page_response(req, path, origin);
    }
    if (path == "/healthz")
        co_return json_response(200, json::object{{"ok", true}});
    if (path == "/metrics") {
        if (method != http::verb::get)
            co_return method_not_allowed({"GET"}, "/metrics");
        co_return metrics(service);
    }
    if (path == "/v1/jobs") {
        if (method == http::verb::post && is_upload(req))
            co_return co_await create_uploaded_job(service, req, spooled_body);
        if (method == http::verb::post)
            co_return co_await create_job(service, req, options);
        if (method == http::verb::get)
            co_return list_jobs(service, url);
        co_return method_not_allowed({"GET", "POST"}, "/v1/jobs");
    }
    if (path == "/v1/counts") {
        if (method != http::verb::get)
            co_return method_not_allowed({"GET"}, "/v1/counts");
        co_return job_counts(service);
    }
    if (path == "/v1/notifications")
        co_return method == http::verb::get ? list_notifications(service, url)
                                            : method_not_allowed({"GET"}, "/v1/notifications");
    if (path == "/v1/prune") {
        if (method != http::verb::post)
            co_return method_not_allowed({"POST"}, "/v1/prune");
        co_return co_await prune_jobs(service, req);
    }
    if (path == "/v1/doctor") {
        if (method != http::verb::post)
            co_return method_not_allowed({"POST"}, "/v1/doctor");
        if (options.doctor == nullptr)
            co_return error_response(404, "not found");
        co_return co_await handle_doctor(*options.doctor);
    }
    if (is_session_route(path)) {
        if (options.access == nullptr || options.sessions == nullptr)
            co_return error_response(404, "not found");
        co_return handle_session(req, path, *options.access, *options.sessions, now_millis());
    }
    if (path.starts_with("/v1/jobs/"))
        co_return co_await route_job(service, method, url);
    co_return error_response(404, "not found");
}

} // namespace

net::awaitable<listener::reply> handle_api(jobs::service& service, const listener::request& req,
                                           const api_options& options,
                                           const std::filesystem::path& spooled_body) {
    auto url = urls::parse_origin_form(req.target());
    if (!url)
        co_return listener::reply{
            error_response(make_error(error::bad_request, "malformed request target")), {}};
    if (auto refused = refuse_unknown_query(*url, req.method()))
        co_return listener::reply{std::move(*refused), {}};
    if (url->encoded_path() == "/v1/events") {
        // Not a ?: in the co_await's arguments: GCC 12 called
        // credential_watch there with a null access.
        std::function<bool(millis)> still_allowed;
        if (options.access != nullptr)
            still_allowed = options.access->credential_watch(facts_of(req));
        co_return co_await events_reply(service, req, {}, std::move(still_allowed));
    }
    if (auto file = file_reply(service, req, url->encoded_path()))
        co_return std::move(*file);
    // Not `reply{co_await ...}`: GCC 12 destroys the awaited value twice
    // when co_await sits inside a braced initialiser.
    listener::response answer = co_await route(service, req, *url, options, spooled_body);
    co_return listener::reply{std::move(answer), {}};
}

} // namespace stemd::server
