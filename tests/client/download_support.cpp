#include "tests/client/download_support.hpp"

#include "client/partial_file.hpp"
#include "client/prefix_hash.hpp"
#include "client/url.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <doctest/doctest.h>

#include <condition_variable>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

namespace stemd::client::testing {

namespace net = boost::asio;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;

struct test_server::impl {
    impl(handler h, pacing p) : handler_(std::move(h)), pacing_(p) {
        acceptor_.open(tcp::v4());
        acceptor_.bind({net::ip::make_address("127.0.0.1"), 0});
        acceptor_.listen();
        net::co_spawn(ioc_, accept_loop(), net::detached);
        thread_ = std::thread([this] { ioc_.run(); });
    }
    ~impl() {
        ioc_.stop();
        thread_.join();
    }

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
        seen_request seen{std::string(req.target()),
                          std::string(req[http::field::host]),
                          std::string(req[http::field::user_agent]),
                          std::string(req[http::field::accept]),
                          std::string(req[http::field::range]),
                          std::string(req[http::field::if_range])};
        {
            std::lock_guard lock(mutex_);
            requests_.push_back(seen);
        }
        const std::string raw = handler_(seen);
        co_await send(socket, raw);
        boost::system::error_code ignored;
        socket.shutdown(tcp::socket::shutdown_send, ignored);
        socket.close(ignored);
    }

    net::awaitable<void> send(tcp::socket& socket, std::string_view raw) {
        const std::size_t piece = pacing_.bytes == 0 ? raw.size() : pacing_.bytes;
        net::steady_timer timer(ioc_);
        for (std::size_t at = 0; at < raw.size(); at += piece) {
            if (at > 0) {
                timer.expires_after(pacing_.every);
                co_await timer.async_wait(net::as_tuple(net::use_awaitable));
            }
            auto [ec, n] = co_await net::async_write(socket, net::buffer(raw.substr(at, piece)),
                                                     net::as_tuple(net::use_awaitable));
            if (ec)
                co_return;
        }
    }

    handler handler_;
    pacing pacing_;
    net::io_context ioc_;
    tcp::acceptor acceptor_{ioc_};
    std::thread thread_;
    mutable std::mutex mutex_;
    std::vector<seen_request> requests_;
};

test_server::test_server(handler h, pacing p) : impl_(std::make_unique<impl>(std::move(h), p)) {}

test_server::~test_server() = default;

std::string test_server::url(std::string_view target) const {
    return "http://127.0.0.1:" + std::to_string(impl_->acceptor_.local_endpoint().port()) +
           std::string(target);
}

std::vector<seen_request> test_server::requests() const {
    std::lock_guard lock(impl_->mutex_);
    return impl_->requests_;
}

std::string response(unsigned status, const header_list& headers, std::string_view body,
                     std::optional<std::size_t> announced) {
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

std::string make_body(std::size_t size) {
    std::mt19937 gen(12345);
    std::string s(size, '\0');
    for (auto& c : s)
        c = static_cast<char>(gen() & 0xff);
    return s;
}

std::size_t range_start(const std::string& range) {
    return std::stoul(range.substr(std::string_view("bytes=").size()));
}

std::string partial_response(std::string_view body, std::size_t from, std::string_view etag) {
    const std::string content_range = "bytes " + std::to_string(from) + "-" +
                                      std::to_string(body.size() - 1) + "/" +
                                      std::to_string(body.size());
    return response(206,
                    {{"Content-Range", content_range},
                     {"Content-Type", "audio/mpeg"},
                     {"ETag", std::string(etag)}},
                    body.substr(from));
}

void leave_part(const std::filesystem::path& final_path, std::string_view bytes,
                std::string_view url, std::uint64_t total) {
    auto dir = directory::open(final_path.parent_path(), {});
    REQUIRE(dir.has_value());
    const std::string name = final_path.filename().string();
    std::ofstream(*dir / part_name_of(name), std::ios::binary) << bytes;
    REQUIRE(save_resume_record(*dir, name, {redact(url), "\"v1\"", total}).has_value());
}

outcome fetch(const download_request& r, const download_options& o) {
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
                             const stemd::test::workspace& dir, std::string name) {
    download_request r;
    r.url = server.url(target);
    r.directory = dir.path() / "stems";
    r.name = std::move(name);
    return r;
}

struct hash_gate::state {
    std::mutex mutex;
    std::condition_variable changed;
    bool started = false;
    bool released = false;
    bool timed_out = false;
};

hash_gate::hash_gate() : state_(std::make_shared<state>()) {
    // The worker holds its own reference: the gate may go first.
    set_before_hash_hook([s = state_] {
        std::unique_lock lock(s->mutex);
        s->started = true;
        s->changed.notify_all();
        if (!s->changed.wait_for(lock, std::chrono::seconds(10), [&] { return s->released; }))
            s->timed_out = true;
    });
}

hash_gate::~hash_gate() {
    release();
    set_before_hash_hook({});
}

bool hash_gate::started() const {
    const std::lock_guard lock(state_->mutex);
    return state_->started;
}

bool hash_gate::wait_started() const {
    std::unique_lock lock(state_->mutex);
    return state_->changed.wait_for(lock, std::chrono::seconds(10),
                                    [&] { return state_->started; });
}

void hash_gate::release() {
    const std::lock_guard lock(state_->mutex);
    state_->released = true;
    state_->changed.notify_all();
}

bool hash_gate::released_in_time() const {
    const std::lock_guard lock(state_->mutex);
    return !state_->timed_out;
}

} // namespace stemd::client::testing
