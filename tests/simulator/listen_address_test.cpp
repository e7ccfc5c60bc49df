#include "simulator/listen_address.hpp"

#include "simulator/error.hpp"

#include <doctest/doctest.h>

using namespace stemd::simulator;

TEST_CASE("parse_listen_address: host:port and [v6]:port, port 0 allowed") {
    const auto v4 = parse_listen_address("127.0.0.1:8090");
    REQUIRE(v4.has_value());
    CHECK(v4->host == "127.0.0.1");
    CHECK(v4->port == 8090);
    const auto v6 = parse_listen_address("[::1]:0");
    REQUIRE(v6.has_value());
    CHECK(v6->host == "::1");
    CHECK(v6->port == 0);
    CHECK(parse_listen_address("localhost:65535")->port == 65535);
}

TEST_CASE("parse_listen_address refuses anything else and says how to write it") {
    for (const char* bad :
         {"", "8090", ":8090", "host:", "host:65536", "host:x", "::1:8090", "[]:8090", "host:-1"}) {
        CAPTURE(bad);
        const auto parsed = parse_listen_address(bad);
        REQUIRE_FALSE(parsed.has_value());
        CHECK(parsed.error().code == error::bad_request);
        CHECK(parsed.error().message.find("127.0.0.1:8090 or [::1]:8090") != std::string::npos);
    }
}

TEST_CASE("url_host brackets IPv6, link_host turns any-address into loopback") {
    CHECK(url_host("127.0.0.1") == "127.0.0.1");
    CHECK(url_host("::1") == "[::1]");
    CHECK(link_host("0.0.0.0") == "127.0.0.1");
    CHECK(link_host("::") == "[::1]");
    CHECK(link_host("fe80::1") == "[fe80::1]");
    CHECK(link_host("sim.example") == "sim.example");
}
