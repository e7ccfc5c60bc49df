#include "common/time.hpp"

#include <doctest/doctest.h>

using namespace stemd;

TEST_CASE("time: rfc3339 prints UTC with milliseconds") {
    CHECK(rfc3339(0) == "1970-01-01T00:00:00.000Z");
    CHECK(rfc3339(1'764'072'000'123) == "2025-11-25T12:00:00.123Z");
    CHECK(rfc3339(951'782'400'000) == "2000-02-29T00:00:00.000Z"); // leap day
}

TEST_CASE("time: rfc3339 before the epoch floors, never prints a negative millisecond") {
    CHECK(rfc3339(-1) == "1969-12-31T23:59:59.999Z");
}

TEST_CASE("time: now_millis is the wall clock in milliseconds") {
    const millis a = now_millis();
    CHECK(a > 1'700'000'000'000); // after 2023
    CHECK(now_millis() >= a);
}

TEST_CASE("time: parse_rfc3339 reads what rfc3339 prints, and offsets") {
    CHECK(parse_rfc3339("2025-11-25T12:00:00.123Z") == std::optional<millis>(1'764'072'000'123));
    CHECK(parse_rfc3339(rfc3339(951'782'400'000)) == std::optional<millis>(951'782'400'000));
    CHECK(parse_rfc3339("2025-11-25T12:00:00Z") == std::optional<millis>(1'764'072'000'000));
    CHECK(parse_rfc3339("2025-11-25 13:30:00+01:30") == std::optional<millis>(1'764'072'000'000));
    CHECK(parse_rfc3339("2025-11-25T10:00:00.5-02:00") == std::optional<millis>(1'764'072'000'500));
}

TEST_CASE("time: parse_rfc3339 refuses what is not a date-time") {
    for (const char* bad : {"", "2h", "2025-11-25", "2025-11-25T12:00:00", "2025-13-01T00:00:00Z",
                            "2025-02-31T00:00:00Z", "2025-11-25T12:00:00.Z",
                            "2025-11-25T12:00:00Zjunk", "2025-11-25T12:00:00+1:00"}) {
        CAPTURE(bad);
        CHECK_FALSE(parse_rfc3339(bad).has_value());
    }
}

TEST_CASE("time: http_date is the IMF-fixdate of the Date header, and reads back") {
    CHECK(http_date(784'111'777'000) == "Sun, 06 Nov 1994 08:49:37 GMT");
    CHECK(http_date(1'764'072'000'999) == "Tue, 25 Nov 2025 12:00:00 GMT");
    CHECK(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT") == 784'111'777'000);
    CHECK(parse_http_date(http_date(1'764'072'000'000)) == 1'764'072'000'000);
}

TEST_CASE("time: parse_http_date refuses what is not an IMF-fixdate") {
    CHECK_FALSE(parse_http_date(""));
    CHECK_FALSE(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT")); // RFC 850
    CHECK_FALSE(parse_http_date("Sun Nov  6 08:49:37 1994"));       // asctime
    CHECK_FALSE(parse_http_date("Sun, 06 Nov 1994 08:49:37 UTC"));
    CHECK_FALSE(parse_http_date("Sun, 06 Foo 1994 08:49:37 GMT"));
    CHECK_FALSE(parse_http_date("Sun, 06 Nov 1994 25:49:37 GMT"));
    CHECK_FALSE(parse_http_date("Sun, 6  Nov 1994 08:49:37 GMT "));
}
