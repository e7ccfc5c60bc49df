#include "simulator/byte_range.hpp"

#include <doctest/doctest.h>

using stemd::simulator::byte_range;
using stemd::simulator::interpret_range;
using kind = byte_range::kind;

namespace {

void check_part(const byte_range& r, std::uint64_t first, std::uint64_t last) {
    CHECK(r.what == kind::part);
    CHECK(r.first == first);
    CHECK(r.last == last);
}

} // namespace

TEST_CASE("interpret_range: first-last, open-ended and suffix ranges") {
    check_part(interpret_range("bytes=0-99", 1000), 0, 99);
    check_part(interpret_range("bytes=100-", 1000), 100, 999);
    check_part(interpret_range("bytes=-100", 1000), 900, 999);
    check_part(interpret_range("bytes=999-999", 1000), 999, 999);
    // Case-insensitive unit, spaces around the numbers.
    check_part(interpret_range("  Bytes= 10 - 20 ", 1000), 10, 20);
}

TEST_CASE("interpret_range cuts ranges at the end of the file") {
    check_part(interpret_range("bytes=500-5000", 1000), 500, 999);
    check_part(interpret_range("bytes=-5000", 1000), 0, 999);
}

TEST_CASE("interpret_range: ranges that cannot be served are unsatisfiable") {
    CHECK(interpret_range("bytes=1000-", 1000).what == kind::unsatisfiable);
    CHECK(interpret_range("bytes=2000-3000", 1000).what == kind::unsatisfiable);
    CHECK(interpret_range("bytes=-0", 1000).what == kind::unsatisfiable);
    CHECK(interpret_range("bytes=-10", 0).what == kind::unsatisfiable);
    CHECK(interpret_range("bytes=0-", 0).what == kind::unsatisfiable);
}

TEST_CASE("interpret_range ignores what it does not serve: the whole file") {
    for (const char* header : {"", "items=0-10", "bytes=", "bytes=5", "bytes=0-1,5-6",
                               "bytes=20-10", "bytes=a-b", "bytes=-", "bytes=1-x", "bytes=+1-2"}) {
        CAPTURE(header);
        CHECK(interpret_range(header, 1000).what == kind::whole);
    }
}
