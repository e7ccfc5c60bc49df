#pragma once

// An HTTP/1.1 listener: one coroutine per connection, limits on everything a
// peer controls, graceful stop. Included only by .cpp files.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace stemd::listener {

using request = boost::beast::http::request<boost::beast::http::string_body>;
using response = boost::beast::http::response<boost::beast::http::string_body>;

// A route whose request bodies go to a file instead of memory (an upload),
// with a limit of its own. The handler then gets the request with an empty
// body and the file's path in peer_info::spooled_body; the file is removed
// once the handler returns, and on any failure before.
struct spool_route {
    std::function<bool(const boost::beast::http::request_header<>&)> applies;
    std::filesystem::path directory; // exists, private to stemd (0700)
    std::size_t body_limit = 0;
};

struct server_limits {
    std::size_t header_limit = 8 * 1024;
    std::size_t body_limit = 1024 * 1024;
    // A whole request (header and body) must arrive within this.
    std::chrono::milliseconds request_timeout{10'000};
    // A kept-alive connection with no new request is closed after this.
    std::chrono::milliseconds idle_timeout{30'000};
    // Writing a reply must make progress within this.
    std::chrono::milliseconds write_timeout{30'000};
    std::size_t max_connections = 1024;
    // One client address may hold at most this many of max_connections.
    std::size_t max_connections_per_address = 64;
    // A kept-alive connection is closed after this many requests (the last
    // answer says Connection: close).
    std::size_t max_requests_per_connection = 1000;
    // header_limit also bounds the read buffer, each chunk-size line and the
    // trailer, and the chunk extensions of a request together
    // (request_bounds.hpp).
    // The one route allowed a bigger body, spooled to disk (none by default).
    std::optional<spool_route> spool;
    // Asked once a request's header has arrived, before any byte of its body
    // is read or stored: a response refuses the request (a peer without the
    // API token cannot make the listener take in a body, let alone spool
    // one); nullopt lets it through. None: every request goes on.
    std::function<std::optional<response>(const boost::beast::http::request_header<>&)> screen;
};

// What a handler answers. When `stream` is set, `message`'s header is sent
// (with the Content-Length the handler set) and then the chunks `stream`
// returns, until it returns an empty string; the handler may co_await inside
// it (e.g. to pace the body). An `open_ended` stream has no length (the
// handler sets none): its body ends when `stream` returns "" or the server
// stops (stop() cancels a `stream` waiting for its next chunk), and the
// connection closes after it. Each chunk must be written within
// write_timeout, so a peer that stops reading is dropped.
struct reply {
    response message;
    std::function<boost::asio::awaitable<std::string>()> stream;
    bool open_ended = false;
};

struct peer_info {
    std::string address; // remote IP, for logs
    bool tls = false;
    std::filesystem::path spooled_body; // set for a spool_route request
};

using handler = std::function<boost::asio::awaitable<reply>(request&, const peer_info&)>;

// A JSON reply with the right Content-Type.
reply json_reply(unsigned status, const boost::json::value& body);
// The one error body on the wire, for the listener's own refusals (400,
// 413, 431, 500) and every handler's: {"ok":false,"error":reason}.
boost::json::object error_body(std::string_view reason);
// An error_body reply with the given status.
reply error_reply(unsigned status, std::string_view reason);

class http_server {
public:
    // Binds and listens now (throws std::system_error naming the address when
    // it cannot: a start-up failure). `tls` enables HTTPS when not null.
    http_server(boost::asio::any_io_executor ex, const std::string& host, std::uint16_t port,
                handler h, server_limits limits = {},
                std::shared_ptr<boost::asio::ssl::context> tls = nullptr,
                std::string name = "http");
    // Takes over `listening_fd`, a TCP socket already bound and listening
    // (handed over by systemd's socket activation); closes it with the
    // server. Throws std::system_error when it is not such a socket.
    http_server(boost::asio::any_io_executor ex, int listening_fd, handler h,
                server_limits limits = {}, std::shared_ptr<boost::asio::ssl::context> tls = nullptr,
                std::string name = "http");
    ~http_server();
    http_server(const http_server&) = delete;
    http_server& operator=(const http_server&) = delete;

    boost::asio::ip::tcp::endpoint local_endpoint() const;
    // Starts accepting.
    void start();
    // Stops accepting; idle connections close; a request being handled is
    // answered (with Connection: close) and then its connection closes; an
    // open-ended stream ends at once.
    void stop();
    std::size_t open_connections() const;
    // Swaps the TLS context for connections accepted from now on (a renewed
    // certificate); connections already open keep the one they started
    // with. Only for a server constructed with TLS; `tls` must not be null.
    void set_tls(std::shared_ptr<boost::asio::ssl::context> tls);

    struct state; // shared with the connection coroutines

private:
    std::shared_ptr<state> state_;
};

} // namespace stemd::listener
