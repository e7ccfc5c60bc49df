#include "server/webhook_handler.hpp"

#include "server_fixture.hpp"

#include <boost/json/parse.hpp>

#include <doctest/doctest.h>

using namespace stemd;
using namespace stemd::server::testing;
namespace http = boost::beast::http;

namespace {

constexpr std::string_view succeeded_body =
    R"({"success":true,"task_id":"task-1","conversion_id":"conv-1","status":"COMPLETED",)"
    R"("audio_url":{"vocals":"https://cdn.example/v.mp3?sig=1"}})";

struct webhook_fixture : service_fixture {
    server::webhook_context ctx{*service, "shared-secret", std::nullopt};

    listener::response post(std::string target, std::string_view body) {
        auto req = make_request(http::verb::post, std::move(target), std::string(body));
        return server::handle_webhook(ctx, req);
    }
};

std::string refused(const listener::response& r, unsigned status) {
    CHECK(r.result_int() == status);
    const auto body = body_of(r);
    CHECK(body.at("ok") == false);
    return std::string(body.at("error").as_string());
}

} // namespace

TEST_CASE_FIXTURE(webhook_fixture, "webhook: other paths and unknown tokens are 404") {
    CHECK(refused(post("/elsewhere", succeeded_body), 404) == "not found");
    CHECK(refused(post("/webhook/", succeeded_body), 404) == "not found");
    CHECK(refused(post("/webhook/a/b", succeeded_body), 404) == "not found");
    CHECK(refused(post("/webhook/wrong", succeeded_body), 404) == "unknown webhook token");
}

TEST_CASE_FIXTURE(webhook_fixture, "webhook: only POST") {
    submitted("token-1");
    auto req = make_request(http::verb::get, "/webhook/token-1");
    auto r = server::handle_webhook(ctx, req);
    CHECK(refused(r, 405) == "use POST");
    CHECK(r[http::field::allow] == "POST");
}

TEST_CASE_FIXTURE(webhook_fixture, "webhook: a body that is not a report is 400") {
    submitted("token-1");
    refused(post("/webhook/token-1", "not json"), 400);
    refused(post("/webhook/token-1", R"({"success":true})"), 400); // no task_id
}

TEST_CASE_FIXTURE(webhook_fixture, "webhook: a report about another job is 409") {
    submitted("token-1");
    auto body = std::string(succeeded_body);
    body.replace(body.find("task-1"), 6, "task-2");
    CHECK(refused(post("/webhook/token-1", body), 409) ==
          "task_id task-2 does not belong to this webhook URL");
}

TEST_CASE_FIXTURE(webhook_fixture, "webhook: a committed delivery is 200 and in the store") {
    const auto job = submitted("token-1");
    auto r = post("/webhook/token-1?relay=1", succeeded_body);
    CHECK(r.result_int() == 200);
    CHECK(body_of(r) == boost::json::parse(R"({"ok":true})"));
    auto stored = store.find(job.id).value();
    CHECK(stored.status == storage::job_status::downloading);
    REQUIRE(stored.files.size() == 1);
    CHECK(stored.files[0].name == "vocals");
    CHECK(stored.files[0].path == (ws / "stems" / "task-1" / "vocals.mp3").string());
}

TEST_CASE_FIXTURE(webhook_fixture,
                  "webhook: the shared secret adopts a task stemd did not submit") {
    auto body = std::string(succeeded_body);
    body.replace(body.find("task-1"), 6, "task-7");
    body.replace(body.find("conv-1"), 6, "conv-7");
    auto r = post("/webhook/shared-secret", body);
    CHECK(r.result_int() == 200);
    auto adopted = store.find("task-7").value();
    CHECK(adopted.conversion_id == "conv-7");
    CHECK(adopted.status == storage::job_status::downloading);
}

TEST_CASE_FIXTURE(webhook_fixture, "webhook: signatures are required when configured") {
    submitted("token-1");
    ctx.signing.emplace("whsec_c2VjcmV0LWtleS0wMTIzNDU2Nzg5");
    auto r = post("/webhook/token-1", succeeded_body);
    refused(r, 401);
    CHECK(store.find("task-1").value().status == storage::job_status::submitted);
}
