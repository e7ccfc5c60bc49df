#include "musicgpt/refusal.hpp"

#include <doctest/doctest.h>

#include <string>

using stemd::musicgpt::refusal_in;

TEST_CASE("refusal_in: a 2xx JSON object is no refusal") {
    CHECK_FALSE(refusal_in(200, R"({"success":true,"task_id":"t"})").has_value());
    CHECK_FALSE(refusal_in(201, R"({"task_id":"t"})").has_value());
}

TEST_CASE("refusal_in: MusicGPT's error body gives error_code and message") {
    const auto r = refusal_in(402, R"({"success":false,"error_code":"INSUFFICIENT_CREDITS",
        "message":"Not enough credits"})");
    REQUIRE(r.has_value());
    CHECK(r->http_status == 402);
    CHECK(r->error_code == "INSUFFICIENT_CREDITS");
    CHECK(r->message == "Not enough credits");
    CHECK_FALSE(r->retry_after_seconds.has_value());
}

TEST_CASE("refusal_in: success false refuses even with HTTP 200") {
    const auto r = refusal_in(200, R"({"success":false,"error":"bad stems"})");
    REQUIRE(r.has_value());
    CHECK(r->http_status == 200);
    CHECK(r->message == "bad stems");
}

TEST_CASE("refusal_in: detail lists become compact JSON, no text gets a description") {
    const auto detail = refusal_in(422, R"({"detail":[{"loc":["body","stems"]}]})");
    REQUIRE(detail.has_value());
    CHECK(detail->message == R"([{"loc":["body","stems"]}])");

    const auto silent = refusal_in(500, R"({"error_code":"OOPS"})");
    REQUIRE(silent.has_value());
    CHECK(silent->message == "MusicGPT answered HTTP 500 (OOPS) without an explanation");
    CHECK(refusal_in(503, "{}")->message == "MusicGPT answered HTTP 503 without an explanation");
}

TEST_CASE("refusal_in: a body that is not a JSON object is echoed, cut to one line") {
    const auto html = refusal_in(502, "<html>\r\nBad   gateway</html>\n");
    REQUIRE(html.has_value());
    CHECK(html->message ==
          "MusicGPT answered HTTP 502 with a non-JSON body: <html> Bad gateway</html>");
    CHECK(refusal_in(200, "[1]")->message ==
          "MusicGPT answered HTTP 200 with a non-JSON body: [1]");
    CHECK(refusal_in(200, "")->message == "MusicGPT answered HTTP 200 with a non-JSON body");

    const auto long_text = refusal_in(500, R"({"message":")" + std::string(2000, 'x') + R"("})");
    REQUIRE(long_text.has_value());
    CHECK(long_text->message == std::string(500, 'x') + "...");
    // A cut never splits a UTF-8 sequence.
    std::string accents;
    for (int i = 0; i < 300; ++i)
        accents += "\xc3\xa9";
    const auto cut = refusal_in(500, R"({"message":")" + accents + R"("})");
    CHECK(cut->message == accents.substr(0, 500) + "...");
    const auto odd = refusal_in(500, R"({"message":"x)" + accents + R"("})");
    CHECK(odd->message == "x" + accents.substr(0, 498) + "...");
}
