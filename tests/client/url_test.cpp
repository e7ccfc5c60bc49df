#include "client/url.hpp"

#include "client/error.hpp"

#include <doctest/doctest.h>

using namespace stemd::client;

namespace {

http_url parsed(std::string_view text) {
    auto u = parse_http_url(text);
    REQUIRE_MESSAGE(u.has_value(), text);
    return *u;
}

bool refused(std::string_view text) {
    auto u = parse_http_url(text);
    return !u && u.error() == error::bad_url;
}

} // namespace

TEST_CASE("url: https with default port, path and query kept in the target") {
    const auto u = parsed("https://cdn1.musicgpt.com/conversions/abc_vocals.mp3?sig=XYZ&exp=1");
    CHECK(u.https);
    CHECK(u.host == "cdn1.musicgpt.com");
    CHECK(u.port == 443);
    CHECK(u.target == "/conversions/abc_vocals.mp3?sig=XYZ&exp=1");
    CHECK(u.host_header() == "cdn1.musicgpt.com");
    CHECK(u.to_string() == "https://cdn1.musicgpt.com/conversions/abc_vocals.mp3?sig=XYZ&exp=1");
    CHECK(u.redacted() == "https://cdn1.musicgpt.com/conversions/abc_vocals.mp3");
}

TEST_CASE("url: http defaults to port 80, explicit ports are kept") {
    const auto plain = parsed("http://example.com/a");
    CHECK_FALSE(plain.https);
    CHECK(plain.port == 80);

    const auto custom = parsed("http://example.com:8080/a?b=c");
    CHECK(custom.port == 8080);
    CHECK(custom.host_header() == "example.com:8080");
    CHECK(custom.to_string() == "http://example.com:8080/a?b=c");
    CHECK(custom.redacted() == "http://example.com:8080/a");

    // The scheme's own port is not repeated in the Host header.
    const auto explicit_default = parsed("https://example.com:443/");
    CHECK(explicit_default.port == 443);
    CHECK(explicit_default.host_header() == "example.com");

    CHECK(parsed("https://example.com:/x").port == 443);
}

TEST_CASE("url: empty path becomes /, fragment is dropped, query without path kept") {
    CHECK(parsed("https://example.com").target == "/");
    CHECK(parsed("https://example.com/a#frag").target == "/a");
    CHECK(parsed("https://example.com?x=1").target == "/?x=1");
    CHECK(parsed("https://example.com/a%20b?q=%2F").target == "/a%20b?q=%2F");
}

TEST_CASE("url: scheme and host name are case-insensitive") {
    const auto u = parsed("HTTPS://CDN.Example.COM/File.MP3");
    CHECK(u.https);
    CHECK(u.host == "cdn.example.com");
    CHECK(u.target == "/File.MP3");
}

TEST_CASE("url: IP literal hosts") {
    const auto v4 = parsed("http://192.0.2.7:81/x");
    CHECK(v4.host == "192.0.2.7");
    CHECK(v4.host_header() == "192.0.2.7:81");

    const auto v6 = parsed("https://[2001:DB8::1]/x?y");
    CHECK(v6.host == "2001:db8::1");
    CHECK(v6.port == 443);
    CHECK(v6.host_header() == "[2001:db8::1]");
    CHECK(v6.to_string() == "https://[2001:db8::1]/x?y");

    const auto v6_port = parsed("http://[::1]:8443/");
    CHECK(v6_port.host == "::1");
    CHECK(v6_port.host_header() == "[::1]:8443");
    CHECK(v6_port.redacted() == "http://[::1]:8443/");
}

TEST_CASE("url: refusals") {
    CHECK(refused(""));
    CHECK(refused("ftp://example.com/file.mp3"));
    CHECK(refused("file:///etc/passwd"));
    CHECK(refused("/relative/path"));
    CHECK(refused("example.com/file.mp3"));
    CHECK(refused("//example.com/file.mp3"));
    CHECK(refused("https://user:secret@example.com/"));
    CHECK(refused("https://user@example.com/"));
    CHECK(refused("https:///path"));
    CHECK(refused("https://"));
    CHECK(refused("https://example.com:0/"));
    CHECK(refused("https://example.com:65536/"));
    CHECK(refused("https://example.com:99999999999999999999/"));
    CHECK(refused("https://exa mple.com/"));
    CHECK(refused("https://exa%20mple.com/"));
    CHECK(refused("https://[v1.fe]/"));
    CHECK(refused("mailto:someone@example.com"));
}

TEST_CASE("url: redact drops query, fragment and userinfo") {
    CHECK(redact("https://cdn.example.com/a/b.mp3?X-Amz-Signature=secret#t=1") ==
          "https://cdn.example.com/a/b.mp3");
    CHECK(redact("https://user:pw@cdn.example.com:8443/a?tok=1") ==
          "https://cdn.example.com:8443/a");
    CHECK(redact("https://example.com") == "https://example.com");
    CHECK(redact("/path/only?token=abc") == "/path/only");
    CHECK(redact("https://exa mple.com/?token=abc") == "(invalid URL)");
    CHECK(redact("https://example.com/\x01?token=abc") == "(invalid URL)");
}

TEST_CASE("url: resolve_location forms") {
    const auto base = parsed("https://cdn.example.com/dir/sub/file.mp3?sig=1");

    SUBCASE("absolute") {
        auto u = resolve_location(base, "http://other.example.org:8080/x.wav?t=2");
        REQUIRE(u.has_value());
        CHECK_FALSE(u->https);
        CHECK(u->host == "other.example.org");
        CHECK(u->port == 8080);
        CHECK(u->target == "/x.wav?t=2");
    }
    SUBCASE("scheme-relative keeps the scheme") {
        auto u = resolve_location(base, "//mirror.example.net/y.mp3");
        REQUIRE(u.has_value());
        CHECK(u->https);
        CHECK(u->host == "mirror.example.net");
        CHECK(u->port == 443);
        CHECK(u->target == "/y.mp3");
    }
    SUBCASE("absolute path keeps scheme, host and port") {
        const auto with_port = parsed("https://cdn.example.com:8443/a/b?q=1");
        auto u = resolve_location(with_port, "/c/d.mp3?new=2");
        REQUIRE(u.has_value());
        CHECK(u->host == "cdn.example.com");
        CHECK(u->port == 8443);
        CHECK(u->target == "/c/d.mp3?new=2");
    }
    SUBCASE("relative path is merged with the base directory") {
        auto u = resolve_location(base, "other.mp3");
        REQUIRE(u.has_value());
        CHECK(u->to_string() == "https://cdn.example.com/dir/sub/other.mp3");
        auto up = resolve_location(base, "../up.mp3?k=v#frag");
        REQUIRE(up.has_value());
        CHECK(up->to_string() == "https://cdn.example.com/dir/up.mp3?k=v");
    }
    SUBCASE("query-only keeps the path") {
        auto u = resolve_location(base, "?sig=2");
        REQUIRE(u.has_value());
        CHECK(u->target == "/dir/sub/file.mp3?sig=2");
    }
    SUBCASE("unusable locations") {
        CHECK_FALSE(resolve_location(base, "").has_value());
        CHECK_FALSE(resolve_location(base, "ftp://example.com/x").has_value());
        CHECK_FALSE(resolve_location(base, "https://user:pw@example.com/x").has_value());
        CHECK_FALSE(resolve_location(base, "http://exa mple.com/").has_value());
    }
}
