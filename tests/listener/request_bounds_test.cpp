#include "listener/request_bounds.hpp"

#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <doctest/doctest.h>

#include <string>

using namespace stemd::listener;
namespace http = boost::beast::http;
using boost::system::error_code;

namespace {

// Feeds `bytes` to a request parser set up as the listener sets it up and
// returns how the parse ended (need_more when it has not).
error_code parse(const std::string& bytes, std::size_t header_limit) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(header_limit));
    extension_budget extensions(header_limit);
    parser.on_chunk_header(extensions);
    error_code ec;
    std::size_t used = 0;
    while (used < bytes.size() && !parser.is_done()) {
        const auto n =
            parser.put(boost::asio::buffer(bytes.data() + used, bytes.size() - used), ec);
        used += n;
        if (ec || n == 0)
            break;
    }
    return ec;
}

const std::string chunked_head =
    "POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";

} // namespace

TEST_CASE("request_bounds: the read buffer holds a full header block and a little more") {
    CHECK(read_buffer_limit(8192) > 8192);
    CHECK(read_buffer_limit(8192) < 16 * 1024);
}

TEST_CASE("request_bounds: chunk extensions count against the header limit together") {
    std::string fine = chunked_head + "1;a=b\r\nx\r\n0\r\n\r\n";
    CHECK(parse(fine, 1024) == error_code{});

    // Each line is short; their sum is not.
    std::string many = chunked_head;
    for (int i = 0; i < 40; ++i)
        many += "1;" + std::string(40, 'e') + "\r\nx\r\n";
    many += "0\r\n\r\n";
    CHECK(parse(many, 1024) == http::error::buffer_overflow);
    CHECK(parse(many, 4096) == error_code{});
}

TEST_CASE("request_bounds: each refusal has its status and reason") {
    CHECK(refusal(http::error::body_limit).first == 413);
    CHECK(refusal(http::error::header_limit).first == 431);
    auto overflow = refusal(http::error::buffer_overflow);
    CHECK(overflow.first == 431);
    CHECK(std::string(overflow.second).find("chunk extensions or trailer") != std::string::npos);
    CHECK(refusal(http::error::bad_method).first == 400);
}
