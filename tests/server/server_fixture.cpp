#include "server_fixture.hpp"

#include "client/tls.hpp"
#include "common/crypto.hpp"

#include <boost/json/parse.hpp>

#include <doctest/doctest.h>

namespace stemd::server::testing {

namespace {

jobs::service_options options_for(const test::workspace& ws) {
    jobs::service_options o;
    o.public_url = "https://stemd.example";
    o.output_dir = ws / "stems";
    return o;
}

} // namespace

service_fixture::service_fixture()
    : tls(client::make_tls_client_context("")),
      store(storage::sqlite_store::open(ws / "jobs.db").value()),
      service(
          std::make_unique<jobs::service>(io.get_executor(), store, options_for(ws), *tls, *tls)) {}

storage::job_record service_fixture::submitted(std::string_view token, std::string task,
                                               std::string conversion) {
    auto job = store.create_job(
        {.audio_url = "https://songs.example/a.mp3", .token_hash = sha256_hex(token)});
    REQUIRE(job.has_value());
    REQUIRE(store.mark_submitted(job->id, task, conversion, 60.0, 1.0, "IN_QUEUE").has_value());
    return store.find(job->id).value();
}

listener::request make_request(boost::beast::http::verb method, std::string target,
                               std::string body) {
    listener::request req{method, target, 11};
    req.body() = std::move(body);
    req.prepare_payload();
    return req;
}

boost::json::value body_of(const listener::response& r) {
    return boost::json::parse(r.body());
}

std::string refused(const listener::response& r, unsigned status) {
    CHECK(r.result_int() == status);
    const auto body = body_of(r);
    CHECK(body.at("ok") == false);
    return std::string(body.at("error").as_string());
}

} // namespace stemd::server::testing
