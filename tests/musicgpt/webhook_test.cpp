#include "musicgpt/webhook.hpp"

#include "musicgpt/error.hpp"
#include "tests/support/check_links.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>

#include <stdexcept>

#include <string>
#include <vector>

namespace json = boost::json;
using stemd::musicgpt::error;
using stemd::musicgpt::parse_record;
using stemd::musicgpt::parse_webhook;
using stemd::musicgpt::stem_link;
using payload = stemd::musicgpt::report;

namespace {

using stemd::test::check_links;

payload parsed(std::string_view body) {
    auto r = parse_webhook(body);
    if (!r) {
        FAIL("unexpected parse failure: " << r.error().message);
    }
    return std::move(*r);
}

stemd::error rejected(std::string_view body) {
    auto r = parse_webhook(body);
    REQUIRE_FALSE(r.has_value());
    return r.error();
}

const std::string cdn = "https://cdn1.musicgpt.com/conversions/";

} // namespace

TEST_CASE("seed v1 webhook: top-level stem URLs, audio_path is not a result") {
    const auto p = parsed(R"json({"success":true,"task_id":"t-1","conversion_id":"c-1",
        "audio_path":"https://example.com/input/song.mp3",
        "vocal":"https://cdn1.musicgpt.com/conversions/t-1_vocal.mp3",
        "instrumental":"https://cdn1.musicgpt.com/conversions/t-1_instrumental.mp3",
        "back_vocal":"https://cdn1.musicgpt.com/conversions/t-1_back_vocal.mp3",
        "conversion_cost":5.0,"conversion_duration":120.5})json");

    CHECK(p.what == payload::state::succeeded);
    CHECK(p.task_id == "t-1");
    CHECK(p.conversion_id == "c-1");
    CHECK(p.upstream_status == "COMPLETED");
    CHECK(p.message.empty());
    REQUIRE(p.conversion_cost.has_value());
    CHECK(*p.conversion_cost == doctest::Approx(5.0));
    REQUIRE(p.conversion_duration.has_value());
    CHECK(*p.conversion_duration == doctest::Approx(120.5));
    check_links(p.links, {{"vocal", "", cdn + "t-1_vocal.mp3"},
                          {"instrumental", "", cdn + "t-1_instrumental.mp3"},
                          {"back_vocal", "", cdn + "t-1_back_vocal.mp3"}});
}

TEST_CASE("an echoed webhook_url or a cover image is not a stem to fetch") {
    const auto p = parsed(R"json({"success":true,"task_id":"t-1",
        "webhook_url":"https://stemd.example/webhook/tok","image_url":"https://h/cover.jpg",
        "vocal":"https://cdn1.musicgpt.com/conversions/t-1_vocal.mp3"})json");
    check_links(p.links, {{"vocal", "", cdn + "t-1_vocal.mp3"}});
}

TEST_CASE("v2 webhook: audio_url and audio_url_wav are strings holding stem maps") {
    const auto p = parsed(R"json({"success":true,"conversion_type":"Extraction",
        "task_id":"t-2","conversion_id":"c-2",
        "audio_url":"{\"vocals\": \"https://cdn1.musicgpt.com/conversions/t-2_vocals.mp3\", \"instrumental\": \"https://cdn1.musicgpt.com/conversions/t-2_instrumental.mp3\"}",
        "audio_url_wav":"{\"vocals\": \"https://cdn1.musicgpt.com/conversions/t-2_vocals.wav\", \"instrumental\": \"https://cdn1.musicgpt.com/conversions/t-2_instrumental.wav\"}",
        "conversion_cost":0.157,"conversion_duration":170.69,"title":"Extraction"})json");

    CHECK(p.what == payload::state::succeeded);
    CHECK(p.task_id == "t-2");
    CHECK(p.conversion_id == "c-2");
    CHECK(p.upstream_status == "COMPLETED");
    REQUIRE(p.conversion_cost.has_value());
    CHECK(*p.conversion_cost == doctest::Approx(0.157));
    REQUIRE(p.conversion_duration.has_value());
    CHECK(*p.conversion_duration == doctest::Approx(170.69));
    check_links(p.links, {{"vocals", "", cdn + "t-2_vocals.mp3"},
                          {"instrumental", "", cdn + "t-2_instrumental.mp3"},
                          {"vocals", "wav", cdn + "t-2_vocals.wav"},
                          {"instrumental", "wav", cdn + "t-2_instrumental.wav"}});
}

TEST_CASE("v2 webhook whose WAV map repeats the MP3 links fetches each file once") {
    const auto p = parsed(R"json({"success":true,"conversion_type":"Extraction",
        "task_id":"t-3","conversion_id":"c-3",
        "audio_url":"{\"vocals\": \"https://cdn1.musicgpt.com/conversions/t-3_vocals.mp3\", \"instrumental\": \"https://cdn1.musicgpt.com/conversions/t-3_instrumental.mp3\"}",
        "audio_url_wav":"{\"vocals\": \"https://cdn1.musicgpt.com/conversions/t-3_vocals.mp3\", \"instrumental\": \"https://cdn1.musicgpt.com/conversions/t-3_instrumental.mp3\"}",
        "conversion_cost":"0.157","conversion_duration":170.69,"title":"Extraction"})json");

    CHECK(p.what == payload::state::succeeded);
    check_links(p.links, {{"vocals", "", cdn + "t-3_vocals.mp3"},
                          {"instrumental", "", cdn + "t-3_instrumental.mp3"}});
    REQUIRE(p.conversion_cost.has_value());
    CHECK(*p.conversion_cost == doctest::Approx(0.157));
}

TEST_CASE("a WAV map that repeats only some MP3 links keeps the others") {
    const auto p = parsed(R"json({"task_id":"t","success":true,
        "audio_url":{"vocals":"https://h/v.mp3","drums":"https://h/d.mp3"},
        "audio_url_wav":{"vocals":"https://h/v.mp3","drums":"https://h/d.wav"}})json");
    check_links(p.links, {{"vocals", "", "https://h/v.mp3"},
                          {"drums", "", "https://h/d.mp3"},
                          {"drums", "wav", "https://h/d.wav"}});
}

TEST_CASE("the WAV map is compared with audio_url even when it comes first") {
    const auto p = parsed(R"json({"task_id":"t","success":true,
        "audio_url_wav":{"vocals":"https://h/v.mp3","bass":"https://h/b.wav"},
        "audio_url":{"vocals":"https://h/v.mp3"}})json");
    check_links(p.links, {{"vocals", "", "https://h/v.mp3"}, {"bass", "wav", "https://h/b.wav"}});
}

TEST_CASE("generic webhook: status COMPLETED with one plain audio_url") {
    const auto p = parsed(R"json({"task_id":"t-4","status":"COMPLETED",
        "status_msg":"Conversion successful","conversion_type":"MUSIC_AI",
        "audio_url":"https://cdn1.musicgpt.com/conversions/t-4.mp3","title":"My song",
        "conversion_cost":1.25,"createdAt":"2024-05-01T10:00:00Z",
        "updatedAt":"2024-05-01T10:02:00Z"})json");

    CHECK(p.what == payload::state::succeeded);
    CHECK(p.task_id == "t-4");
    CHECK(p.conversion_id.empty());
    CHECK(p.upstream_status == "COMPLETED");
    CHECK(p.message == "Conversion successful");
    REQUIRE(p.conversion_cost.has_value());
    CHECK(*p.conversion_cost == doctest::Approx(1.25));
    CHECK_FALSE(p.conversion_duration.has_value());
    check_links(p.links, {{"audio", "", cdn + "t-4.mp3"}});
}

TEST_CASE("a stem map may be a real JSON object") {
    const auto p = parsed(R"json({"task_id":"t","success":true,"conversion_id":"c",
        "audio_url":{"vocals":"https://h/v.mp3","drums":"https://h/d.mp3","bass":"https://h/b.mp3"}})json");
    check_links(p.links, {{"vocals", "", "https://h/v.mp3"},
                          {"drums", "", "https://h/d.mp3"},
                          {"bass", "", "https://h/b.mp3"}});
}

TEST_CASE("SUCCESS and SUCCEEDED count as success whatever their case") {
    for (const auto* status : {"SUCCESS", "succeeded", "Completed"}) {
        CAPTURE(status);
        const auto p = parsed(R"({"task_id":"t","status":")" + std::string(status) +
                              R"(","audio_url":"https://h/a.mp3"})");
        CHECK(p.what == payload::state::succeeded);
        CHECK(p.upstream_status == status);
        CHECK(p.links.size() == 1);
    }
}

TEST_CASE("success false is a failure with its message and no links") {
    const auto p = parsed(R"json({"success":false,"task_id":"t-5",
        "error_code":"FAILED_DEPENDENCY","message":"Audio could not be decoded",
        "vocal":"https://h/v.mp3","audio_url":"https://h/a.mp3"})json");
    CHECK(p.what == payload::state::failed);
    CHECK(p.upstream_status == "FAILED");
    CHECK(p.message == "Audio could not be decoded");
    CHECK(p.links.empty());
}

TEST_CASE("status FAILED is a failure with status_msg as the message") {
    const auto p = parsed(R"json({"task_id":"t-6","status":"FAILED",
        "status_msg":"Input longer than 8 minutes","message":"ignored"})json");
    CHECK(p.what == payload::state::failed);
    CHECK(p.upstream_status == "FAILED");
    CHECK(p.message == "Input longer than 8 minutes");
}

TEST_CASE("status ERROR, in any case, is a failure and keeps the status as given") {
    const auto p = parsed(R"json({"task_id":"t-7","status":"error","error":"worker crashed"})json");
    CHECK(p.what == payload::state::failed);
    CHECK(p.upstream_status == "error");
    CHECK(p.message == "worker crashed");
}

TEST_CASE("success false wins over a status that says COMPLETED") {
    const auto p = parsed(R"json({"task_id":"t","success":false,"status":"COMPLETED",
        "audio_url":"https://h/a.mp3"})json");
    CHECK(p.what == payload::state::failed);
    CHECK(p.upstream_status == "COMPLETED");
    CHECK(p.links.empty());
}

TEST_CASE("the message is the first non-empty string of status_msg, message, error, reason") {
    CHECK(parsed(R"({"task_id":"t","success":false,"status_msg":"","message":"m"})").message ==
          "m");
    CHECK(parsed(R"({"task_id":"t","success":false,"message":7,"error":{"x":1},"reason":"r"})")
              .message == "r");
    CHECK(parsed(R"({"task_id":"t","success":false,"reason":"r","error":"e"})").message == "e");
    CHECK(parsed(R"({"task_id":"t","success":false})").message.empty());
}

TEST_CASE("a queued task is pending: status recorded, no links") {
    const auto p = parsed(R"json({"success":true,"task_id":"t-8","conversion_id":"c-8",
        "eta":147,"credit_estimate":5.55,"message":"Message published to queue",
        "status":"IN_QUEUE","audio_url":"https://h/a.mp3","vocal":"https://h/v.mp3"})json");
    CHECK(p.what == payload::state::pending);
    CHECK(p.upstream_status == "IN_QUEUE");
    CHECK(p.message == "Message published to queue");
    CHECK(p.links.empty());

    for (const auto* status : {"PENDING", "processing", "SOMETHING_NEW"}) {
        CAPTURE(status);
        const auto q = parsed(R"({"task_id":"t","status":")" + std::string(status) + R"("})");
        CHECK(q.what == payload::state::pending);
        CHECK(q.upstream_status == status);
    }
}

TEST_CASE("costs and durations: numbers or numeric strings, anything else ignored") {
    auto cost_of = [](std::string_view json_value) {
        return parsed(R"({"task_id":"t","conversion_cost":)" + std::string(json_value) + "}")
            .conversion_cost;
    };
    REQUIRE(cost_of(R"("5.55")").has_value());
    CHECK(*cost_of(R"("5.55")") == doctest::Approx(5.55));
    CHECK(*cost_of(R"("3")") == doctest::Approx(3.0));
    CHECK(*cost_of(R"(" 2.5 ")") == doctest::Approx(2.5));
    CHECK(*cost_of("7") == doctest::Approx(7.0));
    CHECK(*cost_of("0") == doctest::Approx(0.0));
    CHECK(*cost_of("1e2") == doctest::Approx(100.0));
    CHECK_FALSE(cost_of(R"("abc")").has_value());
    CHECK_FALSE(cost_of(R"("5.5 credits")").has_value());
    CHECK_FALSE(cost_of(R"("")").has_value());
    CHECK_FALSE(cost_of("-1").has_value());
    CHECK_FALSE(cost_of(R"("-0.5")").has_value());
    CHECK_FALSE(cost_of(R"("1e999")").has_value());
    CHECK_FALSE(cost_of(R"("inf")").has_value());
    CHECK_FALSE(cost_of(R"("nan")").has_value());
    CHECK_FALSE(cost_of("true").has_value());
    CHECK_FALSE(cost_of("null").has_value());
    CHECK_FALSE(cost_of("[1]").has_value());

    const auto p = parsed(R"({"task_id":"t","conversion_duration":"170.69"})");
    REQUIRE(p.conversion_duration.has_value());
    CHECK(*p.conversion_duration == doctest::Approx(170.69));
}

TEST_CASE("a body that is not JSON is malformed, with the parser's reason and offset") {
    const auto bad = rejected("not json");
    CHECK(bad.code == error::malformed_payload);
    CHECK(bad.message.rfind("body is not valid JSON: ", 0) == 0);
    CHECK(bad.message.find("at offset 0") != std::string::npos);

    const auto cut = rejected(R"({"task_id":)");
    CHECK(cut.code == error::malformed_payload);
    CHECK(cut.message.find("at offset 11") != std::string::npos);

    const auto trailing = rejected(R"({"task_id":"t"} x)");
    CHECK(trailing.code == error::malformed_payload);
    CHECK(trailing.message.find("at offset 16") != std::string::npos);

    CHECK(rejected("").code == error::malformed_payload);
}

TEST_CASE("a body that is JSON but not an object is malformed") {
    const auto array = rejected(R"([{"task_id":"t"}])");
    CHECK(array.code == error::malformed_payload);
    CHECK(array.message == "body is a JSON array, expected an object");
    CHECK(rejected(R"("text")").message == "body is a JSON string, expected an object");
    CHECK(rejected("42").message == "body is a JSON number, expected an object");
    CHECK(rejected("null").message == "body is a JSON null, expected an object");
}

TEST_CASE("task_id must be a non-empty string") {
    const auto missing = rejected(R"({"success":true,"vocal":"https://h/v.mp3"})");
    CHECK(missing.code == error::missing_field);
    CHECK(missing.message == "task_id is missing");

    CHECK(rejected(R"({"task_id":null})").code == error::missing_field);

    const auto empty = rejected(R"({"task_id":""})");
    CHECK(empty.code == error::missing_field);
    CHECK(empty.message.find("task_id") != std::string::npos);

    const auto number = rejected(R"({"task_id":42})");
    CHECK(number.code == error::bad_field);
    CHECK(number.message.find("task_id") != std::string::npos);
}

TEST_CASE("known fields of the wrong type are bad fields named in the reason") {
    const auto conversion = rejected(R"({"task_id":"t","conversion_id":5})");
    CHECK(conversion.code == error::bad_field);
    CHECK(conversion.message.find("conversion_id") != std::string::npos);

    const auto success = rejected(R"({"task_id":"t","success":"true"})");
    CHECK(success.code == error::bad_field);
    CHECK(success.message.find("success") != std::string::npos);

    const auto status = rejected(R"({"task_id":"t","status":1})");
    CHECK(status.code == error::bad_field);
    CHECK(status.message.find("status") != std::string::npos);

    const auto audio = rejected(R"({"task_id":"t","success":true,"audio_url":["https://h/a"]})");
    CHECK(audio.code == error::bad_field);
    CHECK(audio.message.find("audio_url") != std::string::npos);

    const auto wav = rejected(R"({"task_id":"t","audio_url_wav":3})");
    CHECK(wav.code == error::bad_field);
    CHECK(wav.message.find("audio_url_wav") != std::string::npos);
}

TEST_CASE("a failure report gets through even with an odd audio_url") {
    const auto p = parsed(R"({"task_id":"t","status":"FAILED","audio_url":[1]})");
    CHECK(p.what == payload::state::failed);
}

TEST_CASE("null optional fields count as absent") {
    const auto p = parsed(R"({"task_id":"t","conversion_id":null,"success":null,
        "status":null,"audio_url":null,"vocal":"https://h/v.mp3"})");
    CHECK(p.what == payload::state::succeeded);
    CHECK(p.conversion_id.empty());
    CHECK(p.upstream_status == "COMPLETED");
    check_links(p.links, {{"vocal", "", "https://h/v.mp3"}});
}

TEST_CASE("parse_record applies the webhook rules to a byId conversion record") {
    const auto answer = json::parse(R"json({"success":true,"conversion":{"task_id":"t-9",
        "conversion_id":"c-9","status":"COMPLETED","status_msg":"done",
        "audio_url":"{\"vocals\":\"https://h/v.mp3\",\"drums\":\"https://h/d.mp3\"}",
        "conversion_cost":"5.55","createdAt":"2024-05-01","updatedAt":"2024-05-02"}})json");
    const auto r = parse_record(answer.at("conversion"));
    REQUIRE(r.has_value());
    CHECK(r->what == payload::state::succeeded);
    CHECK(r->task_id == "t-9");
    CHECK(r->conversion_id == "c-9");
    CHECK(r->message == "done");
    REQUIRE(r->conversion_cost.has_value());
    CHECK(*r->conversion_cost == doctest::Approx(5.55));
    check_links(r->links, {{"vocals", "", "https://h/v.mp3"}, {"drums", "", "https://h/d.mp3"}});

    const auto pending = parse_record(json::parse(R"({"task_id":"t","status":"PROCESSING"})"));
    REQUIRE(pending.has_value());
    CHECK(pending->what == payload::state::pending);

    const auto not_object = parse_record(json::parse("[1]"));
    REQUIRE_FALSE(not_object.has_value());
    CHECK(not_object.error().code == error::malformed_payload);
    CHECK(not_object.error().message.find("array") != std::string::npos);

    const auto no_id = parse_record(json::parse(R"({"status":"COMPLETED"})"));
    REQUIRE_FALSE(no_id.has_value());
    CHECK(no_id.error().code == error::missing_field);
}

TEST_CASE("value() on a failed parse throws the reason") {
    const auto r = parse_webhook("[]");
    CHECK_THROWS_WITH_AS(r.value(), doctest::Contains("body is a JSON array"), std::runtime_error);
}
