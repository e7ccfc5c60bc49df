#include "simulator/stem_links.hpp"

#include "common/time.hpp"

#include <boost/url/parse.hpp>

#include <doctest/doctest.h>

#include <string>

using namespace stemd::simulator;
using namespace std::chrono_literals;

namespace {

task sample_task(std::string faults = "") {
    task t;
    t.task_id = "t1";
    t.stems = {"drums", "bass"};
    t.faults = std::move(faults);
    return t;
}

bool expired(const stem_links& links, const std::string& target) {
    return links.expired(*boost::urls::parse_origin_form(target));
}

} // namespace

TEST_CASE("stem_links name <public_url>/files/<task>/<stem>.wav with faults and expiry") {
    stem_links links(0ms);
    links.set_public_url("https://sim.test:8090//");
    CHECK(links.public_url() == "https://sim.test:8090");
    CHECK(links.url(sample_task(), "drums") == "https://sim.test:8090/files/t1/drums.wav");
    CHECK(links.url(sample_task("short"), "drums") ==
          "https://sim.test:8090/files/t1/drums.wav?fault=short");
    CHECK(links.url(sample_task(), "bass", 42) ==
          "https://sim.test:8090/files/t1/bass.wav?expires=42");
    CHECK(links.url(sample_task("no-range"), "bass", 42) ==
          "https://sim.test:8090/files/t1/bass.wav?fault=no-range&expires=42");
    CHECK(links.map(sample_task()) == "{\"drums\":\"https://sim.test:8090/files/t1/drums.wav\","
                                      "\"bass\":\"https://sim.test:8090/files/t1/bass.wav\"}");
}

TEST_CASE("stem_links without a TTL never expire") {
    stem_links links(0ms);
    CHECK(links.expiry(std::chrono::system_clock::now()) == 0);
    CHECK_FALSE(expired(links, "/files/t1/drums.wav"));
    CHECK_FALSE(expired(links, "/files/t1/drums.wav?expires=1"));
}

TEST_CASE("stem_links with a TTL: signed links expire, unsigned ones are refused") {
    stem_links links(60'000ms);
    const auto signed_at = std::chrono::system_clock::time_point(1'000'000ms);
    CHECK(links.expiry(signed_at) == 1'060'000);
    const std::string later = std::to_string(stemd::now_millis() + 60'000);
    const std::string earlier = std::to_string(stemd::now_millis() - 1);
    CHECK_FALSE(expired(links, "/files/t1/drums.wav?expires=" + later));
    CHECK_FALSE(expired(links, "/files/t1/drums.wav?fault=short&expires=" + later));
    CHECK(expired(links, "/files/t1/drums.wav?expires=" + earlier));
    CHECK(expired(links, "/files/t1/drums.wav?expires=soon"));
    CHECK(expired(links, "/files/t1/drums.wav"));
}
