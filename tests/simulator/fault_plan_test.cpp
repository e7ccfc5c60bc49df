#include "simulator/fault_plan.hpp"

#include "simulator/error.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace stemd::simulator;

TEST_CASE("parse_faults reads every known fault name") {
    const auto plan = parse_faults("503-once,close-mid,short,no-range,redirect-loop");
    REQUIRE(plan.has_value());
    CHECK(plan->unavailable_once);
    CHECK(plan->close_mid);
    CHECK(plan->short_body);
    CHECK(plan->no_range);
    CHECK(plan->redirect_loop);
    CHECK(plan->stall.count() == 0);
    CHECK(plan->redirects == 0);
    CHECK(plan->one_shot());
}

TEST_CASE("every fault of the table parses by its example, alone and with the others") {
    std::string all;
    for (const auto& kind : fault_table) {
        CAPTURE(kind.example);
        CHECK(parse_faults(kind.example).has_value());
        CHECK(known_faults().find(kind.name) != std::string::npos);
        all += (all.empty() ? "" : ",") + std::string(kind.example);
    }
    CHECK(parse_faults(all).has_value());
    const auto dead = parse_faults("gone,byid-404");
    REQUIRE(dead.has_value());
    CHECK(dead->gone);
    CHECK(dead->by_id_unknown);
    CHECK_FALSE(dead->one_shot()); // both hold for every request
}

TEST_CASE("parse_faults: an empty list is no fault") {
    const auto plan = parse_faults("");
    REQUIRE(plan.has_value());
    CHECK_FALSE(plan->one_shot());
    CHECK_FALSE(plan->no_range);
    CHECK(plan->redirects == 0);
}

TEST_CASE("parse_faults: stall and redirect take a number within limits") {
    CHECK(parse_faults("stall")->stall.count() == 5);
    CHECK(parse_faults("stall-1")->stall.count() == 1);
    CHECK(parse_faults("stall-3600")->stall.count() == 3600);
    CHECK(parse_faults("redirect-1")->redirects == 1);
    CHECK(parse_faults("redirect-20")->redirects == 20);
    CHECK(parse_faults("stall-2")->one_shot());
    CHECK_FALSE(parse_faults("redirect-3")->one_shot());
    CHECK_FALSE(parse_faults("no-range")->one_shot());
    for (const char* bad : {"stall-0", "stall-3601", "stall-", "stall-x", "redirect", "redirect-0",
                            "redirect-21", "redirect--1", "stall2"}) {
        CAPTURE(bad);
        CHECK_FALSE(parse_faults(bad).has_value());
    }
}

TEST_CASE("parse_faults names the unknown fault and lists the known ones") {
    const auto plan = parse_faults("close-mid,explode");
    REQUIRE_FALSE(plan.has_value());
    CHECK(plan.error().code == error::bad_request);
    CHECK(plan.error().is(stemd::condition::invalid));
    CHECK(plan.error().message.find("\"explode\"") != std::string::npos);
    CHECK(plan.error().message.find(known_faults()) != std::string::npos);
    CHECK_FALSE(parse_faults("CLOSE-MID").has_value());  // names are lowercase
    CHECK_FALSE(parse_faults(",close-mid").has_value()); // an empty name
}

TEST_CASE("read_markers finds sim-error, sim-fail and the sim-fault list") {
    const auto none = read_markers("https://example.com/song.mp3");
    CHECK(none.forced_status == 0);
    CHECK_FALSE(none.fail);
    CHECK(none.faults.empty());

    CHECK(read_markers("https://x/a.mp3?sim-error=402").forced_status == 402);
    CHECK(read_markers("https://x/a.mp3?sim-error=429").forced_status == 429);
    CHECK(read_markers("https://x/sim-error=500/a.mp3").forced_status == 500);
    CHECK(read_markers("https://x/a.mp3?sim-error=404").forced_status == 0);
    CHECK(read_markers("https://x/sim-fail.mp3").fail);

    const auto faults = read_markers("https://x/a.mp3?sim-fault=close-mid,stall-2&other=1");
    CHECK(faults.faults == "close-mid,stall-2"); // up to the '&'
    CHECK(read_markers("https://x/a.mp3?sim-fault=").faults.empty());
    CHECK(read_markers("https://x/a.mp3?sim-fault=Short").faults.empty()); // uppercase ends it
}

TEST_CASE("read_markers finds sim-no-webhook") {
    CHECK_FALSE(read_markers("https://x/a.mp3").no_webhook);
    CHECK(read_markers("https://x/a.mp3?sim-no-webhook").no_webhook);
}

TEST_CASE("read_markers finds sim-webhook-first and the path it names") {
    CHECK_FALSE(read_markers("https://x/a.mp3").webhook_first);
    const auto plain = read_markers("https://x/a.mp3?sim-webhook-first");
    CHECK(plain.webhook_first);
    CHECK(plain.webhook_path.empty());
    const auto relayed = read_markers("https://x/a.mp3?sim-webhook-first=/webhook/Ab-1_x.y&z=1");
    CHECK(relayed.webhook_first);
    CHECK(relayed.webhook_path == "/webhook/Ab-1_x.y"); // up to the '&'
    CHECK(read_markers("https://x/a.mp3?sim-webhook-first=webhook").webhook_path.empty());
}

TEST_CASE("forced_error answers as MusicGPT does") {
    CHECK(forced_error(402).code == error::insufficient_credits);
    CHECK(http_status(forced_error(402).code) == 402);
    CHECK(forced_error(402).message == "Insufficient credits (simulated)");
    CHECK(http_status(forced_error(429).code) == 429);
    CHECK(wire_code(forced_error(429).code) == "TOO_MANY_REQUESTS");
    CHECK(http_status(forced_error(500).code) == 500);
    CHECK(wire_code(forced_error(500).code) == "INTERNAL_SERVER_ERROR");
}
