#pragma once

// What bounds a request beyond Beast's own header and body limits: its
// header_limit counts only the header block and body_limit only body
// octets, so chunk-size lines with extensions and the trailer would grow the
// read buffer without end. Included only by .cpp files.

#include <boost/system/error_code.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>

namespace stemd::listener {

// The most bytes a connection's read buffer holds. The header block, one
// chunk-size line with its extensions, and the trailer must each fit in it,
// so an endless chunk extension or trailer ends in Beast's buffer_overflow
// (refused with 431) instead of growing memory.
std::size_t read_buffer_limit(std::size_t header_limit);

// A parser's on_chunk_header callback counting the chunk extensions of one
// request against header_limit: each line alone is bounded by the read
// buffer, this bounds their sum. Over it, the parse fails with
// buffer_overflow. Beast keeps a reference: it must outlive the parse.
class extension_budget {
public:
    explicit extension_budget(std::size_t limit) : left_(limit) {}
    void operator()(std::uint64_t size, std::string_view extensions, boost::system::error_code& ec);

private:
    std::size_t left_;
};

// The parser's verdict on a request it refused, as a status and a reason
// for the error body.
std::pair<unsigned, std::string_view> refusal(boost::system::error_code ec);

} // namespace stemd::listener
