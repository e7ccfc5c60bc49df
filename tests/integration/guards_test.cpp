// What stemd refuses to fetch, and what it never tells: the download guards
// and the secrecy of keys, tokens and signed links, with the real binaries.

#include "integration/stack.hpp"

#include <boost/json/serialize.hpp>

#include <doctest/doctest.h>

namespace json = boost::json;
using namespace stemd::test;
using namespace std::chrono_literals;

namespace {

std::string submit_one(stack& s) {
    auto [status, created] =
        s.submit(R"({"audio_url":"https://songs.example/guard.mp3","stems":["vocals"]})");
    REQUIRE_MESSAGE(status == 201, json::serialize(created) << s.logs());
    return str(created, "id");
}

} // namespace

TEST_CASE("links to loopback addresses are refused unless allowed, without retrying") {
    stack s("guard-address", {.allow_private_addresses = false});
    s.start_simulator();
    s.start_serve();
    auto job = s.wait_for(submit_one(s), "failed");
    const auto& file = only_file(job);
    CHECK(str(file, "status") == "failed");
    CHECK(file.at("attempts").to_number<int>() == 1);
    CHECK_MESSAGE(str(file, "error").find("non-public address") != std::string::npos,
                  str(file, "error"));
    CHECK(files_under(s.output_dir()).empty());
    CHECK(s.simulator_get("/sim/stats").second.at("file_requests").to_number<int>() == 0);
}

TEST_CASE("a file over download.max_bytes is refused and nothing of it is kept") {
    stack s("guard-size", {.stem_bytes = 64 * 1024, .extra_config = "max_bytes = 10000\n"});
    s.start_simulator();
    s.start_serve();
    auto job = s.wait_for(submit_one(s), "failed");
    const auto& file = only_file(job);
    CHECK_MESSAGE(str(file, "error").find("more than the limit of 10000") != std::string::npos,
                  str(file, "error"));
    CHECK(file.at("attempts").to_number<int>() == 1);
    CHECK(files_under(s.output_dir()).empty());
}

TEST_CASE("the API key, webhook tokens and signed-link queries never leave stemd") {
    // Links that expire carry a signature-like query string (?expires=...).
    stack s("guard-secrets", {.link_ttl_ms = 60'000});
    s.start_simulator();
    s.start_serve();
    auto job = s.wait_for(submit_one(s), "completed");

    auto deliveries = s.simulator_get("/sim/deliveries").second.as_array();
    REQUIRE(deliveries.size() == 1);
    const std::string url = str(deliveries[0], "url");
    const std::string token = url.substr(url.rfind('/') + 1);
    const std::string body = str(deliveries[0], "body");
    const auto query_at = body.find("?expires=");
    REQUIRE(query_at != std::string::npos); // the links really carried a query
    const std::string query =
        body.substr(query_at, body.find_first_of("\"\\", query_at) - query_at);

    const std::string logs = s.serve_logs();
    const std::string listed = s.api_request("GET", "/v1/jobs").body;
    const std::string shown = json::serialize(job);
    for (const std::string& secret : {std::string("integration-test-key"), token, query}) {
        CAPTURE(secret);
        CHECK(logs.find(secret) == std::string::npos);
        CHECK(listed.find(secret) == std::string::npos);
        CHECK(shown.find(secret) == std::string::npos);
    }
    CHECK(str(only_file(job), "source").find('?') == std::string::npos);
}
