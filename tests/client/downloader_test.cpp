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
namespace fs = std::filesystem;

// Whole files, names, limits and refusals.

TEST_CASE("downloader: whole file, then found complete on disk") {
    const std::string body = make_body(300'000);
    test_server server([&](const seen_request&) {
        return response(200, {{"Content-Type", "audio/mpeg"}}, body);
    });
    workspace dir("downloader-test");
    const auto r = request_for(server, "/conversions/t_vocals.mp3?sig=SECRET", dir);

    const auto first = fetch(r);
    REQUIRE(first.has_value());
    CHECK(first->path == dir.path() / "stems" / "track_vocals.mp3");
    CHECK(first->bytes == body.size());
    CHECK(first->sha256 == sha256_hex(body));
    CHECK(first->resumed_from == 0);
    CHECK_FALSE(first->already_complete);
    CHECK(read_file(first->path) == body);
    CHECK_FALSE(fs::exists(dir.path() / "stems" / "track_vocals.mp3.part"));

    const auto seen = server.requests();
    REQUIRE(seen.size() == 1);
    CHECK(seen[0].target == "/conversions/t_vocals.mp3?sig=SECRET");
    CHECK(seen[0].host == server.url("").substr(std::string_view("http://").size()));
    CHECK(seen[0].user_agent == "stemd/" STEMD_VERSION);
    CHECK(seen[0].accept == "*/*");
    CHECK(seen[0].range.empty());

    const auto again = fetch(r);
    REQUIRE(again.has_value());
    CHECK(again->already_complete);
    CHECK(again->path == first->path);
    CHECK(again->bytes == body.size());
    CHECK(again->sha256 == first->sha256);
    CHECK(server.requests().size() == 1);
}

TEST_CASE("downloader: extension from Content-Type, else the fallback") {
    const std::string body = make_body(5000);
    test_server server([&](const seen_request& req) {
        if (req.target == "/dl?id=1")
            return response(200, {{"Content-Type", "Audio/FLAC; charset=binary"}}, body);
        return response(200, {{"Content-Type", "application/octet-stream"}}, body);
    });
    workspace dir("downloader-test");

    const auto flac = fetch(request_for(server, "/dl?id=1", dir, "a"));
    REQUIRE(flac.has_value());
    CHECK(flac->path.filename() == "a.flac");

    const auto other = fetch(request_for(server, "/dl?id=2", dir, "b"));
    REQUIRE(other.has_value());
    CHECK(other->path.filename() == "b.bin");

    // No extension in the URL: the finished file is found by name.
    const auto again = fetch(request_for(server, "/dl?id=1", dir, "a"));
    REQUIRE(again.has_value());
    CHECK(again->already_complete);
    CHECK(again->path.filename() == "a.flac");
    CHECK(server.requests().size() == 2);
}

TEST_CASE("downloader: more than max_bytes is refused and leaves nothing behind") {
    const std::string body = make_body(100'000);
    test_server server([&](const seen_request& req) {
        if (req.target == "/chunked.mp3")
            return chunked_response({}, body, 10'000);
        return response(200, {}, body);
    });
    workspace dir("downloader-test");
    download_options o;
    o.max_bytes = 50'000;

    for (const char* target : {"/announced.mp3", "/chunked.mp3"}) {
        CAPTURE(target);
        const auto got = fetch(request_for(server, target, dir), o);
        REQUIRE_FALSE(got.has_value());
        CHECK(got.error().code == error::body_too_large);
        CHECK_FALSE(got.error().transient());
        CHECK_FALSE(fs::exists(dir.path() / "stems" / "track_vocals.mp3.part"));
        CHECK_FALSE(fs::exists(dir.path() / "stems" / "track_vocals.mp3"));
    }
}

TEST_CASE("downloader: local write failures are file_io naming the path") {
    test_server server([&](const seen_request&) { return response(200, {}, "data"); });
    workspace dir("downloader-test");
    const auto r = request_for(server, "/x.mp3", dir);
    // A directory where the .part file should go cannot be opened for writing.
    fs::create_directories(r.directory / "track_vocals.mp3.part");

    const auto got = fetch(r);
    REQUIRE_FALSE(got.has_value());
    CHECK(got.error().code == error::file_io);
    CHECK(got.error().transient());
    CHECK(got.error().message.find((r.directory / "track_vocals.mp3.part").string()) !=
          std::string::npos);
}

TEST_CASE("downloader: links that are not http(s) URLs are refused before any request") {
    workspace dir("downloader-test");
    download_request r;
    r.directory = dir.path();
    r.name = "x";
    r.url = "ftp://example.com/x.mp3?sig=SECRET";
    const auto got = fetch(r);
    REQUIRE_FALSE(got.has_value());
    CHECK(got.error().code == error::bad_url);
    CHECK_FALSE(got.error().transient());
    CHECK(got.error().message.find("SECRET") == std::string::npos);
}
