#include "listener/request_reader.hpp"

#include "listener/request_bounds.hpp"

#include "common/posix_file.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <cerrno>
#include <vector>

namespace stemd::listener {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using boost::system::error_code;

namespace {

constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

// Reads the body after `head` into `in.spooled`, piece by piece, at most
// `limit` bytes; the header goes to `in.req`. An error of the parser or the
// stream, or the errno of a failed write (then `in.write_failed`).
template <class Stream>
net::awaitable<error_code> spool_body(Stream& stream, beast::flat_buffer& buffer,
                                      http::request_parser<http::empty_body>& head,
                                      std::size_t limit, std::size_t header_limit, incoming& in) {
    http::request_parser<http::buffer_body> parser(std::move(head));
    parser.body_limit(limit);
    extension_budget extensions(header_limit);
    parser.on_chunk_header(extensions);
    std::vector<char> piece(64 * 1024);
    while (!parser.is_done()) {
        parser.get().body().data = piece.data();
        parser.get().body().size = piece.size();
        auto [ec, n] = co_await http::async_read(stream, buffer, parser, use_tuple);
        if (ec && ec != http::error::need_buffer)
            co_return ec;
        const std::size_t got = piece.size() - parser.get().body().size;
        if (!write_all(in.spooled.fd.get(), piece.data(), got)) {
            in.write_failed = true;
            co_return error_code(errno, boost::system::system_category());
        }
    }
    if (in.spooled.fd.close() != 0) {
        in.write_failed = true;
        co_return error_code(errno, boost::system::system_category());
    }
    in.req = request(std::move(parser.get().base()));
    co_return error_code{};
}

} // namespace

template <class Stream>
net::awaitable<error_code> read_request(const server_limits& limits, Stream& stream,
                                        beast::flat_buffer& buffer, incoming& in) {
    http::request_parser<http::empty_body> head;
    head.header_limit(static_cast<std::uint32_t>(limits.header_limit));
    head.body_limit(boost::none); // decided below, once the route is known
    auto [ec, n] = co_await http::async_read_header(stream, buffer, head, use_tuple);
    if (ec)
        co_return ec;
    if (limits.screen) {
        if (auto refused = limits.screen(head.get())) {
            in.refused = std::move(refused);
            in.body_unread = !head.is_done();
            in.req.base() = head.get().base();
            co_return error_code{};
        }
    }
    const auto& spool = limits.spool;
    const bool to_disk = spool && spool->applies(head.get());
    const std::size_t limit = to_disk ? spool->body_limit : limits.body_limit;
    if (auto length = head.content_length(); length && *length > limit)
        co_return http::error::body_limit;
    if (to_disk) {
        if (!create_spool(spool->directory, in.spooled)) {
            in.write_failed = true;
            co_return error_code(errno, boost::system::system_category());
        }
        co_return co_await spool_body(stream, buffer, head, limit, limits.header_limit, in);
    }
    http::request_parser<http::string_body> parser(std::move(head));
    parser.body_limit(limit);
    extension_budget extensions(limits.header_limit);
    parser.on_chunk_header(extensions);
    auto [bec, bn] = co_await http::async_read(stream, buffer, parser, use_tuple);
    if (!bec)
        in.req = parser.release();
    co_return bec;
}

template net::awaitable<error_code> read_request(const server_limits&, beast::tcp_stream&,
                                                 beast::flat_buffer&, incoming&);
template net::awaitable<error_code> read_request(const server_limits&,
                                                 beast::ssl_stream<beast::tcp_stream&>&,
                                                 beast::flat_buffer&, incoming&);

} // namespace stemd::listener
