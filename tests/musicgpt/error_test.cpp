#include "musicgpt/error.hpp"

#include <doctest/doctest.h>

#include <string>

using stemd::condition;
using stemd::musicgpt::error;

TEST_CASE("the musicgpt error category names itself and each code") {
    const auto ec = make_error_code(error::malformed_payload);
    CHECK(std::string(ec.category().name()) == "stemd.musicgpt");
    CHECK(ec == error::malformed_payload);
    CHECK(ec != error::bad_field);
    for (const auto e :
         {error::malformed_payload, error::missing_field, error::bad_field, error::bad_answer}) {
        CHECK_FALSE(make_error_code(e).message().empty());
    }
    CHECK(make_error_code(error::missing_field).message() !=
          make_error_code(error::bad_field).message());
}

TEST_CASE("a payload that cannot be read is invalid, an unusable answer may pass") {
    for (const auto e : {error::malformed_payload, error::missing_field, error::bad_field}) {
        const stemd::error failure{make_error_code(e), "x"};
        CHECK(failure.is(condition::invalid));
        CHECK_FALSE(failure.transient());
    }
    const stemd::error answer{make_error_code(error::bad_answer), "x"};
    CHECK(answer.is(condition::unavailable));
    CHECK(answer.transient());
}
