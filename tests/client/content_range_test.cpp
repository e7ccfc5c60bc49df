#include "client/content_range.hpp"

#include <doctest/doctest.h>

using stemd::client::parse_content_range;

TEST_CASE("content_range: first, last and total") {
    const auto r = parse_content_range("bytes 10-19/100");
    REQUIRE(r.has_value());
    CHECK(r->first == 10);
    CHECK(r->last == 19);
    CHECK(r->total == 100);
    const auto open_total = parse_content_range("bytes 0-9/*");
    REQUIRE(open_total.has_value());
    CHECK_FALSE(open_total->total.has_value());
}

TEST_CASE("content_range: malformed or impossible ranges are refused") {
    for (const char* bad : {"", "bytes", "items 0-1/2", "bytes 5-4/10", "bytes 0-9/9",
                            "bytes -9/10", "bytes 0-9/x", "bytes 0/10"})
        CHECK_FALSE(parse_content_range(bad).has_value());
}
