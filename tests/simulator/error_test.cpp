#include "simulator/error.hpp"

#include <doctest/doctest.h>

#include <boost/system/errc.hpp>

#include <string>

using namespace stemd::simulator;
using stemd::condition;

TEST_CASE("each simulator error has MusicGPT's status and error_code") {
    CHECK(http_status(error::bad_request) == 400);
    CHECK(wire_code(error::bad_request) == "BAD_REQUEST");
    CHECK(http_status(error::unauthorized) == 401);
    CHECK(wire_code(error::unauthorized) == "UNAUTHORIZED_ACCESS");
    CHECK(http_status(error::forbidden) == 403);
    CHECK(wire_code(error::not_found) == "RESOURCE_NOT_FOUND");
    CHECK(http_status(error::method_not_allowed) == 405);
    CHECK(http_status(error::range_not_satisfiable) == 416);
    CHECK(wire_code(error::unprocessable) == "UNPROCESSABLE_CONTENT");
    CHECK(http_status(error::unprocessable) == 422);
    CHECK(http_status(error::unavailable) == 503);
    CHECK(wire_code(error::unavailable) == "SERVICE_UNAVAILABLE");
}

TEST_CASE("simulator errors belong to conditions, foreign codes answer 500") {
    CHECK(make_error_code(error::bad_request) == condition::invalid);
    CHECK(make_error_code(error::unauthorized) == condition::refused);
    CHECK(make_error_code(error::not_found) == condition::not_found);
    CHECK(make_error_code(error::too_many_requests) == condition::unavailable);
    CHECK(std::string(make_error_code(error::not_found).category().name()) == "stemd.simulator");
    const auto foreign = make_error_code(boost::system::errc::io_error);
    CHECK(http_status(foreign) == 500);
    CHECK(wire_code(foreign) == "INTERNAL_SERVER_ERROR");
    const stemd::error e = make_error(error::forbidden, "the link has expired");
    CHECK(e.is(condition::refused));
    CHECK(e.message == "the link has expired");
}
