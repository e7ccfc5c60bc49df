#include "client/downloader.hpp"

#include "client/error.hpp"
#include "common/crypto.hpp"
#include "tests/client/download_support.hpp"
#include "tests/support/files.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <vector>

using namespace stemd::client;
using namespace stemd::client::testing;
using stemd::sha256_hex;
using stemd::test::read_file;
using stemd::test::workspace;

// Redirects, and what each HTTP status means for the download.

TEST_CASE("downloader: redirects are followed, loops and long chains refused") {
    const std::string body = make_body(10'000);
    test_server server([&](const seen_request& req) {
        if (req.target == "/start?sig=SECRET")
            return redirect(302, "/files/deep/one?sig=SECRET2");
        if (req.target == "/files/deep/one?sig=SECRET2")
            return redirect(307, "../final.ogg?sig=SECRET3");
        if (req.target == "/files/final.ogg?sig=SECRET3")
            return response(200, {}, body);
        if (req.target == "/loop-a")
            return redirect(301, "/loop-b");
        if (req.target == "/loop-b")
            return redirect(301, "/loop-a");
        if (req.target == "/no-location")
            return response(302, {}, "");
        return response(404, {}, "");
    });
    workspace dir("downloader-test");

    SUBCASE("followed, extension taken from the last hop") {
        const auto got = fetch(request_for(server, "/start?sig=SECRET", dir));
        REQUIRE(got.has_value());
        CHECK(got->path.filename() == "track_vocals.ogg");
        CHECK(read_file(got->path) == body);
        CHECK(server.requests().size() == 3);
    }
    SUBCASE("too many") {
        download_options o;
        o.max_redirects = 1;
        const auto got = fetch(request_for(server, "/start?sig=SECRET", dir), o);
        REQUIRE_FALSE(got.has_value());
        CHECK(got.error().code == error::too_many_redirects);
        CHECK_FALSE(got.error().transient());
        CHECK(got.error().message.find("SECRET") == std::string::npos);
    }
    SUBCASE("loop") {
        const auto got = fetch(request_for(server, "/loop-a", dir));
        REQUIRE_FALSE(got.has_value());
        CHECK(got.error().code == error::redirect_loop);
        CHECK_FALSE(got.error().transient());
        CHECK(server.requests().size() == 2);
    }
    SUBCASE("without Location") {
        const auto got = fetch(request_for(server, "/no-location", dir));
        REQUIRE_FALSE(got.has_value());
        CHECK(got.error().code == error::bad_redirect);
        CHECK(got.error().message.find("HTTP 302") != std::string::npos);
    }
    SUBCASE("to plain http when http is not allowed") {
        // The first hop must itself be https for this to be reached, so
        // only the refusal of an http start is observable here.
        download_options o;
        o.connect.allow_http = false;
        const auto got = fetch(request_for(server, "/start?sig=SECRET", dir), o);
        REQUIRE_FALSE(got.has_value());
        CHECK(got.error().code == error::scheme_not_allowed);
        CHECK_FALSE(got.error().transient());
        CHECK(server.requests().empty());
    }
}

TEST_CASE("downloader: HTTP statuses map to retryable / link expired") {
    struct row {
        unsigned status;
        bool retryable;
        bool link_expired;
    };
    const row rows[] = {{401, true, true},   {403, true, true},  {404, true, true},
                        {410, true, true},   {408, true, false}, {429, true, false},
                        {500, true, false},  {503, true, false}, {400, false, false},
                        {405, false, false}, {204, false, false}};
    for (const auto& expected : rows) {
        CAPTURE(expected.status);
        test_server server([&](const seen_request&) { return response(expected.status, {}, ""); });
        workspace dir("downloader-test");
        const auto got = fetch(request_for(server, "/x.mp3?sig=SECRET", dir));
        REQUIRE_FALSE(got.has_value());
        CHECK(got.error().message.find("HTTP " + std::to_string(expected.status)) !=
              std::string::npos);
        CHECK(got.error().transient() == expected.retryable);
        CHECK((got.error().code == error::link_expired) == expected.link_expired);
        CHECK(got.error().message.find(std::to_string(expected.status)) != std::string::npos);
        CHECK(got.error().message.find("/x.mp3") != std::string::npos);
        CHECK(got.error().message.find("SECRET") == std::string::npos);
    }
}

// Beast's header limit covers neither chunk-size lines nor the trailer, so a
// hostile file server could make the downloader buffer without end. The
// read buffer is capped: such a response fails as not following the
// protocol long before its bytes are all read (without the cap it is read
// whole and then ends as a transfer cut short).
TEST_CASE("downloader: an endless chunk extension or trailer is refused, not buffered") {
    const std::string endless(16 * 1024 * 1024, 'x');
    const std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                             "Connection: close\r\n\r\n";
    test_server server([&](const seen_request& req) {
        if (req.target == "/extension")
            return head + "1;" + endless;
        if (req.target == "/trailer")
            return head + "1\r\na\r\n0\r\nX-Trailer: " + endless;
        return head + "1;a=b\r\na\r\n0\r\n\r\n";
    });
    workspace dir("downloader-endless");

    SUBCASE("a short extension is fine") {
        const auto got = fetch(request_for(server, "/fine", dir));
        REQUIRE_MESSAGE(got.has_value(), got.error().message);
        CHECK(read_file(got->path) == "a");
    }
    SUBCASE("endless ones are refused") {
        for (const char* target : {"/extension", "/trailer"}) {
            CAPTURE(target);
            const auto got = fetch(request_for(server, target, dir));
            REQUIRE_FALSE(got.has_value());
            CHECK_MESSAGE(got.error().code == error::bad_response, got.error().message);
        }
    }
}

TEST_CASE("downloader: a server trickling bytes is cut off at max_duration, the .part kept") {
    const std::string body = make_body(20'000);
    // 100 bytes every 20 ms: about 4 s for the whole file, never idle for long.
    test_server server(
        [&](const seen_request&) {
            return response(200, {{"ETag", "\"t\""}}, body);
        },
        pacing{100, std::chrono::milliseconds(20)});
    workspace dir("downloader-test");
    const auto r = request_for(server, "/slow.mp3", dir);
    download_options o;
    o.max_duration = std::chrono::milliseconds(300);
    const auto got = fetch(r, o);
    REQUIRE_FALSE(got.has_value());
    CHECK(got.error().code == error::too_slow);
    CHECK(got.error().transient());
    CHECK(got.error().message.find("download.max_seconds") != std::string::npos);
    // Cut off, not waited out: less than the whole body arrived.
    const auto part = r.directory / "track_vocals.mp3.part";
    REQUIRE(std::filesystem::exists(part));
    CHECK(std::filesystem::file_size(part) < body.size());
    CHECK(read_file(part) == body.substr(0, std::filesystem::file_size(part)));
}
