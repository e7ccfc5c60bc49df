#include "server/jobs_list_route.hpp"

#include "common/log.hpp"
#include "common/time.hpp"
#include "jobs/service.hpp"
#include "server/error.hpp"
#include "server/job_json.hpp"
#include "server/list_cursor.hpp"
#include "server/metrics_page.hpp"
#include "server/reply.hpp"

#include <boost/json/array.hpp>

#include <optional>
#include <string>

namespace stemd::server {

namespace http = boost::beast::http;
namespace json = boost::json;
namespace urls = boost::urls;

namespace {

struct list_query {
    std::optional<storage::job_status> status;
    int limit = 50;
    std::optional<millis> since;
    std::optional<storage::job_cursor> before;
};

result<list_query> read_list_query(const urls::url_view& url) {
    list_query q;
    for (auto param : url.params()) {
        // An empty status (a form's "any" choice) is no filter.
        if (param.key == "status" && param.value.empty()) {
            q.status.reset();
        } else if (param.key == "status") {
            q.status = storage::parse_job_status(param.value);
            if (!q.status)
                return make_error(error::bad_request,
                                  "unknown status \"" + param.value +
                                      "\"; use submitting, submitted, downloading, completed "
                                      "or failed");
        } else if (param.key == "limit") {
            auto limit = read_limit(param.value, 1000);
            if (!limit)
                return limit.error();
            q.limit = *limit;
        } else if (param.key == "since") {
            q.since = parse_rfc3339(param.value);
            if (!q.since)
                return make_error(error::bad_request,
                                  "since must be an RFC 3339 time such as 2026-11-25T12:00:00Z");
        } else if (param.key == "before" && !param.value.empty()) {
            q.before = parse_cursor(param.value);
            if (!q.before)
                return make_error(error::bad_request,
                                  "before \"" + param.value +
                                      "\" is not a cursor; pass the \"next\" of an earlier "
                                      "GET /v1/jobs answer as it is");
        }
    }
    return q;
}

} // namespace

result<int> read_limit(const std::string& text, int most) {
    const auto bad =
        make_error(error::bad_request, "limit must be a number from 1 to " + std::to_string(most));
    int limit = 0;
    try {
        std::size_t used = 0;
        limit = std::stoi(text, &used);
        if (used != text.size())
            return bad;
    } catch (const std::exception&) {
        return bad;
    }
    if (limit < 1 || limit > most)
        return bad;
    return limit;
}

listener::response list_jobs(jobs::service& service, const urls::url_view& url) {
    auto query = read_list_query(url);
    if (!query)
        return error_response(query.error());
    auto page = service.list_page({.status = query->status,
                                   .limit = query->limit,
                                   .before = query->before,
                                   .created_since = query->since});
    if (!page) {
        log_error("", "cannot list jobs: " + page.error().message);
        return error_response(500, "cannot read jobs from the database; see the stemd log");
    }
    json::array out;
    for (const auto& j : page->jobs)
        out.push_back(job_to_json(j, &service.progress()));
    return json_response(200,
                         json::object{{"jobs", std::move(out)},
                                      {"next", page->next ? json::value(cursor_text(*page->next))
                                                          : json::value(nullptr)}});
}

listener::response job_counts(jobs::service& service) {
    auto gauges = service.gauges();
    if (!gauges) {
        log_error("", "cannot count jobs: " + gauges.error().message);
        return error_response(500, "cannot read jobs from the database; see the stemd log");
    }
    json::object counts;
    std::int64_t total = 0;
    for (std::size_t i = 0; i < storage::job_statuses.size(); ++i) {
        counts[storage::to_string(storage::job_statuses[i])] = gauges->jobs[i];
        total += gauges->jobs[i];
    }
    return json_response(200, json::object{{"ok", true}, {"total", total}, {"counts", counts}});
}

listener::response metrics(jobs::service& service) {
    auto gauges = service.gauges();
    if (!gauges) {
        log_error("", "cannot read the metrics from the database: " + gauges.error().message);
        return error_response(500, "cannot read the database for /metrics; see the stemd log");
    }
    listener::response r{http::status::ok, 11};
    r.set(http::field::content_type, stemd::metrics::content_type);
    r.body() = metrics_page(jobs::meters(), {.store = *gauges,
                                             .now = now_millis(),
                                             .started_at = process_start(),
                                             .version = STEMD_VERSION});
    r.prepare_payload();
    return r;
}

} // namespace stemd::server
