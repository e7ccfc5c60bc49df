// The whole path with the real binaries: `stemd serve` submits to
// `stemd simulate` over HTTPS (a CA made for the test), receives its
// webhook, downloads every stem and reports it.

#include "integration/stack.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <doctest/doctest.h>

#include <sys/stat.h>

#include <csignal>

namespace json = boost::json;
using namespace stemd::test;
using namespace std::chrono_literals;

namespace {} // namespace

TEST_CASE("a v2 job goes from submission to stems on disk over TLS") {
    stack s("e2e-v2");
    s.start_simulator();
    s.start_serve();

    auto [status, created] =
        s.submit(R"({"audio_url":"https://songs.example/track.mp3","stems":["vocals","drums"],)"
                 R"("preprocessing_options":["Denoise"]})");
    REQUIRE_MESSAGE(status == 201, json::serialize(created) << s.logs());
    CHECK(str(created, "status") == "submitted");
    CHECK(!str(created, "task_id").empty());
    CHECK(!str(created, "conversion_id").empty());
    CHECK(created.at("stems") == json::parse(R"(["vocals","drums"])"));

    const std::string id = str(created, "id");
    auto job = s.wait_for(id, "completed");
    check_files(s, job, 64 * 1024);

    // v2 sends the same links in audio_url and audio_url_wav: fetched once.
    auto names = files_under(s.output_dir() / str(job, "task_id"));
    CHECK(names == std::vector<std::string>{"drums.wav", "vocals.wav"});
    CHECK(job.at("conversion_cost").to_number<double>() == doctest::Approx(0.157));
    CHECK(str(job, "created_at").size() == 24);
    CHECK(str(job, "created_at").back() == 'Z');
    CHECK(str(job, "upstream_status") == "COMPLETED");

    // Found by every key it has.
    CHECK(str(s.job(str(job, "task_id")), "id") == id);
    CHECK(str(s.job(str(job, "conversion_id")), "id") == id);
    CHECK(s.api_request("GET", "/v1/jobs/nope").status == 404);

    auto list = json::parse(s.api_request("GET", "/v1/jobs?status=completed").body);
    CHECK(list.at("jobs").as_array().size() == 1);
    // The webhook token never shows in what stemd reports or logs.
    auto deliveries = s.simulator_get("/sim/deliveries").second;
    REQUIRE(deliveries.is_array());
    REQUIRE(deliveries.as_array().size() == 1);
    std::string url = str(deliveries.as_array()[0], "url");
    std::string token = url.substr(url.rfind('/') + 1);
    CHECK(token.size() >= 32);
    CHECK(s.serve_logs().find("submitted: task") != std::string::npos);
    CHECK(s.serve_logs().find(token) == std::string::npos);
    CHECK(json::serialize(job).find(token) == std::string::npos);
}

TEST_CASE("a v1 job receives the seed-shaped webhook and names files by stem") {
    stack s("e2e-v1", {.api_version = "v1"});
    s.start_simulator();
    s.start_serve();
    auto [status, created] = s.submit(
        R"({"audio_url":"https://songs.example/a.mp3","stems":["vocals","instrumental"]})");
    REQUIRE_MESSAGE(status == 201, json::serialize(created));
    auto job = s.wait_for(str(created, "id"), "completed");
    check_files(s, job, 64 * 1024);
    auto names = files_under(s.output_dir() / str(job, "task_id"));
    CHECK(names == std::vector<std::string>{"instrumental.wav", "vocals.wav"});
}

TEST_CASE("an uploaded file is streamed to MusicGPT as multipart") {
    workspace input("e2e-upload-input");
    stack_options options;
    options.api_config = "file_roots = [\"" + input.path().string() + "\"]\n";
    stack s("e2e-upload", options);
    s.start_simulator();
    s.start_serve();
    auto song = input.write("song.wav", std::string(300 * 1024, 'x'));
    auto [status, created] = s.submit(R"({"audio_file":")" + song.string() + R"("})");
    REQUIRE_MESSAGE(status == 201, json::serialize(created) << s.logs());
    CHECK(str(created, "audio_file") == song.string());
    auto job = s.wait_for(str(created, "id"), "completed");
    // No stems requested: MusicGPT's default four.
    CHECK(job.at("files").as_array().size() == 4);
    check_files(s, job, 64 * 1024);
    auto stats = s.simulator_get("/sim/stats").second;
    CHECK(stats.at("uploaded_bytes").to_number<std::uint64_t>() == 300 * 1024);
}

TEST_CASE("the local API refuses unusable requests with a reason") {
    stack s("e2e-refusals");
    s.start_simulator();
    s.start_serve();
    auto expect = [&](const std::string& body, int want, const std::string& phrase) {
        auto [status, answer] = s.submit(body);
        CAPTURE(body);
        CHECK(status == want);
        REQUIRE(answer.is_object());
        CHECK_MESSAGE(str(answer, "error").find(phrase) != std::string::npos, str(answer, "error"));
    };
    expect("{", 400, "not valid JSON");
    expect("{}", 422, "either audio_url or audio_file");
    expect(R"({"audio_url":"https://a/b.mp3","audio_file":"/etc/hostname"})", 422, "not both");
    expect(R"({"audio_file":"/nonexistent/song.mp3"})", 422, "/nonexistent/song.mp3");
    expect(R"({"audio_url":"https://a/b.mp3","stems":"vocals"})", 422, "stems");
    expect(R"({"audio_url":"ftp://a/b.mp3"})", 422, "audio_url");

    // MusicGPT's own refusal comes back as 502 with its status and message.
    auto [status, answer] = s.submit(R"({"audio_url":"https://a/b.mp3?sim-error=402"})");
    CHECK(status == 502);
    CHECK(answer.at("upstream_status").to_number<int>() == 402);
    CHECK(str(answer, "upstream_error_code") == "INSUFFICIENT_CREDITS");
    CHECK(!str(answer, "message").empty());
    CHECK(str(answer.at("job"), "status") == "failed");
    // Nothing half-made is left: no job is stuck in submitting.
    auto list = json::parse(s.api_request("GET", "/v1/jobs?status=submitting").body);
    CHECK(list.at("jobs").as_array().empty());
}

namespace {

// A job completed through the simulator's webhook, and that delivery as
// it was made, for tests that deliver it again or deliver something else.
struct delivered_job {
    explicit delivered_job(const std::string& label) : s(label) {
        s.start_simulator();
        s.start_serve();
        auto [status, created] =
            s.submit(R"({"audio_url":"https://songs.example/x.mp3","stems":["vocals"]})");
        REQUIRE(status == 201);
        job = s.wait_for(str(created, "id"), "completed");
        auto deliveries = s.simulator_get("/sim/deliveries").second.as_array();
        REQUIRE(deliveries.size() == 1);
        const std::string url = str(deliveries[0], "url");
        target = url.substr(url.find("/webhook/"));
        body = str(deliveries[0], "body");
    }

    stack s;
    json::value job;
    std::string target;
    std::string body;
};

} // namespace

TEST_CASE("webhook deliveries: a repeated one changes nothing") {
    delivered_job d("e2e-webhook-repeat");
    auto& s = d.s;
    const std::string path = str(d.job.at("files").as_array()[0], "path");
    struct stat before {};
    REQUIRE(::stat(path.c_str(), &before) == 0);

    // The same delivery again: 200, nothing duplicated or rewritten.
    for (int i = 0; i < 3; ++i) {
        auto again = http_request(s.webhook_port(), "POST", d.target, d.body);
        CHECK(again.status == 200);
        CHECK(json::parse(again.body).at("ok").as_bool());
    }
    auto after = s.job(str(d.job, "id"));
    CHECK(after.at("files").as_array().size() == 1);
    CHECK(str(after, "status") == "completed");
    struct stat now {};
    REQUIRE(::stat(path.c_str(), &now) == 0);
    CHECK(now.st_ino == before.st_ino);
    CHECK(now.st_mtim.tv_nsec == before.st_mtim.tv_nsec);
}

TEST_CASE("webhook deliveries: bad token, malformed, mismatched and oversized are refused") {
    delivered_job d("e2e-webhook-refused");
    auto& s = d.s;
    const auto& target = d.target;
    const auto& body = d.body;
    // Unknown tokens and paths look the same from outside: 404.
    CHECK(http_request(s.webhook_port(), "POST", "/webhook/" + std::string(64, 'a'), body).status ==
          404);
    CHECK(http_request(s.webhook_port(), "POST", "/webhook/", body).status == 404);
    CHECK(http_request(s.webhook_port(), "POST", "/other", body).status == 404);

    auto malformed = http_request(s.webhook_port(), "POST", target, "{not json");
    CHECK(malformed.status == 400);
    CHECK(malformed.body.find("JSON") != std::string::npos);
    auto no_task = http_request(s.webhook_port(), "POST", target, R"({"success":true})");
    CHECK(no_task.status == 400);
    CHECK(no_task.body.find("task_id") != std::string::npos);

    // A body for another task on this job's URL.
    auto other = json::parse(body).as_object();
    other["task_id"] = "00000000-0000-0000-0000-000000000000";
    CHECK(http_request(s.webhook_port(), "POST", target, json::serialize(other)).status == 409);
    // This job's own body through the shared secret: stemd submitted it, so
    // only its own URL may change it.
    auto through_secret = http_request(s.webhook_port(), "POST", "/webhook/" + s.secret(), body);
    CHECK(through_secret.status == 409);
    CHECK_MESSAGE(through_secret.body.find("was submitted by this stemd") != std::string::npos,
                  through_secret.body);
    // More links than any stem separation has: 422.
    auto many = json::parse(body).as_object();
    json::object map;
    for (int i = 0; i < 65; ++i)
        map["s" + std::to_string(i)] = "https://cdn.example/" + std::to_string(i) + ".mp3";
    many["audio_url"] = map;
    auto too_many = http_request(s.webhook_port(), "POST", target, json::serialize(many));
    CHECK(too_many.status == 422);
    CHECK_MESSAGE(too_many.body.find("links, more than the 64") != std::string::npos,
                  too_many.body);

    // Over the 1 MiB limit.
    std::string big = R"({"task_id":")" + std::string(1100 * 1024, 'a') + R"("})";
    CHECK(http_request(s.webhook_port(), "POST", target, big).status == 413);

    // After all that, the daemon still serves and the job is intact.
    CHECK(str(s.job(str(d.job, "id")), "status") == "completed");
}

TEST_CASE("webhook deliveries: the shared secret adopts a job stemd did not submit") {
    stack s("e2e-webhook-adopt");
    s.start_simulator();
    s.start_serve();
    // The shared secret accepts deliveries for jobs stemd did not submit;
    // the job is created from the payload and reported like any other.
    auto adopted = http_request(s.webhook_port(), "POST", "/webhook/" + s.secret(),
                                R"({"task_id":"outside-1","status":"IN_QUEUE"})");
    CHECK(adopted.status == 200);
    auto outside = s.job("outside-1");
    CHECK(str(outside, "status") == "submitted");
    CHECK(str(outside, "upstream_status") == "IN_QUEUE");
    // `stemd wait` on a job still in progress gives up at its --timeout.
    auto waited = s.cli({"wait", "outside-1", "--timeout", "0.3"});
    CHECK(waited.exit_code == 1);
    CHECK_MESSAGE(waited.err.find("is still submitted after 0.3 s") != std::string::npos,
                  waited.err);
}

// The race: MusicGPT's webhook for the task (here posted to the shared
// secret's URL, as a relay with a fixed URL would) comes before its answer
// to the submission. Adopting it would make a second job for the task and
// leave the submission's answer nowhere to go.
TEST_CASE("webhook deliveries: the shared secret adopts nothing while a submission is in flight") {
    stack s("e2e-webhook-race");
    s.start_simulator();
    s.start_serve();
    auto [status, created] = s.submit(R"({"audio_url":"https://songs.example/song.mp3?)"
                                      R"(sim-webhook-first=/webhook/)" +
                                      s.secret() + R"("})");
    REQUIRE_MESSAGE(status == 201, json::serialize(created), s.logs());
    const std::string task = str(created, "task_id");
    CHECK_FALSE(task.empty());
    auto list = json::parse(s.api_request("GET", "/v1/jobs").body);
    CHECK_MESSAGE(list.at("jobs").as_array().size() == 1, json::serialize(list));
    CHECK(str(s.job(task), "id") == str(created, "id"));
    // Answered 503 while the submission was unanswered, then retried by the
    // simulator and refused (409): the job is stemd's, its own URL decides.
    CHECK_MESSAGE(s.serve_logs().find("a submission is in flight") != std::string::npos,
                  s.serve_logs());
    CHECK(wait_until(
        [&] { return s.serve_logs().find("was submitted by this stemd") != std::string::npos; },
        10s));
}

TEST_CASE("a failed extraction is recorded with MusicGPT's message") {
    stack s("e2e-failed");
    s.start_simulator();
    s.start_serve();
    auto [status, created] = s.submit(R"({"audio_url":"https://songs.example/sim-fail.mp3"})");
    REQUIRE(status == 201);
    auto job = s.wait_for(str(created, "id"), "failed");
    CHECK(str(job, "error").find("Simulated extraction failure") != std::string::npos);
    CHECK(job.at("files").as_array().empty());
    auto waited = s.cli({"wait", str(created, "id")});
    CHECK(waited.exit_code == 1);
}

TEST_CASE("a restart in the middle of a download resumes and ends with the right bytes") {
    // 6 MiB at 2 MiB/s: about three seconds, so the kill lands mid-body.
    constexpr std::uint64_t size = 6 * 1024 * 1024;
    stack s("e2e-restart", {.stem_bytes = size, .rate = 2 * 1024 * 1024});
    s.start_simulator();
    s.start_serve();
    auto [status, created] =
        s.submit(R"({"audio_url":"https://songs.example/long.mp3","stems":["vocals"]})");
    REQUIRE(status == 201);
    const std::string id = str(created, "id");

    // Wait until a partial file with some bytes exists, then crash.
    const auto part = s.wait_for_partial(256 * 1024, 30s);
    s.kill_serve();
    const auto kept = std::filesystem::file_size(part);
    CHECK(kept < size);

    s.start_serve();
    auto job = s.wait_for(id, "completed", 60s);
    check_files(s, job, size);
    auto stats = s.simulator_get("/sim/stats").second;
    CHECK(stats.at("range_requests").to_number<int>() >= 1);
    // Resumed, not restarted: the second run fetched only the rest.
    CHECK(stats.at("bytes_served").to_number<std::uint64_t>() < 2 * size);
}

TEST_CASE("the CLI submits, waits, shows and lists") {
    stack s("e2e-cli");
    s.start_simulator();
    s.start_serve();
    auto submitted = s.cli({"submit", "--url", "https://songs.example/cli.mp3", "--stems",
                            "vocals,bass", "--wait", "--json"});
    REQUIRE_MESSAGE(submitted.exit_code == 0, submitted.out << submitted.err << s.logs());
    // --wait --json: a JSON line each time the job changed, the final job last.
    std::string out = submitted.out;
    while (!out.empty() && out.back() == '\n')
        out.pop_back();
    auto job = json::parse(out.substr(out.rfind('\n') + 1));
    CHECK(str(job, "status") == "completed");
    check_files(s, job, 64 * 1024);

    auto shown = s.cli({"status", str(job, "task_id")});
    CHECK(shown.exit_code == 0);
    CHECK(shown.out.find("completed") != std::string::npos);
    CHECK(shown.out.find("vocals") != std::string::npos);

    auto listed = s.cli({"list", "--json"});
    CHECK(listed.exit_code == 0);
    CHECK(json::parse(listed.out).at("jobs").as_array().size() == 1);

    CHECK(s.cli({"status", "no-such-job"}).exit_code == 1);
    CHECK(s.cli({"submit"}).exit_code == 2);
    CHECK(s.cli({"submit", "--url", "https://a/b", "--file", "/etc/hostname"}).exit_code == 2);
    CHECK(run({STEMD_BINARY, "no-such-command"}).exit_code == 2);
    CHECK(run({STEMD_BINARY, "--version"}).out.find("stemd") != std::string::npos);
}

TEST_CASE("stemd serve refuses a bad config and a database already in use") {
    stack s("e2e-start");
    s.start_simulator();
    s.start_serve();

    auto second = run({STEMD_BINARY, "serve", "--config", s.config_file().string()}, 20s);
    CHECK(second.exit_code != 0);
    CHECK(second.err.find("already using") != std::string::npos);

    auto bad = s.ws().write("bad.toml", "[download]\nconcurency = 4\n");
    auto refused = run({STEMD_BINARY, "serve", "--config", bad.string()}, 20s);
    CHECK(refused.exit_code != 0);
    CHECK(refused.err.find("download.concurency") != std::string::npos);
    CHECK(refused.err.find(bad.string()) != std::string::npos);

    // SIGTERM: stops promptly and cleanly.
    s.serve().signal(SIGTERM);
    CHECK(s.serve().wait(10s) == 0);
}
