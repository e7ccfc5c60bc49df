#include "simulator/decimal.hpp"

#include <doctest/doctest.h>

using stemd::simulator::parse_decimal;

TEST_CASE("parse_decimal accepts only a whole string of digits") {
    CHECK(parse_decimal("0") == 0u);
    CHECK(parse_decimal("8090") == 8090u);
    CHECK(parse_decimal("18446744073709551615") == 18446744073709551615ull);
    for (const char* bad : {"", " 1", "1 ", "-1", "+1", "1x", "0x10", "18446744073709551616"}) {
        CAPTURE(bad);
        CHECK_FALSE(parse_decimal(bad));
    }
}
