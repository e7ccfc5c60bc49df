#include "client/downloader.hpp"

#include "client/error.hpp"
#include "common/crypto.hpp"
#include "tests/client/download_support.hpp"
#include "tests/support/files.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

using namespace stemd::client;
using namespace stemd::client::testing;
using stemd::sha256_hex;
using stemd::test::read_file;
using stemd::test::workspace;
namespace fs = std::filesystem;

// Resuming: .part files, Range, and servers that get Range wrong.

TEST_CASE("downloader: a transfer cut short is kept and resumed with Range") {
    const std::string body = make_body(200'000);
    const std::size_t cut = 70'000;
    std::atomic<int> calls{0};
    test_server server([&](const seen_request& req) {
        if (calls++ == 0)
            return response(200, {{"Content-Type", "audio/mpeg"}, {"ETag", "\"v1\""}},
                            std::string_view(body).substr(0, cut), body.size());
        return partial_response(body, range_start(req.range));
    });
    workspace dir("downloader-test");
    download_progress progress;
    auto r = request_for(server, "/a/stem.mp3?sig=SECRET", dir);
    r.progress = &progress;
    const fs::path part = dir.path() / "stems" / "track_vocals.mp3.part";

    const auto broken = fetch(r);
    REQUIRE_FALSE(broken.has_value());
    // What the chunk loop counted, of the length the server announced.
    CHECK(progress.received == cut);
    CHECK(progress.total == std::optional<std::uint64_t>(body.size()));
    CHECK(broken.error().code == error::length_mismatch);
    CHECK(broken.error().transient());
    CHECK(broken.error().code != error::link_expired);
    CHECK(broken.error().message.find("SECRET") == std::string::npos);
    REQUIRE(fs::exists(part));
    CHECK(read_file(part) == body.substr(0, cut));

    progress = {};
    const auto resumed = fetch(r);
    REQUIRE(resumed.has_value());
    CHECK(progress.received == body.size());
    CHECK(progress.total == std::optional<std::uint64_t>(body.size()));
    CHECK(resumed->resumed_from == cut);
    CHECK(resumed->bytes == body.size());
    CHECK(resumed->sha256 == sha256_hex(body));
    CHECK(read_file(resumed->path) == body);
    CHECK_FALSE(fs::exists(part));

    const auto seen = server.requests();
    REQUIRE(seen.size() == 2);
    CHECK(seen[1].range == "bytes=" + std::to_string(cut) + "-");
    CHECK(seen[1].if_range == "\"v1\"");
}

TEST_CASE("downloader: a server ignoring Range restarts the file from zero") {
    const std::string body = make_body(100'000);
    test_server server([&](const seen_request&) { return response(200, {}, body); });
    workspace dir("downloader-test");
    const auto r = request_for(server, "/x.wav", dir);
    leave_part(r.directory / "track_vocals.wav", "stale bytes", r.url);

    const auto got = fetch(r);
    REQUIRE(got.has_value());
    CHECK(got->resumed_from == 0);
    CHECK(got->sha256 == sha256_hex(body));
    CHECK(read_file(r.directory / "track_vocals.wav") == body);
    REQUIRE(server.requests().size() == 1);
    CHECK(server.requests()[0].range == "bytes=11-");
}

TEST_CASE("downloader: a 206 for the wrong range is retried without Range") {
    const std::string body = make_body(50'000);
    test_server server([&](const seen_request& req) {
        if (!req.range.empty())
            return partial_response(body, 5);
        return response(200, {}, body);
    });
    workspace dir("downloader-test");
    const auto r = request_for(server, "/x.flac", dir);
    leave_part(r.directory / "track_vocals.flac", "0123456789", r.url);

    const auto got = fetch(r);
    REQUIRE(got.has_value());
    CHECK(got->resumed_from == 0);
    CHECK(read_file(got->path) == body);
    const auto seen = server.requests();
    REQUIRE(seen.size() == 2);
    CHECK(seen[0].range == "bytes=10-");
    CHECK(seen[1].range.empty());
}

TEST_CASE("downloader: 416 for an existing .part starts over once") {
    const std::string body = make_body(1000);
    test_server server([&](const seen_request& req) {
        if (!req.range.empty())
            return response(416, {{"Content-Range", "bytes */1000"}}, "");
        return response(200, {}, body);
    });
    workspace dir("downloader-test");
    const auto r = request_for(server, "/x.mp3", dir);
    leave_part(r.directory / "track_vocals.mp3", std::string(2000, 'z'), r.url);

    const auto got = fetch(r);
    REQUIRE(got.has_value());
    CHECK(read_file(got->path) == body);
    CHECK(server.requests().size() == 2);
}

TEST_CASE("downloader: without an extension in the URL an earlier .part is found and resumed") {
    const std::string body = make_body(150'000);
    const std::size_t cut = 80'000;
    std::atomic<int> calls{0};
    test_server server([&](const seen_request& req) {
        if (calls++ == 0)
            return response(200, {{"Content-Type", "audio/wav"}, {"ETag", "\"v1\""}},
                            std::string_view(body).substr(0, cut), body.size());
        return partial_response(body, range_start(req.range));
    });
    workspace dir("downloader-test");
    const auto r = request_for(server, "/download?id=9", dir);

    REQUIRE_FALSE(fetch(r).has_value());
    CHECK(fs::file_size(r.directory / "track_vocals.wav.part") == cut);

    const auto got = fetch(r);
    REQUIRE(got.has_value());
    CHECK(got->path.filename() == "track_vocals.wav");
    CHECK(got->resumed_from == cut);
    CHECK(got->sha256 == sha256_hex(body));
}

namespace {

// Object A until the link is refreshed, then object B: same length and
// path, another version. `honours_if_range` false: a server that answers
// Range with 206 whatever If-Range says.
std::string a_then_b(const seen_request& req, const std::string& a, const std::string& b,
                     bool honours_if_range) {
    if (req.target.find("sig=old") != std::string::npos)
        return response(200, {{"ETag", "\"A\""}}, std::string_view(a).substr(0, a.size() / 2),
                        a.size());
    if (req.range.empty() || (honours_if_range && !req.if_range.empty() && req.if_range != "\"B\""))
        return response(200, {{"ETag", "\"B\""}}, b);
    return partial_response(b, range_start(req.range), "\"B\"");
}

} // namespace

TEST_CASE("downloader: a resume after the object changed starts over and keeps only the new "
          "object's bytes") {
    const std::string a = make_body(120'000);
    const std::string b = std::string(a.rbegin(), a.rend());
    for (const bool honours : {true, false}) {
        CAPTURE(honours);
        test_server server([&](const seen_request& req) { return a_then_b(req, a, b, honours); });
        workspace dir("downloader-test");
        auto r = request_for(server, "/stems/v.mp3?sig=old", dir);
        REQUIRE_FALSE(fetch(r).has_value());
        REQUIRE(fs::file_size(r.directory / "track_vocals.mp3.part") == a.size() / 2);

        r.url = server.url("/stems/v.mp3?sig=new");
        const auto got = fetch(r);
        REQUIRE(got.has_value());
        CHECK(read_file(got->path) == b);
        CHECK(got->sha256 == sha256_hex(b));
        CHECK(got->resumed_from == 0);
        CHECK(server.requests()[1].if_range == "\"A\"");
        CHECK_FALSE(fs::exists(r.directory / "track_vocals.mp3.part.meta"));
    }
}

TEST_CASE("downloader: a .part is not offered to a link for another object") {
    const std::string body = make_body(30'000);
    test_server server([&](const seen_request&) { return response(200, {}, body); });
    workspace dir("downloader-test");
    const auto r = request_for(server, "/other/v.mp3?sig=1", dir);
    leave_part(r.directory / "track_vocals.mp3", "12345", server.url("/first/v.mp3?sig=0"));

    const auto got = fetch(r);
    REQUIRE(got.has_value());
    CHECK(read_file(got->path) == body);
    REQUIRE(server.requests().size() == 1);
    CHECK(server.requests()[0].range.empty());
}

TEST_CASE("downloader: a .part without a resume record, or a 206 of another length, starts over") {
    const std::string body = make_body(30'000);
    test_server server([&](const seen_request& req) {
        if (!req.range.empty())
            return partial_response(body, range_start(req.range));
        return response(200, {}, body);
    });
    workspace dir("downloader-test");
    const auto r = request_for(server, "/x.mp3", dir);
    fs::create_directories(r.directory);
    std::ofstream(r.directory / "track_vocals.mp3.part", std::ios::binary) << "no record";
    REQUIRE(fetch(r).has_value());
    REQUIRE(server.requests().size() == 1);
    CHECK(server.requests()[0].range.empty());

    fs::remove(r.directory / "track_vocals.mp3");
    leave_part(r.directory / "track_vocals.mp3", "12345", r.url, body.size() + 1);
    const auto got = fetch(r);
    REQUIRE(got.has_value());
    CHECK(read_file(got->path) == body);
    CHECK(got->resumed_from == 0);
    REQUIRE(server.requests().size() == 3);
    CHECK(server.requests()[2].range.empty());
}
