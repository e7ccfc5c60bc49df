#pragma once

// Outbound HTTP/1.1 over TCP or TLS. Included only by .cpp files of client/
// and server/: it pulls in Asio and Beast.

#include "client/tls.hpp" // make_tls_client_context, for every caller of open()
#include "client/url.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

namespace stemd::client {

struct connect_options {
    // Plain http:// URLs are refused (error::scheme_not_allowed) unless set.
    bool allow_http = true;
    // Names resolving only to loopback/private/... addresses are refused
    // (error::address_not_allowed) unless set. The connection is made to the
    // very addresses that were checked, so a second DNS answer cannot differ.
    bool allow_private_addresses = true;
    // Off only where the chain is judged by the caller afterwards
    // (peer_certificate()): the handshake then succeeds whatever the server
    // presents. Everything that trusts what it reads keeps this on.
    bool verify_peer = true;
    std::chrono::milliseconds connect_timeout{10'000};
    // Longest wait for any single read or write to make progress.
    std::chrono::milliseconds io_timeout{30'000};
};

// What a TLS server presented, as peer_certificate() judges it.
struct peer_certificate {
    bool present = false;       // false for plain http, or no certificate sent
    bool chain_trusted = false; // verified against the context's trust store
    std::string chain_problem;  // OpenSSL's reason when not trusted
    bool names_host = false;    // the leaf is valid for the URL's host name
    std::int64_t not_after = 0; // the leaf's expiry, Unix milliseconds
};

// The largest response header block read() accepts (and what the
// downloader sets); the connection's read buffer holds at most one read of
// 64 KiB plus this, which also bounds chunk-size lines and trailers.
inline constexpr std::size_t response_header_limit = 16 * 1024;

// The next piece of a streamed request body; an empty span ends the body.
using body_source = std::function<boost::system::result<std::span<const char>>()>;

// One HTTP/1.1 connection to the host of a URL. Move-only.
class connection {
public:
    // Resolves, vets the addresses, connects (trying each address), and for
    // https does the TLS handshake with SNI, certificate and host name
    // verification.
    static boost::asio::awaitable<boost::system::result<connection>>
    open(const http_url& url, const connect_options& options, boost::asio::ssl::context& tls);

    connection(connection&&) noexcept;
    connection& operator=(connection&&) noexcept;
    ~connection();

    // Writes a whole request.
    boost::asio::awaitable<boost::system::result<void>>
    write(boost::beast::http::request<boost::beast::http::string_body>& req);

    // Writes the header, then the body piece by piece from `next` (the
    // caller sets Content-Length in `header`). Nothing is buffered whole.
    boost::asio::awaitable<boost::system::result<void>>
    write_streaming(boost::beast::http::request<boost::beast::http::empty_body>& header,
                    const body_source& next);

    // Reads a whole response; bodies over `body_limit` fail with
    // error::body_too_large.
    boost::asio::awaitable<
        boost::system::result<boost::beast::http::response<boost::beast::http::string_body>>>
    read(std::size_t body_limit);

    // Reads a response header into `parser` (its body is then read with
    // read_some). Set parser.body_limit() before calling.
    boost::asio::awaitable<boost::system::result<void>>
    read_header(boost::beast::http::response_parser<boost::beast::http::buffer_body>& parser);

    // Reads up to buffer.size() body bytes; returns the count (0 and
    // parser.is_done() at the end). A body cut short is
    // error::length_mismatch.
    boost::asio::awaitable<boost::system::result<std::size_t>>
    read_some(boost::beast::http::response_parser<boost::beast::http::buffer_body>& parser,
              std::span<char> buffer);

    // The server's certificate and OpenSSL's verdict on its chain (also
    // when opened without verify_peer).
    peer_certificate peer_certificate_facts() const;

    // TLS close_notify where applicable, then closes the socket. Errors are
    // ignored: the exchange is already complete.
    boost::asio::awaitable<void> close();

private:
    struct impl;
    explicit connection(std::unique_ptr<impl> p);
    std::unique_ptr<impl> impl_;
};

// One request and its whole response over a fresh connection (no redirects).
boost::asio::awaitable<
    boost::system::result<boost::beast::http::response<boost::beast::http::string_body>>>
exchange(const http_url& url, boost::beast::http::request<boost::beast::http::string_body> req,
         const connect_options& options, boost::asio::ssl::context& tls, std::size_t body_limit);

} // namespace stemd::client
