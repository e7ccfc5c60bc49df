#include "client/connection.hpp"

#include "client/address_guard.hpp"
#include "client/error.hpp"
#include "common/time.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <variant>
#include <vector>

namespace stemd::client {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using boost::system::error_code;
using boost::system::result;

namespace {

constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

// Timeouts surface as Beast's generic code; callers want ours.
error_code normalize(error_code ec) {
    if (ec == beast::error::timeout)
        return error::timeout;
    if (ec == http::error::partial_message)
        return error::length_mismatch;
    if (ec == http::error::body_limit)
        return error::body_too_large;
    // The read buffer is full of a header block, chunk-size line or trailer
    // that has not ended: a hostile or broken server.
    if (ec == http::error::buffer_overflow)
        return error::bad_response;
    return ec;
}

bool is_ip_literal(const std::string& host) {
    error_code ec;
    net::ip::make_address(host, ec);
    return !ec;
}

} // namespace

struct connection::impl {
    using plain_stream = beast::tcp_stream;
    using tls_stream = beast::ssl_stream<beast::tcp_stream>;

    std::variant<plain_stream, tls_stream> stream;
    beast::flat_buffer buffer;
    std::chrono::milliseconds io_timeout;
    std::string host; // as the URL gave it, for peer_certificate_facts()

    // Beast sizes each socket read by the buffer's free capacity (at least
    // 512 bytes); without room reserved here a 200 MB body arrives in
    // 400,000 reads of 512 bytes, each a trip through the event loop.
    static constexpr std::size_t read_size = 64 * 1024;
    // Beast's header_limit covers only the header block, and body limits
    // only body octets: a chunk-size line with endless extensions, or an
    // endless trailer, would grow the buffer without end. Capped, such a
    // response fails with buffer_overflow once one read's worth and a
    // header block's worth are waiting unparsed.
    static constexpr std::size_t buffer_limit = read_size + response_header_limit;

    impl(plain_stream s, std::chrono::milliseconds t)
        : stream(std::in_place_index<0>, std::move(s)), buffer(buffer_limit), io_timeout(t) {
        buffer.reserve(read_size);
    }
    impl(tls_stream s, std::chrono::milliseconds t)
        : stream(std::in_place_index<1>, std::move(s)), buffer(buffer_limit), io_timeout(t) {
        buffer.reserve(read_size);
    }

    beast::tcp_stream& tcp() {
        return std::visit([](auto& s) -> beast::tcp_stream& { return beast::get_lowest_layer(s); },
                          stream);
    }

    // Arms the per-operation deadline and runs `op(stream)` on whichever
    // stream this is.
    template <class Op> auto run(Op&& op) {
        tcp().expires_after(io_timeout);
        return std::visit(std::forward<Op>(op), stream);
    }
};

peer_certificate connection::peer_certificate_facts() const {
    peer_certificate facts;
    auto* tls = std::get_if<impl::tls_stream>(&impl_->stream);
    if (tls == nullptr)
        return facts;
    SSL* ssl_handle = const_cast<impl::tls_stream*>(tls)->native_handle();
    X509* leaf = SSL_get0_peer_certificate(ssl_handle);
    if (leaf == nullptr)
        return facts;
    facts.present = true;
    const long verdict = SSL_get_verify_result(ssl_handle);
    facts.chain_trusted = verdict == X509_V_OK;
    if (!facts.chain_trusted)
        facts.chain_problem = X509_verify_cert_error_string(verdict);
    const std::string& host = impl_->host;
    facts.names_host = is_ip_literal(host)
                           ? X509_check_ip_asc(leaf, host.c_str(), 0) == 1
                           : X509_check_host(leaf, host.c_str(), host.size(), 0, nullptr) == 1;
    int days = 0, seconds = 0;
    if (ASN1_TIME_diff(&days, &seconds, nullptr, X509_get0_notAfter(leaf)) == 1)
        facts.not_after = now_millis() + (std::int64_t{days} * 86400 + seconds) * 1000;
    return facts;
}

connection::connection(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
connection::connection(connection&&) noexcept = default;
connection& connection::operator=(connection&&) noexcept = default;
connection::~connection() = default;

net::awaitable<result<connection>>
connection::open(const http_url& url, const connect_options& options, ssl::context& tls) {
    using namespace net::experimental::awaitable_operators;
    if (!url.https && !options.allow_http)
        co_return error::scheme_not_allowed;

    auto ex = co_await net::this_coro::executor;
    tcp::resolver resolver(ex);
    net::steady_timer deadline(ex);
    deadline.expires_after(options.connect_timeout);
    auto resolved =
        co_await (resolver.async_resolve(url.host, std::to_string(url.port), use_tuple) ||
                  deadline.async_wait(use_tuple));
    if (resolved.index() == 1)
        co_return error::timeout;
    auto [rec, results] = std::get<0>(std::move(resolved));
    if (rec)
        co_return rec;

    // Vet every address and connect only to the vetted ones: connecting by
    // name would resolve again and could reach an address never checked.
    std::vector<tcp::endpoint> allowed;
    bool refused = false;
    for (const auto& entry : results) {
        if (!options.allow_private_addresses &&
            !forbidden_reason(entry.endpoint().address()).empty()) {
            refused = true;
            continue;
        }
        allowed.push_back(entry.endpoint());
    }
    if (allowed.empty())
        co_return refused ? error::address_not_allowed : error::no_address;

    beast::tcp_stream socket(ex);
    socket.expires_after(options.connect_timeout);
    auto [cec, ep] = co_await socket.async_connect(allowed, use_tuple);
    if (cec)
        co_return normalize(cec);
    socket.socket().set_option(tcp::no_delay(true));

    if (!url.https)
        co_return connection(std::make_unique<impl>(std::move(socket), options.io_timeout));

    impl::tls_stream stream(std::move(socket), tls);
    // SNI carries names only; an IP literal is matched against the
    // certificate's IP SANs by host_name_verification.
    if (!is_ip_literal(url.host) &&
        SSL_set_tlsext_host_name(stream.native_handle(), url.host.c_str()) != 1)
        co_return error_code(static_cast<int>(::ERR_get_error()), net::error::get_ssl_category());
    if (options.verify_peer) {
        stream.set_verify_mode(ssl::verify_peer);
        stream.set_verify_callback(ssl::host_name_verification(url.host));
    } else {
        stream.set_verify_mode(ssl::verify_none);
    }
    beast::get_lowest_layer(stream).expires_after(options.connect_timeout);
    auto [hec] = co_await stream.async_handshake(ssl::stream_base::client, use_tuple);
    if (hec)
        co_return normalize(hec);
    auto opened = std::make_unique<impl>(std::move(stream), options.io_timeout);
    opened->host = url.host;
    co_return connection(std::move(opened));
}

net::awaitable<result<void>> connection::write(http::request<http::string_body>& req) {
    auto [ec, n] =
        co_await impl_->run([&](auto& s) { return http::async_write(s, req, use_tuple); });
    if (ec)
        co_return normalize(ec);
    co_return result<void>{};
}

net::awaitable<result<void>> connection::write_streaming(http::request<http::empty_body>& header,
                                                         const body_source& next) {
    http::request<http::buffer_body> req(header.base());
    req.body().data = nullptr;
    req.body().more = true;
    http::request_serializer<http::buffer_body> sr(req);

    auto [hec, hn] =
        co_await impl_->run([&](auto& s) { return http::async_write_header(s, sr, use_tuple); });
    if (hec)
        co_return normalize(hec);

    for (;;) {
        auto piece = next();
        if (!piece)
            co_return piece.error();
        if (piece->empty()) {
            req.body().data = nullptr;
            req.body().more = false;
        } else {
            req.body().data = const_cast<char*>(piece->data());
            req.body().size = piece->size();
            req.body().more = true;
        }
        auto [ec, n] =
            co_await impl_->run([&](auto& s) { return http::async_write(s, sr, use_tuple); });
        // need_buffer means "that piece is out, give me the next one".
        if (ec && ec != http::error::need_buffer)
            co_return normalize(ec);
        if (!req.body().more)
            co_return result<void>{};
    }
}

net::awaitable<result<http::response<http::string_body>>> connection::read(std::size_t body_limit) {
    http::response_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(response_header_limit));
    parser.body_limit(body_limit);
    auto [ec, n] = co_await impl_->run(
        [&](auto& s) { return http::async_read(s, impl_->buffer, parser, use_tuple); });
    if (ec)
        co_return normalize(ec);
    co_return parser.release();
}

net::awaitable<result<void>>
connection::read_header(http::response_parser<http::buffer_body>& parser) {
    auto [ec, n] = co_await impl_->run(
        [&](auto& s) { return http::async_read_header(s, impl_->buffer, parser, use_tuple); });
    if (ec)
        co_return normalize(ec);
    co_return result<void>{};
}

net::awaitable<result<std::size_t>>
connection::read_some(http::response_parser<http::buffer_body>& parser, std::span<char> buffer) {
    if (parser.is_done())
        co_return std::size_t{0};
    auto& body = parser.get().body();
    body.data = buffer.data();
    body.size = buffer.size();
    auto [ec, n] = co_await impl_->run(
        [&](auto& s) { return http::async_read_some(s, impl_->buffer, parser, use_tuple); });
    // need_buffer: our buffer is full, which is the point of reading some.
    if (ec && ec != http::error::need_buffer)
        co_return normalize(ec);
    co_return buffer.size() - body.size;
}

net::awaitable<void> connection::close() {
    if (auto* tls = std::get_if<impl::tls_stream>(&impl_->stream)) {
        // A short deadline: the peer owes us nothing once the body is in.
        impl_->tcp().expires_after(std::chrono::seconds(2));
        co_await tls->async_shutdown(use_tuple);
    }
    error_code ignored;
    impl_->tcp().socket().shutdown(tcp::socket::shutdown_both, ignored);
    impl_->tcp().close();
}

net::awaitable<result<http::response<http::string_body>>>
exchange(const http_url& url, http::request<http::string_body> req, const connect_options& options,
         ssl::context& tls, std::size_t body_limit) {
    auto conn = co_await connection::open(url, options, tls);
    if (!conn)
        co_return conn.error();
    req.set(http::field::host, url.host_header());
    req.keep_alive(false);
    req.prepare_payload();
    if (auto w = co_await conn->write(req); !w)
        co_return w.error();
    auto res = co_await conn->read(body_limit);
    co_await conn->close();
    co_return res;
}

} // namespace stemd::client
