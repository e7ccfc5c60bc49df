#include "client/s3_upload.hpp"

#include "client/error.hpp"
#include "tests/support/reference_hash.hpp"
#include "tests/support/s3_server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <doctest/doctest.h>

#include <cstdint>
#include <exception>
#include <filesystem>
#include <optional>
#include <string>

#include <unistd.h>

// The multipart sink against the real s3rver: parts as they fill, the
// digest and length checks, and aborting (nothing left in the bucket's
// upload listing, read from s3rver's own store).

namespace net = boost::asio;
using namespace stemd;
using stemd::test::s3_server;

namespace {

template <class T> T run(net::awaitable<T> work) {
    net::io_context ioc;
    std::optional<T> out;
    std::exception_ptr failure;
    net::co_spawn(ioc, std::move(work), [&](std::exception_ptr e, T value) {
        failure = e;
        if (!e)
            out.emplace(std::move(value));
    });
    ioc.run();
    if (failure)
        std::rethrow_exception(failure);
    return std::move(*out);
}

std::string make_bytes(std::size_t n) {
    std::string s(n, '\0');
    unsigned x = 7;
    for (auto& c : s) {
        x = x * 1103515245u + 12345u;
        c = static_cast<char>(x >> 16);
    }
    return s;
}

struct fixture {
    s3_server server;
    net::ssl::context tls{net::ssl::context::tls_client};
    client::s3_client s3{settings(), tls};

    client::s3_settings settings() {
        client::s3_settings s;
        s.endpoint = server.endpoint();
        s.region = server.region();
        s.bucket = server.bucket();
        s.access_key = server.access_key();
        s.secret_key = server.secret_key();
        s.connect.allow_http = true;
        s.connect.allow_private_addresses = true;
        return s;
    }

    std::string object(const std::string& key) {
        return run([&]() -> net::awaitable<std::string> {
            auto tmp = std::filesystem::temp_directory_path() /
                       ("stemd-s3-upload-test-" + std::to_string(::getpid()));
            auto got = co_await s3.fetch_to(key, tmp.string());
            REQUIRE_MESSAGE(got.has_value(), got.error().message);
            std::string out(static_cast<std::size_t>(*got), '\0');
            FILE* f = std::fopen(tmp.c_str(), "rb");
            REQUIRE(f != nullptr);
            REQUIRE(std::fread(out.data(), 1, out.size(), f) == out.size());
            std::fclose(f);
            std::filesystem::remove(tmp);
            co_return out;
        }());
    }

    // Writes `body` in 64 KiB pieces, then finishes with the checks given.
    result<client::s3_stored> upload(const std::string& key, const std::string& body,
                                     std::optional<std::uint64_t> length,
                                     std::optional<std::string> digest,
                                     std::uint64_t max_bytes = 1u << 30) {
        return run([&]() -> net::awaitable<result<client::s3_stored>> {
            client::s3_upload up(s3, key, max_bytes, client::s3_min_part_size);
            const std::string type = "audio/wav";
            if (auto b = co_await up.begin(type); !b)
                co_return b.error();
            for (std::size_t at = 0; at < body.size(); at += 64 * 1024) {
                auto w = co_await up.write(
                    {body.data() + at, std::min<std::size_t>(64 * 1024, body.size() - at)});
                if (!w)
                    co_return w.error();
            }
            co_return co_await up.finish(length, digest);
        }());
    }
};

} // namespace

TEST_CASE("s3 upload: a body of several parts becomes the object, its SHA-256 computed") {
    s3_server::skip_unless_available();
    fixture f;
    const std::string body = make_bytes((11u << 20) + 777); // three 5 MiB parts
    auto stored = f.upload("t/one.wav", body, body.size(), stemd::test::sha256_hex(body));
    REQUIRE_MESSAGE(stored.has_value(), stored.error().message);
    CHECK(stored->bytes == body.size());
    CHECK(stored->sha256 == stemd::test::sha256_hex(body));
    CHECK(f.object("t/one.wav") == body);
    CHECK(f.server.leftover_uploads().empty());
    // An empty body is one empty part.
    auto empty = f.upload("t/empty.wav", "", 0, std::nullopt);
    REQUIRE_MESSAGE(empty.has_value(), empty.error().message);
    CHECK(f.object("t/empty.wav").empty());
}

TEST_CASE("s3 upload: a wrong length, digest or a too-large body aborts, leaving no upload") {
    s3_server::skip_unless_available();
    fixture f;
    const std::string body = make_bytes((6u << 20) + 3);
    auto short_body = f.upload("t/a.wav", body, body.size() + 1, std::nullopt);
    REQUIRE_FALSE(short_body.has_value());
    CHECK(short_body.error().code == client::error::length_mismatch);
    auto wrong = f.upload("t/a.wav", body, body.size(), std::string(64, '0'));
    REQUIRE_FALSE(wrong.has_value());
    CHECK(wrong.error().message.find("SHA-256") != std::string::npos);
    auto large = f.upload("t/a.wav", body, std::nullopt, std::nullopt, 6u << 20);
    REQUIRE_FALSE(large.has_value());
    CHECK(large.error().code == client::error::body_too_large);
    CHECK(f.server.leftover_uploads().empty());
    CHECK_FALSE(std::filesystem::exists(f.server.directory() / f.server.bucket() / "t" / "a.wav"));
}

TEST_CASE("s3 upload: begin aborts the unfinished uploads of the same key only") {
    s3_server::skip_unless_available();
    fixture f;
    auto left = run([&]() -> net::awaitable<std::pair<std::string, std::string>> {
        // Named: GCC 12 destroys temporaries of a co_await twice.
        const std::string key = "t/x.wav", other = "t/x.wav.other", type = "audio/wav";
        auto a = co_await f.s3.create_upload(key, type);
        auto b = co_await f.s3.create_upload(other, type);
        REQUIRE(a.has_value());
        REQUIRE(b.has_value());
        co_return std::pair{*a, *b};
    }());
    REQUIRE(f.server.leftover_uploads().size() == 2);
    const std::string body = make_bytes(1000);
    auto stored = f.upload("t/x.wav", body, body.size(), std::nullopt);
    REQUIRE_MESSAGE(stored.has_value(), stored.error().message);
    const auto remaining = f.server.leftover_uploads();
    REQUIRE(remaining.size() == 1);
    CHECK(remaining[0].first == "t/x.wav.other");
    CHECK(remaining[0].second == left.second);
}

TEST_CASE("s3 upload: the part size fits a known length in 10,000 parts, in whole MiB") {
    constexpr std::uint64_t mib = std::uint64_t{1} << 20;
    // Unknown or small: the smallest part (8 MiB, never under 5 MiB).
    CHECK(client::s3_part_size_for(std::nullopt) == client::s3_part_size);
    CHECK(client::s3_part_size_for(0) == client::s3_part_size);
    CHECK(client::s3_part_size_for(80'000 * mib) == client::s3_part_size);
    CHECK(client::s3_part_size_for(std::nullopt, 1024) == client::s3_min_part_size);
    // Just past 10,000 parts of 8 MiB: 9 MiB.
    CHECK(client::s3_part_size_for(80'000 * mib + 1) == 9 * mib);
    // ceil(length / 10000), rounded up to a MiB.
    CHECK(client::s3_part_size_for(100'000 * mib) == 10 * mib);
    CHECK(client::s3_part_size_for(100'000 * mib + 1) == 11 * mib);
    // Whatever the length, it fits.
    const std::uint64_t lengths[] = {1, 5 * mib, 80'000 * mib + 1, 123'456'789'012,
                                     5 * (mib << 20)};
    for (const std::uint64_t length : lengths) {
        CAPTURE(length);
        const std::uint64_t part = client::s3_part_size_for(length);
        CHECK(part % mib == 0);
        CHECK(part >= client::s3_part_size);
        CHECK((length + part - 1) / part <= std::uint64_t{client::s3_max_parts});
    }
}
