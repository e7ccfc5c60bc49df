#include "client/downloader.hpp"

#include "client/error.hpp"
#include "common/crypto.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <thread>
#include <utility>
#include <vector>

using namespace stemd::client;
using stemd::random_token_hex;
using stemd::sha256_hex;
namespace net = boost::asio;
namespace http = boost::beast::http;
namespace fs = std::filesystem;
using tcp = net::ip::tcp;
using outcome = stemd::result<download_result>;

namespace {

struct seen_request {
    std::string target;
    std::string host;
    std::string user_agent;
    std::string accept;
    std::string range;
};

// The raw bytes to send back; the connection is closed after them, so a
// response shorter than its Content-Length is a transfer cut short.
using handler = std::function<std::string(const seen_request&)>;

// A loopback HTTP/1.1 server on its own thread answering every request
// with whatever the test's handler says.
class test_server {
public:
    explicit test_server(handler h) : handler_(std::move(h)) {
        acceptor_.open(tcp::v4());
        acceptor_.bind({net::ip::make_address("127.0.0.1"), 0});
        acceptor_.listen();
        net::co_spawn(ioc_, accept_loop(), net::detached);
        thread_ = std::thread([this] { ioc_.run(); });
    }
    ~test_server() {
        ioc_.stop();
        thread_.join();
    }

    std::string url(std::string_view target) const {
        return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) +
               std::string(target);
    }
    std::vector<seen_request> requests() const {
        std::lock_guard lock(mutex_);
        return requests_;
    }

private:
    net::awaitable<void> accept_loop() {
        for (;;) {
            auto [ec, socket] = co_await acceptor_.async_accept(net::as_tuple(net::use_awaitable));
            if (ec)
                co_return;
            net::co_spawn(ioc_, serve(std::move(socket)), net::detached);
        }
    }

    net::awaitable<void> serve(tcp::socket socket) {
        boost::beast::flat_buffer buffer;
        http::request<http::string_body> req;
        auto [ec, n] =
            co_await http::async_read(socket, buffer, req, net::as_tuple(net::use_awaitable));
        if (ec)
            co_return;
        seen_request seen{std::string(req.target()), std::string(req[http::field::host]),
                          std::string(req[http::field::user_agent]),
                          std::string(req[http::field::accept]),
                          std::string(req[http::field::range])};
        {
            std::lock_guard lock(mutex_);
            requests_.push_back(seen);
        }
        const std::string raw = handler_(seen);
        co_await net::async_write(socket, net::buffer(raw), net::as_tuple(net::use_awaitable));
        boost::system::error_code ignored;
        socket.shutdown(tcp::socket::shutdown_send, ignored);
        socket.close(ignored);
    }

    handler handler_;
    net::io_context ioc_;
    tcp::acceptor acceptor_{ioc_};
    std::thread thread_;
    mutable std::mutex mutex_;
    std::vector<seen_request> requests_;
};

using header_list = std::vector<std::pair<std::string, std::string>>;

// A response whose Content-Length is the body's unless `announced` says
// otherwise (more than sent = a transfer cut short).
std::string response(unsigned status, const header_list& headers, std::string_view body,
                     std::optional<std::size_t> announced = std::nullopt) {
    std::ostringstream out;
    out << "HTTP/1.1 " << status << " X\r\n";
    for (const auto& [name, value] : headers)
        out << name << ": " << value << "\r\n";
    out << "Content-Length: " << announced.value_or(body.size()) << "\r\n";
    out << "Connection: close\r\n\r\n" << body;
    return out.str();
}

std::string chunked_response(const header_list& headers, std::string_view body, std::size_t chunk) {
    std::ostringstream out;
    out << "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n";
    for (const auto& [name, value] : headers)
        out << name << ": " << value << "\r\n";
    out << "\r\n";
    for (std::size_t at = 0; at < body.size(); at += chunk) {
        const auto piece = body.substr(at, chunk);
        out << std::hex << piece.size() << "\r\n" << piece << "\r\n";
    }
    out << "0\r\n\r\n";
    return out.str();
}

std::string redirect(unsigned status, std::string_view location) {
    return response(status, {{"Location", std::string(location)}}, "");
}

// Longer than the downloader's 64 KiB buffer, and not a repeating pattern.
std::string make_body(std::size_t size) {
    std::mt19937 gen(12345);
    std::string s(size, '\0');
    for (auto& c : s)
        c = static_cast<char>(gen() & 0xff);
    return s;
}

// "Range: bytes=N-" -> N
std::size_t range_start(const std::string& range) {
    return std::stoul(range.substr(std::string_view("bytes=").size()));
}

std::string partial_response(std::string_view body, std::size_t from) {
    const std::string content_range = "bytes " + std::to_string(from) + "-" +
                                      std::to_string(body.size() - 1) + "/" +
                                      std::to_string(body.size());
    return response(206, {{"Content-Range", content_range}, {"Content-Type", "audio/mpeg"}},
                    body.substr(from));
}

struct temp_dir {
    fs::path path;
    temp_dir() {
        path = fs::temp_directory_path() / ("stemd-downloader-test-" + random_token_hex(8));
        fs::create_directories(path);
    }
    ~temp_dir() {
        std::error_code ignored;
        fs::remove_all(path, ignored);
    }
};

std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

outcome fetch(const download_request& r, const download_options& o = {}) {
    net::io_context ioc;
    net::ssl::context tls(net::ssl::context::tls_client);
    std::optional<outcome> out;
    net::co_spawn(ioc, download(r, o, tls), [&](std::exception_ptr e, outcome v) {
        if (e)
            std::rethrow_exception(e);
        out = std::move(v);
    });
    ioc.run();
    REQUIRE(out.has_value());
    return std::move(*out);
}

download_request request_for(const test_server& server, std::string_view target,
                             const temp_dir& dir, std::string name = "track_vocals") {
    download_request r;
    r.url = server.url(target);
    r.directory = dir.path / "stems";
    r.name = std::move(name);
    return r;
}

} // namespace

TEST_CASE("downloader: whole file, then found complete on disk") {
    const std::string body = make_body(300'000);
    test_server server([&](const seen_request&) {
        return response(200, {{"Content-Type", "audio/mpeg"}}, body);
    });
    temp_dir dir;
    const auto r = request_for(server, "/conversions/t_vocals.mp3?sig=SECRET", dir);

    const auto first = fetch(r);
    REQUIRE(first.has_value());
    CHECK(first->path == dir.path / "stems" / "track_vocals.mp3");
    CHECK(first->bytes == body.size());
    CHECK(first->sha256 == sha256_hex(body));
    CHECK(first->resumed_from == 0);
    CHECK_FALSE(first->already_complete);
    CHECK(read_file(first->path) == body);
    CHECK_FALSE(fs::exists(dir.path / "stems" / "track_vocals.mp3.part"));

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

TEST_CASE("downloader: a transfer cut short is kept and resumed with Range") {
    const std::string body = make_body(200'000);
    const std::size_t cut = 70'000;
    std::atomic<int> calls{0};
    test_server server([&](const seen_request& req) {
        if (calls++ == 0)
            return response(200, {{"Content-Type", "audio/mpeg"}},
                            std::string_view(body).substr(0, cut), body.size());
        return partial_response(body, range_start(req.range));
    });
    temp_dir dir;
    const auto r = request_for(server, "/a/stem.mp3?sig=SECRET", dir);
    const fs::path part = dir.path / "stems" / "track_vocals.mp3.part";

    const auto broken = fetch(r);
    REQUIRE_FALSE(broken.has_value());
    CHECK(broken.error().code == error::length_mismatch);
    CHECK(broken.error().transient());
    CHECK(broken.error().code != error::link_expired);
    CHECK(broken.error().message.find("SECRET") == std::string::npos);
    REQUIRE(fs::exists(part));
    CHECK(read_file(part) == body.substr(0, cut));

    const auto resumed = fetch(r);
    REQUIRE(resumed.has_value());
    CHECK(resumed->resumed_from == cut);
    CHECK(resumed->bytes == body.size());
    CHECK(resumed->sha256 == sha256_hex(body));
    CHECK(read_file(resumed->path) == body);
    CHECK_FALSE(fs::exists(part));

    const auto seen = server.requests();
    REQUIRE(seen.size() == 2);
    CHECK(seen[1].range == "bytes=" + std::to_string(cut) + "-");
}

TEST_CASE("downloader: a server ignoring Range restarts the file from zero") {
    const std::string body = make_body(100'000);
    test_server server([&](const seen_request&) { return response(200, {}, body); });
    temp_dir dir;
    const auto r = request_for(server, "/x.wav", dir);
    fs::create_directories(r.directory);
    std::ofstream(r.directory / "track_vocals.wav.part", std::ios::binary) << "stale bytes";

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
    temp_dir dir;
    const auto r = request_for(server, "/x.flac", dir);
    fs::create_directories(r.directory);
    std::ofstream(r.directory / "track_vocals.flac.part", std::ios::binary) << "0123456789";

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
    temp_dir dir;
    const auto r = request_for(server, "/x.mp3", dir);
    fs::create_directories(r.directory);
    std::ofstream(r.directory / "track_vocals.mp3.part", std::ios::binary)
        << std::string(2000, 'z');

    const auto got = fetch(r);
    REQUIRE(got.has_value());
    CHECK(read_file(got->path) == body);
    CHECK(server.requests().size() == 2);
}

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
    temp_dir dir;

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
        temp_dir dir;
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

TEST_CASE("downloader: extension from Content-Type, else the fallback") {
    const std::string body = make_body(5000);
    test_server server([&](const seen_request& req) {
        if (req.target == "/dl?id=1")
            return response(200, {{"Content-Type", "Audio/FLAC; charset=binary"}}, body);
        return response(200, {{"Content-Type", "application/octet-stream"}}, body);
    });
    temp_dir dir;

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

TEST_CASE("downloader: without an extension in the URL an earlier .part is found and resumed") {
    const std::string body = make_body(150'000);
    const std::size_t cut = 80'000;
    std::atomic<int> calls{0};
    test_server server([&](const seen_request& req) {
        if (calls++ == 0)
            return response(200, {{"Content-Type", "audio/wav"}},
                            std::string_view(body).substr(0, cut), body.size());
        return partial_response(body, range_start(req.range));
    });
    temp_dir dir;
    const auto r = request_for(server, "/download?id=9", dir);

    REQUIRE_FALSE(fetch(r).has_value());
    CHECK(fs::file_size(r.directory / "track_vocals.wav.part") == cut);

    const auto got = fetch(r);
    REQUIRE(got.has_value());
    CHECK(got->path.filename() == "track_vocals.wav");
    CHECK(got->resumed_from == cut);
    CHECK(got->sha256 == sha256_hex(body));
}

TEST_CASE("downloader: more than max_bytes is refused and leaves nothing behind") {
    const std::string body = make_body(100'000);
    test_server server([&](const seen_request& req) {
        if (req.target == "/chunked.mp3")
            return chunked_response({}, body, 10'000);
        return response(200, {}, body);
    });
    temp_dir dir;
    download_options o;
    o.max_bytes = 50'000;

    for (const char* target : {"/announced.mp3", "/chunked.mp3"}) {
        CAPTURE(target);
        const auto got = fetch(request_for(server, target, dir), o);
        REQUIRE_FALSE(got.has_value());
        CHECK(got.error().code == error::body_too_large);
        CHECK_FALSE(got.error().transient());
        CHECK_FALSE(fs::exists(dir.path / "stems" / "track_vocals.mp3.part"));
        CHECK_FALSE(fs::exists(dir.path / "stems" / "track_vocals.mp3"));
    }
}

TEST_CASE("downloader: local write failures are file_io naming the path") {
    test_server server([&](const seen_request&) { return response(200, {}, "data"); });
    temp_dir dir;
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
    temp_dir dir;
    download_request r;
    r.directory = dir.path;
    r.name = "x";
    r.url = "ftp://example.com/x.mp3?sig=SECRET";
    const auto got = fetch(r);
    REQUIRE_FALSE(got.has_value());
    CHECK(got.error().code == error::bad_url);
    CHECK_FALSE(got.error().transient());
    CHECK(got.error().message.find("SECRET") == std::string::npos);
}
