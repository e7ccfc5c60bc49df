#include "common/whole_number.hpp"

#include <doctest/doctest.h>

#include <cstdint>

TEST_CASE("whole_number: plain digits that fit, nothing else") {
    CHECK(stemd::whole_number<int>("0") == 0);
    CHECK(stemd::whole_number<int>("42") == 42);
    CHECK(stemd::whole_number<int>("007") == 7);
    CHECK(!stemd::whole_number<int>(""));
    CHECK(!stemd::whole_number<int>("-1"));
    CHECK(!stemd::whole_number<int>("+1"));
    CHECK(!stemd::whole_number<int>(" 1"));
    CHECK(!stemd::whole_number<int>("1x"));
    CHECK(!stemd::whole_number<int>("99999999999"));
    CHECK(stemd::whole_number<std::int64_t>("99999999999") == 99999999999);
}
