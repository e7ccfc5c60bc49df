#include "audio/error.hpp"

#include <doctest/doctest.h>

namespace stemd::audio {

TEST_CASE("every audio error has a message and the condition callers decide by") {
    CHECK(make_error(error::unsupported, "x").is(condition::invalid));
    CHECK(make_error(error::malformed, "x").is(condition::invalid));
    CHECK(make_error(error::unreadable, "x").is(condition::io));
    CHECK(make_error(error::bad_points, "x").is(condition::invalid));
    CHECK(make_error(error::abandoned, "x").is(condition::unavailable));
    CHECK(make_error_code(error::unsupported).message() == "not an audio format stemd decodes");
    CHECK(std::string(error_category().name()) == "stemd.audio");
}

} // namespace stemd::audio
