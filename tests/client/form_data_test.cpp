#include "client/form_data.hpp"

#include "client/error.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace stemd::client;

namespace {

const std::string type = "multipart/form-data; boundary=XyZ";

std::string part(const std::string& name, const std::string& content) {
    return "--XyZ\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" + content +
           "\r\n";
}

} // namespace

TEST_CASE("parse_parameters: tokens, quoted strings with escapes, lowercased names") {
    const auto p = parse_parameters("; Name=\"a \\\"b\\\"; c\"; filename=x.wav ; flag");
    REQUIRE(p);
    CHECK(p->at("name") == "a \"b\"; c");
    CHECK(p->at("filename") == "x.wav");
    CHECK(p->at("flag").empty());
    CHECK(parse_parameters("")->empty());
    CHECK_FALSE(parse_parameters("; name=\"open"));
    CHECK_FALSE(parse_parameters("name=x")); // no leading ';'
}

TEST_CASE("form_boundary only for multipart/form-data with a usable boundary") {
    CHECK(form_boundary(type) == "XyZ");
    CHECK(form_boundary("Multipart/Form-Data; charset=utf-8; boundary=\"a b\"") == "a b");
    CHECK(form_boundary("multipart/form-data").empty());
    CHECK(form_boundary("multipart/mixed; boundary=XyZ").empty());
    CHECK(form_boundary("multipart/form-data; boundary=").empty());
    CHECK(form_boundary("multipart/form-data; boundary=" + std::string(71, 'b')).empty());
    CHECK(form_boundary("multipart/form-data; boundary=" + std::string(70, 'b')).size() == 70);
}

TEST_CASE("parse_form_data reads each part's name and content") {
    const std::string body = "preamble\r\n" + part("audio_url", "https://x/a.mp3") +
                             "--XyZ  \r\nContent-Type: audio/wav\r\n"
                             "content-disposition: form-data; name=audio_file; filename=a.wav"
                             "\r\n\r\nRIFF\r\n--not-the-end\r\n" +
                             part("stems", "[\"drums\"]") + "--XyZ--\r\n";
    const auto parts = parse_form_data(type, body);
    REQUIRE(parts.has_value());
    REQUIRE(parts->size() == 3);
    CHECK(find_part(*parts, "audio_url")->content == "https://x/a.mp3");
    CHECK(find_part(*parts, "audio_file")->content == "RIFF\r\n--not-the-end");
    CHECK(find_part(*parts, "stems")->content == "[\"drums\"]");
    CHECK(find_part(*parts, "webhook_url") == nullptr);
}

TEST_CASE("parse_form_data: a form without parts is fine") {
    const auto empty = parse_form_data(type, "--XyZ--\r\n");
    REQUIRE(empty.has_value());
    CHECK(empty->empty());
}

TEST_CASE("parse_form_data says what is wrong with a malformed body") {
    const auto refused = [](const std::string& content_type, const std::string& body) {
        const auto parts = parse_form_data(content_type, body);
        REQUIRE_FALSE(parts.has_value());
        CHECK(parts.error().code == error::bad_form);
        return parts.error().message;
    };
    CHECK(refused("application/json", "{}").find("multipart/form-data") != std::string::npos);
    CHECK(refused(type, "no delimiter").find("does not contain the boundary") != std::string::npos);
    CHECK(refused(type, "--XyZjunk\r\n").find("not followed by CRLF") != std::string::npos);
    CHECK(refused(type, "--XyZ\r\nContent-Disposition: form-data; name=a\r\n")
              .find("not terminated by an empty line") != std::string::npos);
    CHECK(refused(type, part("a", "b")).find("closing boundary is missing") != std::string::npos);
    CHECK(refused(type, "--XyZ\r\nbroken header\r\n\r\nx\r\n--XyZ--").find("has no ':'") !=
          std::string::npos);
    CHECK(refused(type, "--XyZ\r\nContent-Disposition: attachment; name=a\r\n\r\nx\r\n--XyZ--")
              .find("not form-data") != std::string::npos);
    CHECK(refused(type, "--XyZ\r\nContent-Type: text/plain\r\n\r\nx\r\n--XyZ--")
              .find("no Content-Disposition") != std::string::npos);
    CHECK(refused(type, "--XyZ\r\n\r\nheaderless\r\n--XyZ--").find("no Content-Disposition") !=
          std::string::npos);
}
