#include "server/api_routes.hpp"

#include "server_fixture.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/json/parse.hpp>

#include <doctest/doctest.h>

#include <optional>

using namespace stemd;
using namespace stemd::server::testing;
namespace http = boost::beast::http;
namespace net = boost::asio;

namespace {

struct api_fixture : service_fixture {
    // What the API answers, run to completion on the fixture's io_context.
    listener::response call(http::verb method, std::string target, std::string body = {}) {
        const auto req = make_request(method, std::move(target), std::move(body));
        std::optional<listener::response> out;
        net::co_spawn(
            io,
            [&]() -> net::awaitable<void> {
                out = (co_await server::handle_api(*service, req)).message;
            },
            [](std::exception_ptr e) {
                if (e)
                    std::rethrow_exception(e);
            });
        io.run();
        io.restart();
        REQUIRE(out.has_value());
        return std::move(*out);
    }
};

} // namespace

TEST_CASE_FIXTURE(api_fixture, "api: /healthz") {
    auto r = call(http::verb::get, "/healthz");
    CHECK(r.result_int() == 200);
    CHECK(body_of(r) == boost::json::parse(R"({"ok":true})"));
}

TEST_CASE_FIXTURE(api_fixture, "api: a body that is not JSON is 400, an unusable one 422") {
    CHECK(refused(call(http::verb::post, "/v1/jobs", "{"), 400).find("not valid JSON") !=
          std::string::npos);
    CHECK(refused(call(http::verb::post, "/v1/jobs", "[]"), 400) == "body must be a JSON object");
    CHECK(refused(call(http::verb::post, "/v1/jobs", "{}"), 422) ==
          "give either audio_url or audio_file");
    CHECK(service->list(std::nullopt, 10).value().empty()); // nothing recorded
}

TEST_CASE_FIXTURE(api_fixture, "api: wrong methods are 405") {
    refused(call(http::verb::put, "/v1/jobs"), 405);
    refused(call(http::verb::get, "/v1/jobs/abc/retry"), 405);
    refused(call(http::verb::delete_, "/v1/jobs/abc"), 405);
}

TEST_CASE_FIXTURE(api_fixture, "api: unknown paths and malformed targets") {
    CHECK(refused(call(http::verb::get, "/nope"), 404) == "not found");
    CHECK(refused(call(http::verb::get, "/v1/jobs/a/b"), 404) == "not found");
    CHECK(refused(call(http::verb::get, "/%zz"), 400) == "malformed request target");
}

TEST_CASE_FIXTURE(api_fixture, "api: list with filters, and bad query parameters") {
    const auto job = submitted("token-1");
    auto all = call(http::verb::get, "/v1/jobs");
    CHECK(all.result_int() == 200);
    REQUIRE(body_of(all).at("jobs").as_array().size() == 1);
    CHECK(body_of(all).at("jobs").as_array()[0].at("id") == job.id.c_str());
    auto failed = call(http::verb::get, "/v1/jobs?status=failed&limit=5");
    CHECK(failed.result_int() == 200);
    CHECK(body_of(failed).at("jobs").as_array().empty());

    CHECK(refused(call(http::verb::get, "/v1/jobs?status=lost"), 400).find("unknown status") !=
          std::string::npos);
    CHECK(refused(call(http::verb::get, "/v1/jobs?limit=x"), 400) ==
          "limit must be a number from 1 to 1000");
    CHECK(refused(call(http::verb::get, "/v1/jobs?limit=1001"), 400) ==
          "limit must be a number from 1 to 1000");
    CHECK(refused(call(http::verb::get, "/v1/jobs?limit=5x"), 400) ==
          "limit must be a number from 1 to 1000");
    CHECK(refused(call(http::verb::get, "/v1/jobs?statsu=failed"), 400) ==
          "unknown query parameter \"statsu\" on /v1/jobs; use status, limit, since or before");
    // An empty status (a form's "any") is no filter.
    auto any = call(http::verb::get, "/v1/jobs?status=&limit=5");
    CHECK(any.result_int() == 200);
    CHECK(body_of(any).at("jobs").as_array().size() == 1);
    CHECK(refused(call(http::verb::get, "/v1/jobs?since=2h"), 400).find("RFC 3339") !=
          std::string::npos);
    auto since = call(http::verb::get, "/v1/jobs?since=2000-01-01T00:00:00Z");
    CHECK(body_of(since).at("jobs").as_array().size() == 1);
    auto later = call(http::verb::get, "/v1/jobs?since=2999-01-01T00:00:00Z");
    CHECK(body_of(later).at("jobs").as_array().empty());
}

TEST_CASE_FIXTURE(api_fixture, "api: a job's events, oldest first") {
    const auto job = submitted("token-1");
    auto r = call(http::verb::get, "/v1/jobs/" + job.id + "/events");
    CHECK(r.result_int() == 200);
    CHECK(body_of(r).at("events").is_array());
    CHECK(refused(call(http::verb::get, "/v1/jobs/" + job.id + "/events?limt=1"), 400) ==
          "unknown query parameter \"limt\" on /v1/jobs/" + job.id + "/events; use limit");
    CHECK(refused(call(http::verb::get, "/v1/jobs/" + job.id + "/events?limit=501"), 400) ==
          "limit must be a number from 1 to 500");
    CHECK(refused(call(http::verb::post, "/v1/jobs/" + job.id + "/events"), 405) ==
          "use GET on /v1/jobs/{key}/events");
    CHECK(call(http::verb::get, "/v1/jobs/nobody/events").result_int() == 404);
}

TEST_CASE_FIXTURE(api_fixture, "api: every route refuses a query parameter it does not take") {
    const auto job = submitted("token-1");
    const std::string key = "/v1/jobs/" + job.id;
    const std::vector<std::pair<http::verb, std::string>> routes{
        {http::verb::get, "/healthz"},         {http::verb::get, "/metrics"},
        {http::verb::post, "/v1/jobs"},        {http::verb::get, key},
        {http::verb::post, key + "/retry"},    {http::verb::post, "/v1/prune"},
        {http::verb::post, "/v1/doctor"},      {http::verb::get, key + "/events?limit=1&"},
        {http::verb::get, "/v1/jobs?limit=1&"}};
    for (const auto& [method, target] : routes) {
        const std::string with = target + (target.ends_with("&") ? "" : "?") + "bogus=1";
        INFO(with);
        CHECK(refused(call(method, with, "{}"), 400)
                  .starts_with("unknown query parameter \"bogus\" on /"));
    }
    CHECK(refused(call(http::verb::get, "/metrics?x"), 400) ==
          "unknown query parameter \"x\" on /metrics; it takes none");
    // A path that is no route stays 404.
    CHECK(refused(call(http::verb::get, "/nope?x=1"), 404) == "not found");
    CHECK(service->list(std::nullopt, 10).value().size() == 1); // nothing submitted
}

TEST_CASE_FIXTURE(api_fixture, "api: find by id, task_id or conversion_id") {
    const auto job = submitted("token-1");
    for (const std::string& key : {job.id, std::string("task-1"), std::string("conv-1")}) {
        auto r = call(http::verb::get, "/v1/jobs/" + key);
        CHECK(r.result_int() == 200);
        CHECK(body_of(r).at("id") == job.id.c_str());
    }
    CHECK(refused(call(http::verb::get, "/v1/jobs/missing"), 404) ==
          "no job with id, task_id or conversion_id \"missing\"");
}

TEST_CASE_FIXTURE(api_fixture, "api: retry is 404 unknown, 409 not failed, 200 failed") {
    const auto job = submitted("token-1");
    CHECK(refused(call(http::verb::post, "/v1/jobs/missing/retry"), 404) ==
          "no job with id, task_id or conversion_id \"missing\"");
    refused(call(http::verb::post, "/v1/jobs/" + job.id + "/retry"), 409);

    REQUIRE(store.mark_failed(job.id, "test").has_value());
    auto r = call(http::verb::post, "/v1/jobs/task-1/retry");
    CHECK(r.result_int() == 200);
    CHECK(body_of(r).at("status") == "submitted");
}

TEST_CASE_FIXTURE(api_fixture, "api: a key holding an encoded /retry is a key") {
    CHECK(refused(call(http::verb::get, "/v1/jobs/a%2Fretry"), 404) ==
          "no job with id, task_id or conversion_id \"a/retry\"");
}

TEST_CASE("api: refuse_access reads the request's own headers") {
    const server::api_access access("0123456789abcdef", {}, "/srv/api-token");
    auto req = make_request(http::verb::post, "/v1/jobs?x=1", "{}");
    req.set(http::field::host, "127.0.0.1:8081");
    const auto facts = server::facts_of(req);
    CHECK(facts.method == "POST");
    CHECK(facts.path == "/v1/jobs");
    CHECK(facts.host == "127.0.0.1:8081");
    CHECK_FALSE(facts.origin);
    CHECK_FALSE(facts.authorization);
    CHECK_FALSE(facts.content_type);

    auto refusal = server::refuse_access(access, req);
    REQUIRE(refusal.has_value());
    CHECK(refused(*refusal, 401).find("/srv/api-token") != std::string::npos);

    req.set(http::field::authorization, "Bearer 0123456789abcdef");
    refusal = server::refuse_access(access, req);
    REQUIRE(refusal.has_value());
    CHECK(refused(*refusal, 415).find("application/json") != std::string::npos);
    req.set(http::field::content_type, "application/json");
    CHECK_FALSE(server::refuse_access(access, req).has_value());

    req.set(http::field::origin, "http://evil.example");
    refusal = server::refuse_access(access, req);
    REQUIRE(refusal.has_value());
    CHECK(refused(*refusal, 403).find("evil.example") != std::string::npos);

    req.set(http::field::host, "evil.example");
    refusal = server::refuse_access(access, req);
    REQUIRE(refusal.has_value());
    CHECK(refused(*refusal, 421).find("api.allowed_hosts") != std::string::npos);
}

TEST_CASE_FIXTURE(api_fixture, "api: POST /v1/prune checks its body, then prunes old final jobs") {
    refused(call(http::verb::get, "/v1/prune"), 405);
    CHECK(refused(call(http::verb::post, "/v1/prune", "{"), 400).find("JSON object") !=
          std::string::npos);
    CHECK(refused(call(http::verb::post, "/v1/prune", "{}"), 400).find("older_than_seconds") !=
          std::string::npos);
    CHECK(refused(call(http::verb::post, "/v1/prune", R"({"older_than_seconds":-1})"), 400)
              .find("older_than_seconds") != std::string::npos);
    CHECK(refused(call(http::verb::post, "/v1/prune", R"({"older_than_seconds":1.5})"), 400)
              .find("whole number") != std::string::npos);
    CHECK(
        refused(call(http::verb::post, "/v1/prune", R"({"older_than_seconds":1,"dry":true})"), 400)
            .find("unknown field \"dry\"") != std::string::npos);
    CHECK(
        refused(call(http::verb::post, "/v1/prune", R"({"older_than_seconds":1,"dry_run":"yes"})"),
                400) == "dry_run must be true or false");

    const auto job = submitted("token-1");
    store.mark_failed(job.id, "refused").value();
    const auto busy = submitted("token-2", "task-2", "conv-2");
    // The cutoff (now) must be past the job's last change.
    const auto changed = store.find(job.id).value().updated_at;
    for (int spin = 0; spin < 1'000'000 && storage::now_millis() <= changed; ++spin) {
    }
    auto dry = call(http::verb::post, "/v1/prune", R"({"older_than_seconds":0,"dry_run":true})");
    REQUIRE(dry.result_int() == 200);
    const auto listed = body_of(dry).as_object();
    CHECK(listed.at("jobs").as_int64() == 1);
    CHECK(listed.at("dry_run").as_bool());
    CHECK_FALSE(listed.at("delete_files").as_bool());
    CHECK(listed.at("listed").as_array()[0].at("id").as_string() == job.id);
    CHECK(store.find(job.id).has_value());

    auto done = call(http::verb::post, "/v1/prune", R"({"older_than_seconds":0})");
    REQUIRE(done.result_int() == 200);
    CHECK(body_of(done).at("jobs").as_int64() == 1);
    CHECK_FALSE(store.find(job.id).has_value());
    CHECK(store.find(busy.id).has_value());
}

TEST_CASE_FIXTURE(api_fixture, "api: every 405 names the methods in Allow, whatever the query") {
    struct wrong {
        http::verb method;
        std::string target;
        std::string allow;
    };
    const std::vector<wrong> cases{
        {http::verb::put, "/v1/jobs?status=failed", "GET, POST"},
        {http::verb::post, "/metrics", "GET"},
        {http::verb::post, "/v1/counts", "GET"},
        {http::verb::post, "/v1/notifications?limit=1", "GET"},
        {http::verb::get, "/v1/prune", "POST"},
        {http::verb::get, "/v1/doctor", "POST"},
        {http::verb::post, "/v1/events?after=1", "GET"},
        {http::verb::get, "/v1/jobs/abc/retry", "POST"},
        {http::verb::post, "/v1/jobs/abc/events?limit=1", "GET"},
        {http::verb::delete_, "/v1/jobs/abc", "GET"},
        {http::verb::post, "/v1/jobs/abc/files/vocals.wav", "GET, HEAD"},
        {http::verb::head, "/v1/jobs/abc/files/vocals.wav/waveform?points=100", "GET"},
        {http::verb::post, "/v1/jobs/abc/files/vocals.wav/waveform?points=100", "GET"},
        {http::verb::post, "/assets/app.js", "GET, HEAD"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.target);
        const auto r = call(c.method, c.target);
        CHECK(r.result_int() == 405);
        CHECK(std::string(r[http::field::allow]) == c.allow);
    }
}
