#include "server/webhook_handler.hpp"

#include "server_fixture.hpp"

#include "common/crypto.hpp"
#include "jobs/metrics.hpp"
#include "storage/database.hpp"

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

TEST_CASE_FIXTURE(webhook_fixture,
                  "webhook: the shared secret is refused for a job stemd submitted") {
    const auto job = submitted("token-1");
    const auto reason = refused(post("/webhook/shared-secret", succeeded_body), 409);
    CHECK(reason.find("task task-1 was submitted by this stemd") != std::string::npos);
    CHECK(reason.find("MusicGPT posts its result to the job's own webhook URL") !=
          std::string::npos);
    const auto after = store.find(job.id).value();
    CHECK(after.status == storage::job_status::submitted);
    CHECK(after.files.empty());
    // Its own token still works.
    CHECK(post("/webhook/token-1", succeeded_body).result_int() == 200);
}

TEST_CASE_FIXTURE(webhook_fixture, "webhook: ids of another job are 409 with the reason, not 500") {
    submitted("token-1", "task-1", "conv-1");
    SUBCASE("a job left submitting, with no ids yet") {
        auto left = store.create_job(
            {.audio_url = "https://songs.example/b.mp3", .token_hash = sha256_hex("token-2")});
        REQUIRE(left.has_value());
        const auto reason = refused(post("/webhook/token-2", succeeded_body), 409);
        CHECK(reason.find("already belongs to job") != std::string::npos);
        CHECK(store.find(left->id).value().status == storage::job_status::submitting);
    }
    SUBCASE("a job whose submit answer had no conversion_id") {
        const auto job = submitted("token-3", "task-3", "");
        auto body = std::string(succeeded_body);
        body.replace(body.find("task-1"), 6, "task-3");
        const auto reason = refused(post("/webhook/token-3", body), 409);
        CHECK(reason == "conversion_id conv-1 already belongs to job " +
                            store.find("task-1").value().id + ", not " + job.id);
        CHECK(store.find(job.id).value().files.empty());
    }
}

TEST_CASE_FIXTURE(webhook_fixture, "webhook: more links than a stem separation has are 422") {
    const auto job = submitted("token-1");
    std::string map;
    for (int i = 0; i < 65; ++i)
        map += (i ? "," : "") + ("\"s" + std::to_string(i) + "\":\"https://cdn.example/" +
                                 std::to_string(i) + ".mp3\"");
    const std::string body =
        R"({"success":true,"task_id":"task-1","conversion_id":"conv-1","audio_url":{)" + map + "}}";
    CHECK(refused(post("/webhook/token-1", body), 422).find("65 links") != std::string::npos);
    CHECK(store.find(job.id).value().files.empty());
    auto adopted = body;
    adopted.replace(adopted.find("task-1"), 6, "task-8");
    adopted.replace(adopted.find("conv-1"), 6, "conv-8");
    refused(post("/webhook/shared-secret", adopted), 422);
    CHECK_FALSE(store.find("task-8").has_value());
}

TEST_CASE_FIXTURE(webhook_fixture,
                  "webhook: requests that are no delivery are counted apart from deliveries") {
    auto& m = jobs::meters();
    const auto deliveries_refused = m.webhooks.value("refused");
    const auto not_found = m.listener_refused.value("not_found");
    const auto not_post = m.listener_refused.value("method_not_allowed");
    refused(post("/favicon.ico", ""), 404);
    auto get = make_request(http::verb::get, "/webhook/some-token");
    refused(server::handle_webhook(ctx, get), 405);
    CHECK(m.listener_refused.value("not_found") == not_found + 1);
    CHECK(m.listener_refused.value("method_not_allowed") == not_post + 1);
    CHECK(m.webhooks.value("refused") == deliveries_refused);
    // An unknown token is a delivery refused.
    const auto unknown = m.webhooks_refused.value("unknown_token");
    refused(post("/webhook/wrong", succeeded_body), 404);
    CHECK(m.webhooks_refused.value("unknown_token") == unknown + 1);
    CHECK(m.webhooks.value("refused") == deliveries_refused + 1);
}

TEST_CASE_FIXTURE(webhook_fixture,
                  "webhook: a token the store cannot look up is a failed delivery, sent again") {
    submitted("token-1");
    // The database loses its tables under the running store.
    storage::database(ws / "jobs.db").execute("DROP TABLE files; DROP TABLE jobs;");
    auto& m = jobs::meters();
    const auto failed = m.webhooks.value("failed");
    const auto unknown = m.webhooks_refused.value("unknown_token");
    CHECK(refused(post("/webhook/token-1", succeeded_body), 500).find("send it again") !=
          std::string::npos);
    CHECK(m.webhooks.value("failed") == failed + 1);
    CHECK(m.webhooks_refused.value("unknown_token") == unknown);
}
