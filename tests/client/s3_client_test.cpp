#include "client/s3_client.hpp"

#include "client/error.hpp"
#include "common/crypto.hpp"
#include "tests/support/http_probe.hpp"
#include "tests/support/s3_server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <doctest/doctest.h>

#include <chrono>
#include <exception>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>

#include <sys/stat.h>

// Against the real s3rver (tests/support/s3), which checks every SigV4
// signature independently of common/sigv4.cpp.

namespace net = boost::asio;
namespace http = boost::beast::http;
using namespace stemd;
using stemd::test::s3_server;

namespace {

// Runs one coroutine to completion on a fresh io_context.
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

struct fixture {
    s3_server server;
    net::ssl::context tls{net::ssl::context::tls_client};

    client::s3_settings settings(std::string secret = "") {
        client::s3_settings s;
        s.endpoint = server.endpoint();
        s.region = server.region();
        s.bucket = server.bucket();
        s.access_key = server.access_key();
        s.secret_key = secret.empty() ? server.secret_key() : secret;
        return s;
    }
};

// Not a repeating pattern, so a part out of place changes the bytes.
std::string make_bytes(std::size_t n, unsigned seed) {
    std::string s(n, '\0');
    unsigned x = seed * 2654435761u + 1;
    for (auto& c : s) {
        x = x * 1103515245u + 12345u;
        c = static_cast<char>(x >> 16);
    }
    return s;
}

// A plain GET of `url` over client::connection, optionally with a Range.
net::awaitable<http::response<http::string_body>> get_async(net::ssl::context& tls, std::string url,
                                                            std::string range) {
    auto parsed = client::parse_http_url(url);
    REQUIRE(parsed.has_value());
    auto conn = co_await client::connection::open(*parsed, client::connect_options{}, tls);
    REQUIRE(conn.has_value());
    http::request<http::string_body> req{http::verb::get, parsed->target, 11};
    req.set(http::field::host, parsed->host_header());
    if (!range.empty())
        req.set(http::field::range, range);
    auto sent = co_await conn->write(req);
    REQUIRE(sent.has_value());
    auto res = co_await conn->read(64 * 1024 * 1024);
    co_await conn->close();
    REQUIRE(res.has_value());
    co_return std::move(*res);
}

http::response<http::string_body> fetch(net::ssl::context& tls, const std::string& url,
                                        const std::string& range = "") {
    return run(get_async(tls, url, range));
}

} // namespace

TEST_CASE("s3: a three-part upload completes, and head, a presigned GET and a Range read it") {
    s3_server::skip_unless_available();
    fixture f;
    client::s3_client s3(f.settings(), f.tls);
    const std::string key = "jobs/a b/stem+1.mp3";
    const std::string part1 = make_bytes(5 * 1024 * 1024, 1);
    const std::string part2 = make_bytes(5 * 1024 * 1024, 2);
    const std::string part3 = "!";
    const std::string whole = part1 + part2 + part3;

    auto id = run(s3.create_upload(key, "audio/mpeg"));
    REQUIRE_MESSAGE(id.has_value(), id.error().message);
    std::vector<std::string> etags;
    for (const std::string* part : {&part1, &part2, &part3}) {
        auto etag = run(s3.upload_part(key, *id, int(etags.size()) + 1, *part));
        REQUIRE_MESSAGE(etag.has_value(), etag.error().message);
        etags.push_back(*etag);
    }
    auto open = run(s3.unfinished_uploads(key));
    REQUIRE_MESSAGE(open.has_value(), open.error().message);
    CHECK(*open == std::vector<std::string>{*id});
    CHECK(f.server.leftover_uploads().size() == 1);

    auto done = run(s3.complete_upload(key, *id, etags));
    REQUIRE_MESSAGE(done.has_value(), done.error().message);
    auto after = run(s3.unfinished_uploads(key));
    REQUIRE(after.has_value());
    CHECK(after->empty());
    CHECK(f.server.leftover_uploads().empty());

    auto facts = run(s3.head(key));
    REQUIRE_MESSAGE(facts.has_value(), facts.error().message);
    CHECK(facts->size == whole.size());
    CHECK(facts->content_type == "audio/mpeg");

    const std::string url = s3.presigned_get(key, std::chrono::minutes(10));
    CHECK(url.find("X-Amz-Signature=") != std::string::npos);
    auto got = fetch(f.tls, url);
    CHECK(got.result_int() == 200);
    CHECK(sha256_hex(got.body()) == sha256_hex(whole));
    auto slice = fetch(f.tls, url, "bytes=5242878-5242881");
    CHECK(slice.result_int() == 206);
    CHECK(slice.body() == whole.substr(5242878, 4));

    // The URL is signed: a changed signature is refused.
    std::string forged = url;
    forged[forged.size() - 1] = forged.back() == '0' ? '1' : '0';
    CHECK(fetch(f.tls, forged).result_int() == 403);
}

TEST_CASE("s3: an aborted upload leaves nothing behind") {
    s3_server::skip_unless_available();
    fixture f;
    client::s3_client s3(f.settings(), f.tls);
    const std::string key = "stems/aborted.wav";
    auto id = run(s3.create_upload(key, "audio/wav"));
    REQUIRE_MESSAGE(id.has_value(), id.error().message);
    REQUIRE(run(s3.upload_part(key, *id, 1, std::string("some bytes"))).has_value());
    auto other = run(s3.create_upload(key + ".other", "audio/wav"));
    REQUIRE(other.has_value());

    auto listed = run(s3.unfinished_uploads(key));
    REQUIRE_MESSAGE(listed.has_value(), listed.error().message);
    CHECK(*listed == std::vector<std::string>{*id}); // exactly this key, not the other
    REQUIRE(f.server.leftover_uploads().size() == 2);

    auto aborted = run(s3.abort_upload(key, *id));
    REQUIRE_MESSAGE(aborted.has_value(), aborted.error().message);
    CHECK(run(s3.unfinished_uploads(key))->empty());
    REQUIRE(run(s3.abort_upload(key + ".other", *other)).has_value());
    CHECK(f.server.leftover_uploads().empty());
    // Aborting again: already gone is success.
    auto again = run(s3.abort_upload(key, *id));
    CHECK_MESSAGE(again.has_value(), again.error().message);
    // And the object was never made.
    auto facts = run(s3.head(key));
    REQUIRE_FALSE(facts.has_value());
    CHECK(facts.error().is(condition::not_found));
}

TEST_CASE("s3: a wrong secret key fails with S3's SignatureDoesNotMatch") {
    s3_server::skip_unless_available();
    fixture f;
    client::s3_client s3(f.settings("not-the-secret"), f.tls);
    auto id = run(s3.create_upload("x/y.mp3", "audio/mpeg"));
    REQUIRE_FALSE(id.has_value());
    const std::string& m = id.error().message;
    CHECK_MESSAGE(m.find("SignatureDoesNotMatch") != std::string::npos, m);
    CHECK(m.find("s3://" + f.server.bucket() + "/x/y.mp3") != std::string::npos);
    CHECK(m.find("check the secret key") != std::string::npos);
    CHECK(m.find("not-the-secret") == std::string::npos);
    CHECK(id.error().is(condition::refused));
    CHECK(f.server.leftover_uploads().empty());
}

TEST_CASE("s3: remove deletes the object and a second remove succeeds") {
    s3_server::skip_unless_available();
    fixture f;
    client::s3_client s3(f.settings(), f.tls);
    const std::string key = "gone/soon.txt";
    auto id = run(s3.create_upload(key, "text/plain"));
    REQUIRE(id.has_value());
    auto etag = run(s3.upload_part(key, *id, 1, std::string("bye")));
    REQUIRE(etag.has_value());
    REQUIRE(run(s3.complete_upload(key, *id, {*etag})).has_value());
    REQUIRE(run(s3.head(key)).has_value());

    auto removed = run(s3.remove(key));
    REQUIRE_MESSAGE(removed.has_value(), removed.error().message);
    auto facts = run(s3.head(key));
    REQUIRE_FALSE(facts.has_value());
    CHECK(facts.error().is(condition::not_found));
    auto again = run(s3.remove(key));
    CHECK_MESSAGE(again.has_value(), again.error().message);
}

TEST_CASE("s3: fetch_to writes the object to a private file") {
    s3_server::skip_unless_available();
    fixture f;
    client::s3_client s3(f.settings(), f.tls);
    const std::string key = "waves/one.mp3";
    const std::string bytes = make_bytes(300 * 1024, 7);
    auto id = run(s3.create_upload(key, "audio/mpeg"));
    REQUIRE(id.has_value());
    auto etag = run(s3.upload_part(key, *id, 1, bytes));
    REQUIRE(etag.has_value());
    REQUIRE(run(s3.complete_upload(key, *id, {*etag})).has_value());

    const auto file = f.server.directory().parent_path() / "fetched.mp3";
    auto n = run(s3.fetch_to(key, file.string()));
    REQUIRE_MESSAGE(n.has_value(), n.error().message);
    CHECK(*n == bytes.size());
    CHECK(stemd::test::read_file(file) == bytes);
    struct stat st {};
    REQUIRE(::stat(file.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);

    auto missing = run(s3.fetch_to("waves/none.mp3", file.string() + ".2"));
    REQUIRE_FALSE(missing.has_value());
    CHECK(missing.error().is(condition::not_found));
    CHECK(missing.error().message.find("NoSuchKey") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(file.string() + ".2"));
}

TEST_CASE("s3: the test server's listing and abort refuse unsigned requests") {
    s3_server::skip_unless_available();
    fixture f;
    const auto list = stemd::test::http_request(f.server.port(), "GET",
                                                "/" + f.server.bucket() + "?uploads", "", "");
    CHECK(list.status == 403);
    CHECK(list.body.find("AccessDenied") != std::string::npos);
    const auto abort = stemd::test::http_request(
        f.server.port(), "DELETE", "/" + f.server.bucket() + "/k?uploadId=abc", "", "");
    CHECK(abort.status == 403);
}

namespace {

// A HEAD of `url` over client::connection: the status, no body read.
net::awaitable<unsigned> head_async(net::ssl::context& tls, std::string url) {
    auto parsed = client::parse_http_url(url);
    REQUIRE(parsed.has_value());
    auto conn = co_await client::connection::open(*parsed, client::connect_options{}, tls);
    REQUIRE(conn.has_value());
    http::request<http::string_body> req{http::verb::head, parsed->target, 11};
    req.set(http::field::host, parsed->host_header());
    auto sent = co_await conn->write(req);
    REQUIRE(sent.has_value());
    http::response_parser<http::buffer_body> parser;
    parser.skip(true); // a HEAD answer has no body, whatever Content-Length says
    auto read = co_await conn->read_header(parser);
    co_await conn->close();
    REQUIRE(read.has_value());
    co_return parser.get().result_int();
}

} // namespace

TEST_CASE("s3: a presigned HEAD URL answers HEAD, and a GET URL does not (the method is signed)") {
    s3_server::skip_unless_available();
    fixture f;
    client::s3_client s3(f.settings(), f.tls);
    const std::string key = "heads/one.mp3";
    auto id = run(s3.create_upload(key, "audio/mpeg"));
    REQUIRE_MESSAGE(id.has_value(), id.error().message);
    auto etag = run(s3.upload_part(key, *id, 1, std::string("tiny")));
    REQUIRE_MESSAGE(etag.has_value(), etag.error().message);
    REQUIRE(run(s3.complete_upload(key, *id, {*etag})).has_value());

    const std::string head_url = s3.presigned("HEAD", key, std::chrono::minutes(10));
    CHECK(head_url.find("X-Amz-Signature=") != std::string::npos);
    CHECK(run(head_async(f.tls, head_url)) == 200);
    // The defect: HEAD of a URL signed for GET is refused.
    CHECK(run(head_async(f.tls, s3.presigned_get(key, std::chrono::minutes(10)))) == 403);
    // presigned_get is presigned("GET"): a GET of it still works.
    const auto got = fetch(f.tls, s3.presigned("GET", key, std::chrono::minutes(10)));
    CHECK(got.result_int() == 200);
    CHECK(got.body() == "tiny");
}

TEST_CASE("s3: refusals that pass once retried are server_busy (transient), others final") {
    const auto busy = client::make_error_code(client::error::server_busy);
    for (const char* code :
         {"RequestTimeout", "BadDigest", "XAmzContentSHA256Mismatch", "RequestTimeTooSkewed",
          "ExpiredToken", "SlowDown", "InternalError", "ServiceUnavailable"}) {
        CAPTURE(code);
        const unsigned status = std::string_view(code) == "InternalError"        ? 500
                                : std::string_view(code) == "ServiceUnavailable" ? 503
                                : std::string_view(code) == "SlowDown"           ? 503
                                                                                 : 400;
        CHECK(client::s3_error_code(status, code, false) == busy);
        CHECK(client::s3_error_code(status, code, true) == busy);
        CHECK(client::s3_error_code(403, code, false) == busy);
        // An <Error> in a 200 (a completion) is read by its code too.
        CHECK(client::s3_error_code(200, code, true) == busy);
        CHECK(stemd::error{client::s3_error_code(400, code, false), ""}.transient());
    }
    // NoSuchUpload: a part or the completion retries with a new upload; an
    // abort or a listing finds it gone (not_found).
    CHECK(client::s3_error_code(404, "NoSuchUpload", true) == busy);
    CHECK(client::s3_error_code(404, "NoSuchUpload", false) ==
          client::make_error_code(client::error::not_found));
    // What stays as it was.
    CHECK(client::s3_error_code(404, "NoSuchKey", false) ==
          client::make_error_code(client::error::not_found));
    CHECK(client::s3_error_code(404, "", false) ==
          client::make_error_code(client::error::not_found));
    CHECK(client::s3_error_code(403, "AccessDenied", false) ==
          client::make_error_code(client::error::http_status));
    CHECK(client::s3_error_code(403, "SignatureDoesNotMatch", true) ==
          client::make_error_code(client::error::http_status));
    CHECK(client::s3_error_code(400, "EntityTooSmall", true) ==
          client::make_error_code(client::error::http_status));
    CHECK(client::s3_error_code(502, "", false) == busy);
    CHECK(client::s3_error_code(429, "", false) == busy);
    CHECK(client::s3_error_code(408, "", false) == busy);
    CHECK_FALSE(stemd::error{client::s3_error_code(403, "AccessDenied", false), ""}.transient());
}
