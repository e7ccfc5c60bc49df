#include "jobs/job_request.hpp"

#include "jobs/error.hpp"
#include "tests/support/workspace.hpp"

#include <doctest/doctest.h>

using namespace stemd;
using jobs::parse_job_options;
using jobs::parse_job_request;

namespace {

// The message of a refused body, checked to be of `code`.
std::string refusal(std::string_view body, jobs::error code) {
    auto r = parse_job_request(body);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == code);
    CHECK(r.error().is(condition::invalid));
    return r.error().message;
}

} // namespace

TEST_CASE("job request: an audio_url with stems, options and eco_mode") {
    auto r =
        parse_job_request(R"({"audio_url":"https://songs.example/a.mp3","stems":["vocals","drums"],
                                   "preprocessing_options":["Denoise"],"eco_mode":true})");
    REQUIRE(r.has_value());
    CHECK(r->audio_url == "https://songs.example/a.mp3");
    CHECK(r->audio_file.empty());
    CHECK(r->stems_json == R"(["vocals","drums"])");
    CHECK(r->preprocessing_options_json == R"(["Denoise"])");
    CHECK(r->eco_mode);
}

TEST_CASE("job request: absent, null and empty lists are empty") {
    auto r = parse_job_request(R"({"audio_url":"http://songs.example/a.mp3","stems":[],
                                   "preprocessing_options":null,"eco_mode":null})");
    REQUIRE(r.has_value());
    CHECK(r->stems_json.empty());
    CHECK(r->preprocessing_options_json.empty());
    CHECK_FALSE(r->eco_mode);
}

TEST_CASE("job request: malformed bodies are their own code (answered 400)") {
    CHECK(refusal("{", jobs::error::malformed_request).find("not valid JSON") != std::string::npos);
    CHECK(refusal("[1]", jobs::error::malformed_request) == "body must be a JSON object");
}

TEST_CASE("job request: unusable requests are invalid_request (answered 422)") {
    using jobs::error;
    CHECK(refusal(R"({"audio_url":"https://a.example/x","colour":1})", error::invalid_request)
              .find("unknown field \"colour\"") != std::string::npos);
    CHECK(refusal("{}", error::invalid_request) == "give either audio_url or audio_file");
    CHECK(refusal(R"({"audio_url":"https://a.example/x","audio_file":"/x"})",
                  error::invalid_request) == "give either audio_url or audio_file, not both");
    CHECK(refusal(R"({"audio_url":5})", error::invalid_request) == "audio_url must be a string");
    CHECK(refusal(R"({"audio_url":"ftp://a.example/x"})", error::invalid_request) ==
          "audio_url must be an absolute http(s) URL");
    CHECK(refusal(R"({"audio_url":"https://a.example/x","stems":"vocals"})",
                  error::invalid_request) == "stems must be a list of strings");
    CHECK(refusal(R"({"audio_url":"https://a.example/x","stems":["vocals",""]})",
                  error::invalid_request) == "stems must be a list of non-empty strings");
    CHECK(refusal(R"({"audio_url":"https://a.example/x","preprocessing_options":[1]})",
                  error::invalid_request) ==
          "preprocessing_options must be a list of non-empty strings");
    CHECK(refusal(R"({"audio_url":"https://a.example/x","eco_mode":"yes"})",
                  error::invalid_request) == "eco_mode must be true or false");
}

TEST_CASE("job request: audio_file is an absolute path, read as text only") {
    // Whether stemd may open it is decided by server/rooted_file, not here:
    // even a missing file parses, and nothing is opened.
    auto r = parse_job_request(R"({"audio_file":"/nowhere/song.mp3"})");
    REQUIRE(r.has_value());
    CHECK(r->audio_file == "/nowhere/song.mp3");
    CHECK(r->audio_url.empty());
    CHECK(r->upload.empty());

    using jobs::error;
    CHECK(refusal(R"({"audio_file":"song.mp3"})", error::invalid_request) ==
          "audio_file must be an absolute path, got \"song.mp3\"");
}

TEST_CASE("job request: the options part of an upload holds options only") {
    auto none = parse_job_options("");
    REQUIRE(none.has_value());
    CHECK(none->stems_json.empty());
    auto some = parse_job_options(R"({"stems":["vocals"],"eco_mode":true})");
    REQUIRE(some.has_value());
    CHECK(some->stems_json == R"(["vocals"])");
    CHECK(some->eco_mode);
    auto source = parse_job_options(R"({"audio_file":"/etc/passwd"})");
    REQUIRE(source.has_error());
    CHECK(source.error().message ==
          "unknown field \"audio_file\"; known: stems, preprocessing_options, eco_mode");
}
