#include "listener/request_bounds.hpp"

#include <boost/beast/http/error.hpp>

namespace stemd::listener {

namespace http = boost::beast::http;

std::size_t read_buffer_limit(std::size_t header_limit) {
    // Above header_limit, so an oversized header block is still reported as
    // such: the parser checks its limit before the buffer fills.
    return header_limit + 1024;
}

void extension_budget::operator()(std::uint64_t, std::string_view extensions,
                                  boost::system::error_code& ec) {
    if (extensions.size() > left_) {
        ec = http::error::buffer_overflow;
        return;
    }
    left_ -= extensions.size();
}

std::pair<unsigned, std::string_view> refusal(boost::system::error_code ec) {
    if (ec == http::error::body_limit)
        return {413, "request body too large"};
    if (ec == http::error::header_limit)
        return {431, "request header block too large"};
    if (ec == http::error::buffer_overflow)
        return {431, "request header, chunk extensions or trailer too large; send fewer or "
                     "shorter ones"};
    return {400, "malformed HTTP request"};
}

} // namespace stemd::listener
