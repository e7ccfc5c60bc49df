#include "musicgpt/submit.hpp"

#include "musicgpt/error.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using stemd::musicgpt::read_submit_reply;
using stemd::musicgpt::submission;
using stemd::musicgpt::submit_fields;

namespace {

std::vector<std::string> names_of(const submission& s, std::string_view version) {
    std::vector<std::string> names;
    for (const auto& f : submit_fields(s, version))
        names.push_back(f.name);
    return names;
}

} // namespace

TEST_CASE("submit_fields: what is sent for v1 and v2, in order") {
    const submission s{.audio_url = "https://h/in.mp3",
                       .stems_json = R"(["vocals"])",
                       .preprocessing_options_json = R"(["Denoise"])",
                       .eco_mode = true,
                       .webhook_url = "https://me/webhook/tok"};
    CHECK(names_of(s, "v1") ==
          std::vector<std::string>{"audio_url", "stems", "preprocessing_options", "webhook_url"});
    const auto v2 = submit_fields(s, "v2");
    REQUIRE(v2.size() == 5);
    CHECK(v2[0].value == "https://h/in.mp3");
    CHECK(v2[1].value == R"(["vocals"])");
    CHECK(v2[3].name == "eco_mode");
    CHECK(v2[3].value == "true");
    CHECK(v2[4].value == "https://me/webhook/tok");

    CHECK(submit_fields(submission{}, "v2")[0].value == "false");
    CHECK(submit_fields(submission{}, "v1").empty());
}

TEST_CASE("submit_fields: an uploaded file replaces audio_url") {
    const submission s{.audio_url = "https://h/in.mp3",
                       .audio_file = {.fd = 0, .length = 1, .name = "in.mp3"}};
    CHECK(names_of(s, "v1").empty());
    CHECK(stemd::musicgpt::audio_file_field == "audio_file");
}

TEST_CASE("read_submit_reply: the ids, eta and credit estimate of an accepted job") {
    const auto r = read_submit_reply(200, R"({"success":true,"task_id":"t-1",
        "conversion_id":"c-1","eta":"42","credit_estimate":5.5,"status":"IN_QUEUE"})");
    REQUIRE(r.has_value());
    CHECK_FALSE(r->refused.has_value());
    CHECK(r->accepted.task_id == "t-1");
    CHECK(r->accepted.conversion_id == "c-1");
    REQUIRE(r->accepted.eta.has_value());
    CHECK(*r->accepted.eta == doctest::Approx(42));
    CHECK(*r->accepted.credit_estimate == doctest::Approx(5.5));
    CHECK(r->accepted.status == "IN_QUEUE");

    const auto v1 = read_submit_reply(200, R"({"task_id":"t-2","eta":"soon"})");
    REQUIRE(v1.has_value());
    CHECK(v1->accepted.conversion_id.empty());
    CHECK_FALSE(v1->accepted.eta.has_value());
    CHECK(v1->accepted.status.empty());
}

TEST_CASE("read_submit_reply: a refusal is data, a missing task_id an error") {
    const auto refused = read_submit_reply(
        402, R"({"success":false,"error_code":"INSUFFICIENT_CREDITS","message":"top up"})");
    REQUIRE(refused.has_value());
    REQUIRE(refused->refused.has_value());
    CHECK(refused->refused->http_status == 402);
    CHECK(refused->refused->error_code == "INSUFFICIENT_CREDITS");
    CHECK(refused->accepted.task_id.empty());

    const auto no_id = read_submit_reply(200, R"({"success":true})");
    REQUIRE_FALSE(no_id.has_value());
    CHECK(no_id.error().code == stemd::musicgpt::error::bad_answer);
    CHECK(no_id.error().message == "MusicGPT accepted the job but sent no task_id");
}
