#include "config/endpoint.hpp"

#include "tests/config/support.hpp"

#include <doctest/doctest.h>

namespace fs = std::filesystem;
using stemd::config::error;
using namespace stemd::config::test;

TEST_CASE("config: parse_endpoint accepts host:port and [v6]:port") {
    auto v4 = stemd::config::parse_endpoint("127.0.0.1:8081");
    REQUIRE(v4.has_value());
    CHECK(v4->host == "127.0.0.1");
    CHECK(v4->port == 8081);
    CHECK(v4->to_string() == "127.0.0.1:8081");

    auto v6 = stemd::config::parse_endpoint("[::1]:65535");
    REQUIRE(v6.has_value());
    CHECK(v6->host == "::1");
    CHECK(v6->port == 65535);
    CHECK(v6->to_string() == "[::1]:65535");

    auto name = stemd::config::parse_endpoint("stemd.internal:1");
    REQUIRE(name.has_value());
    CHECK(name->to_string() == "stemd.internal:1");
}

TEST_CASE("config: parse_endpoint says what is wrong") {
    const auto why = [](std::string_view text) {
        auto parsed = stemd::config::parse_endpoint(text);
        REQUIRE_FALSE(parsed.has_value());
        CHECK(parsed.error().code == error::bad_value);
        return parsed.error().message;
    };
    CHECK(contains(why(""), "empty"));
    CHECK(contains(why("localhost"), "port is missing"));
    CHECK(contains(why("localhost:"), "port is missing"));
    CHECK(contains(why(":8080"), "host is missing"));
    CHECK(contains(why("host:0"), "out of range"));
    CHECK(contains(why("host:65536"), "out of range"));
    CHECK(contains(why("host:99999999999999999999"), "out of range"));
    CHECK(contains(why("host:http"), "not a number"));
    CHECK(contains(why("host:80x"), "not a number"));
    CHECK(contains(why("::1:8080"), "brackets"));
    CHECK(contains(why("[::1:8080"), "closing ']'"));
    CHECK(contains(why("[::1]8080"), "port is missing"));
    CHECK(contains(why("[example]:80"), "not an IPv6 address"));
    CHECK(contains(why("bad host:80"), "not a host name"));
}

TEST_CASE("config: is_loopback_address knows localhost, 127.0.0.0/8 and ::1") {
    using stemd::config::is_loopback_address;
    for (const char* yes :
         {"localhost", "LOCALHOST", "127.0.0.1", "127.255.0.1", "::1", "[::1]", "0:0:0:0:0:0:0:1"})
        CHECK_MESSAGE(is_loopback_address(yes), yes);
    for (const char* no : {"0.0.0.0", "::", "10.0.0.1", "128.0.0.1", "localhost.example",
                           "127.0.0.1.example", "", "[::2]"})
        CHECK_MESSAGE(!is_loopback_address(no), no);
}
