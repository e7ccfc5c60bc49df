// GET /v1/jobs page by page (before / next), GET /v1/counts, and `stemd
// list --before`, against the real daemon.

#include "integration/stack.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <doctest/doctest.h>

#include <set>

namespace json = boost::json;
using namespace stemd::test;

TEST_CASE("jobs are listed page by page, newest first, and counted by status") {
    stack s("jobs-pages");
    s.start_simulator();
    s.start_serve();
    std::vector<std::string> ids;
    for (int i = 0; i < 3; ++i) {
        auto [status, created] = s.submit(R"({"audio_url":"https://songs.example/a.mp3"})");
        REQUIRE_MESSAGE(status == 201, json::serialize(created) << s.logs());
        ids.push_back(str(created, "id"));
    }
    for (const auto& id : ids)
        s.wait_for(id, "completed");

    std::vector<std::string> seen;
    std::string target = "/v1/jobs?limit=2";
    for (int page = 0; page < 3; ++page) {
        auto a = s.api_request("GET", target);
        REQUIRE_MESSAGE(a.status == 200, a.body);
        auto body = json::parse(a.body);
        for (const auto& j : body.at("jobs").as_array())
            seen.push_back(str(j, "id"));
        if (body.at("next").is_null())
            break;
        target = "/v1/jobs?limit=2&before=" + str(body, "next");
    }
    CHECK(seen == std::vector<std::string>{ids[2], ids[1], ids[0]});

    auto bad = s.api_request("GET", "/v1/jobs?before=yesterday");
    CHECK(bad.status == 400);
    CHECK_MESSAGE(bad.body.find("before \\\"yesterday\\\" is not a cursor") != std::string::npos,
                  bad.body);

    auto counts = s.api_request("GET", "/v1/counts");
    REQUIRE(counts.status == 200);
    CHECK(json::parse(counts.body) ==
          json::parse(R"({"ok":true,"total":3,"counts":{"submitting":0,"submitted":0,)"
                      R"("downloading":0,"completed":3,"failed":0}})"));
    CHECK(s.api_request("GET", "/v1/counts?status=failed").status == 400);
    CHECK(http_request(s.api_port(), "GET", "/v1/counts", "", "").status == 401);

    // The CLI: the first page says how to get the next one.
    auto first = s.cli({"list", "--limit", "2"});
    REQUIRE_MESSAGE(first.exit_code == 0, first.err);
    const auto more = first.out.find("more: --before ");
    REQUIRE_MESSAGE(more != std::string::npos, first.out);
    const auto cursor = first.out.substr(more + 15, first.out.find('\n', more) - more - 15);
    auto second = s.cli({"list", "--limit", "2", "--before", cursor});
    REQUIRE_MESSAGE(second.exit_code == 0, second.err);
    CHECK(second.out.find(ids[0]) != std::string::npos);
    CHECK(second.out.find(ids[2]) == std::string::npos);
    CHECK(second.out.find("more:") == std::string::npos);
}
