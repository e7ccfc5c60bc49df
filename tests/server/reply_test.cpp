#include "server/reply.hpp"

#include "jobs/error.hpp"
#include "musicgpt/error.hpp"
#include "server/error.hpp"
#include "server/webhook_signature.hpp"
#include "storage/error.hpp"

#include <boost/json/parse.hpp>

#include <doctest/doctest.h>

using namespace stemd;
using server::http_status;

namespace {

stemd::error failure(boost::system::error_code code) {
    return {code, "why"};
}

} // namespace

TEST_CASE("reply: one error shape, JSON with its Content-Type and length") {
    auto r = server::error_response(409, "not now");
    CHECK(r.result_int() == 409);
    CHECK(r[boost::beast::http::field::content_type] == "application/json");
    CHECK(r.has_content_length());
    CHECK(boost::json::parse(r.body()) == boost::json::parse(R"({"ok":false,"error":"not now"})"));
    CHECK(r.body().back() == '\n');
}

TEST_CASE("reply: an error answered with its message at its status") {
    auto r = server::error_response(storage::make_error(storage::error::not_found, "no job x"));
    CHECK(r.result_int() == 404);
    CHECK(boost::json::parse(r.body()) == boost::json::parse(R"({"ok":false,"error":"no job x"})"));
}

TEST_CASE("reply: success bodies are sent as given") {
    auto r = server::json_response(200, boost::json::parse(R"({"ok":true})"));
    CHECK(r.result_int() == 200);
    CHECK(r.body() == "{\"ok\":true}\n");
}

TEST_CASE("reply: the map from a failure to its HTTP status") {
    CHECK(http_status(failure(jobs::error::malformed_request)) == 400);
    CHECK(http_status(failure(server::error::bad_request)) == 400);
    CHECK(http_status(failure(musicgpt::error::malformed_payload)) == 400);
    CHECK(http_status(failure(musicgpt::error::missing_field)) == 400);
    CHECK(http_status(failure(server::signature_error::missing_header)) == 401);
    CHECK(http_status(failure(server::signature_error::no_valid_signature)) == 401);
    CHECK(http_status(failure(jobs::error::invalid_request)) == 422);
    CHECK(http_status(failure(jobs::error::unknown_token)) == 404);
    CHECK(http_status(failure(jobs::error::foreign_ids)) == 409);
    CHECK(http_status(failure(storage::error::not_found)) == 404);
    CHECK(http_status(failure(storage::error::invalid_transition)) == 409);
    CHECK(http_status(failure(storage::error::conflict)) == 409);
    CHECK(http_status(failure(storage::error::sqlite)) == 500);
    CHECK(http_status(failure(make_error_code(boost::system::errc::io_error))) == 500);
    CHECK(http_status(failure(server::error::unauthorized)) == 401);
    CHECK(http_status(failure(server::error::misdirected)) == 421);
    CHECK(http_status(failure(server::error::cross_origin)) == 403);
    CHECK(http_status(failure(server::error::unsupported_media_type)) == 415);
}
