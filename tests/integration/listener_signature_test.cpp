// Standard Webhooks signatures on the webhook listener, with the real
// binary: only valid, fresh, first-time signatures are applied.

#include "integration/stack.hpp"

#include "support/reference_signature.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <doctest/doctest.h>

#include <sys/stat.h>

namespace json = boost::json;
using namespace stemd;
using namespace stemd::test;
using namespace std::chrono_literals;

namespace {

std::string unix_seconds(std::chrono::seconds offset = 0s) {
    auto now = std::chrono::system_clock::now() + offset;
    return std::to_string(
        std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count());
}

std::string signature_headers(const std::string& id, const std::string& timestamp,
                              const std::string& signature) {
    return "webhook-id: " + id + "\r\nwebhook-timestamp: " + timestamp +
           "\r\nwebhook-signature: " + signature + "\r\n";
}

const std::string signing_key = "listener-test signing key, 32 b";
const std::string signing_secret = "whsec_" + openssl_base64(signing_key);

// A daemon that wants signed webhooks, one job it submitted, and the
// webhook body that would complete it.
struct signed_job {
    explicit signed_job(const std::string& label)
        : s(label, {.api_version = "v1", .signing_secret = signing_secret}) {
        s.start_simulator();
        s.start_serve();
        auto [status, created] =
            s.submit(R"({"audio_url":"https://songs.example/s.mp3","stems":["vocals"]})");
        REQUIRE_MESSAGE(status == 201, json::serialize(created) << s.logs());
        id = str(created, "id");
        task = str(created, "task_id");
        // The job's own URL, which a relay forwards to (webhook.secret is only
        // for jobs stemd did not submit).
        target = webhook_path_of(s, task);
        body = json::serialize(
            json::object{{"success", true},
                         {"task_id", task},
                         {"conversion_id", str(created, "conversion_id")},
                         {"vocals", "https://127.0.0.1:" + std::to_string(s.sim_port()) +
                                        "/files/" + task + "/vocals.wav"}});
    }

    http_answer post(const std::string& headers, const std::string& bytes = "",
                     const std::string& path = "") {
        return http_request(s.webhook_port(), "POST", path.empty() ? target : path,
                            bytes.empty() ? body : bytes, "application/json", headers);
    }

    stack s;
    std::string id;
    std::string task;
    std::string target;
    std::string body;
    const std::string msg = "msg_listener_1";
};

void expect_refused(const http_answer& a, const std::string& phrase) {
    CHECK(a.status == 401);
    CHECK_MESSAGE(a.body.find(phrase) != std::string::npos, a.body);
}

} // namespace

TEST_CASE("signed deliveries: the simulator's unsigned ones are refused") {
    signed_job j("listener-unsigned");
    auto& s = j.s;
    // The simulator posts unsigned, as MusicGPT itself does: refused.
    CHECK_MESSAGE(wait_for_stat(s, "webhook_failures", 1), s.logs());
    CHECK(s.serve_logs().find("missing webhook-id header") != std::string::npos);
    CHECK(str(s.job(j.id), "status") == "submitted");
}

TEST_CASE("signed deliveries: missing, wrong, stale or misplaced signatures apply nothing") {
    signed_job j("listener-bad-signatures");
    const auto& body = j.body;
    const auto& msg = j.msg;
    const std::string now = unix_seconds();
    const std::string good = openssl_sign(signing_key, msg, now, body);
    expect_refused(j.post(""), "missing webhook-id header");
    expect_refused(j.post("webhook-id: " + msg + "\r\nwebhook-timestamp: " + now + "\r\n"),
                   "missing webhook-signature header");
    expect_refused(j.post(signature_headers(msg, now, openssl_sign("another key", msg, now, body))),
                   "no valid signature");
    expect_refused(j.post(signature_headers(msg, now, good), body + " "), "no valid signature");
    std::string tampered = body;
    tampered.replace(tampered.find("vocals.wav"), 6, "drums!");
    expect_refused(j.post(signature_headers(msg, now, good), tampered), "no valid signature");
    for (auto skew : {-400s, 400s}) {
        const std::string ts = unix_seconds(skew);
        expect_refused(j.post(signature_headers(msg, ts, openssl_sign(signing_key, msg, ts, body))),
                       "5 minute");
    }
    // The signature is checked before the body is parsed, the token before both.
    expect_refused(j.post(signature_headers(msg, now, good), "{not json"), "no valid signature");
    CHECK(j.post(signature_headers(msg, now, good), body, "/webhook/" + std::string(64, 'b'))
              .status == 404);
    CHECK(str(j.s.job(j.id), "status") == "submitted");
    CHECK(j.s.job(j.id).at("files").as_array().empty());
}

TEST_CASE("signed deliveries: one valid signature among several applies, replays do not") {
    signed_job j("listener-signed");
    auto& s = j.s;
    const auto& body = j.body;
    const auto& msg = j.msg;
    const std::string now = unix_seconds();
    const std::string good = openssl_sign(signing_key, msg, now, body);
    // A refusal does not use up the id.
    expect_refused(j.post(signature_headers(msg, now, openssl_sign("another key", msg, now, body))),
                   "no valid signature");

    // Several signatures (a relay rotating keys): one valid is enough.
    const std::string rotated = openssl_sign("the relay's old key", msg, now, body) + " " + good;
    auto accepted = j.post(signature_headers(msg, now, rotated));
    REQUIRE_MESSAGE(accepted.status == 200, accepted.body << s.logs());
    CHECK(json::parse(accepted.body) == json::parse(R"({"ok":true})"));
    auto job = s.wait_for(j.id, "completed");
    check_files(s, job, 64 * 1024);
    const std::string path = str(job.at("files").as_array()[0], "path");
    struct stat before {};
    REQUIRE(::stat(path.c_str(), &before) == 0);

    // Replays of that id, as captured or re-signed with a new timestamp:
    // acknowledged, not applied.
    const std::string later = unix_seconds(2s);
    for (const auto& headers :
         {signature_headers(msg, now, rotated),
          signature_headers(msg, later, openssl_sign(signing_key, msg, later, body))}) {
        auto replay = j.post(headers);
        CHECK(replay.status == 200);
        CHECK_MESSAGE(json::parse(replay.body) == json::parse(R"({"ok":true,"duplicate":true})"),
                      replay.body);
    }
    CHECK(json::serialize(s.job(j.id)) == json::serialize(job));
    struct stat after {};
    REQUIRE(::stat(path.c_str(), &after) == 0);
    CHECK(after.st_ino == before.st_ino);
    CHECK(after.st_mtim.tv_sec == before.st_mtim.tv_sec);
    CHECK(after.st_mtim.tv_nsec == before.st_mtim.tv_nsec);
    CHECK(files_under(s.output_dir()).size() == 1);
}
