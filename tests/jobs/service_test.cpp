// The service over a real sqlite_store, never started: what it does
// without calling MusicGPT.

#include "jobs/service.hpp"

#include "client/tls.hpp"
#include "common/crypto.hpp"
#include "jobs/error.hpp"
#include "jobs/file_layout.hpp"
#include "musicgpt/stem_map.hpp"
#include "storage/sqlite_store.hpp"
#include "tests/support/workspace.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include <chrono>
#include <functional>

#include <doctest/doctest.h>

using namespace stemd;

namespace {

struct fixture {
    test::workspace ws{"jobs-service"};
    boost::asio::io_context io{1};
    std::shared_ptr<boost::asio::ssl::context> tls = client::make_tls_client_context("");
    storage::sqlite_store store = storage::sqlite_store::open(ws / "jobs.db").value();
    jobs::service service{io.get_executor(), store, options(), *tls, *tls};

    jobs::service_options options() const {
        jobs::service_options o;
        o.public_url = "https://stemd.example";
        o.output_dir = ws / "stems";
        return o;
    }

    // A submitted job whose webhook token is `token`.
    storage::job_record submitted(std::string_view token, std::string task = "task-1",
                                  std::string conversion = "conv-1") {
        auto job = store.create_job(
            {.audio_url = "https://songs.example/a.mp3", .token_hash = sha256_hex(token)});
        REQUIRE(job.has_value());
        REQUIRE(store.mark_submitted(job->id, task, conversion, 60.0, 1.0, "IN_QUEUE").has_value());
        return store.find(job->id).value();
    }
};

musicgpt::report succeeded(std::string task, std::string conversion) {
    return {.what = musicgpt::report::state::succeeded,
            .task_id = std::move(task),
            .conversion_id = std::move(conversion),
            .upstream_status = "COMPLETED",
            .links = {{"vocals", "", "https://cdn.example/v.mp3?sig=1"}}};
}

} // namespace

TEST_CASE_FIXTURE(fixture, "service: find_by_token finds the job of a token, and only that") {
    const auto job = submitted("token-1");
    auto found = service.find_by_token("token-1");
    REQUIRE(found.has_value());
    CHECK(found->id == job.id);
    auto unknown = service.find_by_token("token-2");
    REQUIRE_FALSE(unknown.has_value());
    CHECK(unknown.error().code == jobs::error::unknown_token);
    CHECK(unknown.error().is(condition::not_found));
}

TEST_CASE_FIXTURE(fixture, "service: a delivery naming another job's ids is foreign_ids") {
    const auto job = submitted("token-1");
    auto other_task = service.job_for_delivery(job, succeeded("task-2", "conv-1"));
    REQUIRE_FALSE(other_task.has_value());
    CHECK(other_task.error().code == jobs::error::foreign_ids);
    CHECK(other_task.error().is(condition::conflict));
    CHECK(other_task.error().message.find("task_id task-2") != std::string::npos);
    auto other_conversion = service.job_for_delivery(job, succeeded("task-1", "conv-2"));
    REQUIRE_FALSE(other_conversion.has_value());
    CHECK(other_conversion.error().message.find("conversion_id conv-2") != std::string::npos);
    auto same = service.job_for_delivery(job, succeeded("task-1", ""));
    REQUIRE(same.has_value());
    CHECK(same->id == job.id);
}

TEST_CASE_FIXTURE(fixture, "service: without a token the task's job is adopted") {
    auto adopted = service.job_for_delivery(std::nullopt, succeeded("task-9", "conv-9"));
    REQUIRE(adopted.has_value());
    CHECK(adopted->task_id == "task-9");
    auto again = service.job_for_delivery(std::nullopt, succeeded("task-9", "conv-9"));
    REQUIRE(again.has_value());
    CHECK(again->id == adopted->id);
}

TEST_CASE_FIXTURE(fixture, "service: record puts each file at its destination") {
    const auto job = submitted("token-1");
    const auto report = succeeded("task-1", "conv-1");
    auto recorded = service.record(job.id, report);
    REQUIRE(recorded.has_value());
    CHECK(recorded->status == storage::job_status::downloading);
    REQUIRE(recorded->files.size() == 1);
    CHECK(recorded->files[0].path ==
          jobs::destination(ws / "stems", "task-1", report.links[0]).string());
}

TEST_CASE_FIXTURE(fixture, "service: an adopted job gets a status look-up planned") {
    auto adopted = service.job_for_delivery(std::nullopt, {.task_id = "task-5"});
    REQUIRE(adopted.has_value());
    CHECK_FALSE(adopted->next_poll_at);
    auto recorded =
        service.record(adopted->id, {.task_id = "task-5", .upstream_status = "IN_QUEUE"});
    REQUIRE(recorded.has_value());
    CHECK(recorded->next_poll_at);
}

TEST_CASE_FIXTURE(fixture, "service: retry, find and list go to the store") {
    const auto job = submitted("token-1");
    auto missing = service.retry("nope");
    REQUIRE_FALSE(missing.has_value());
    CHECK(missing.error().is(condition::not_found));
    auto not_failed = service.retry(job.id);
    REQUIRE_FALSE(not_failed.has_value());
    CHECK(not_failed.error().is(condition::conflict));

    REQUIRE(store.mark_failed(job.id, "test").has_value());
    auto retried = service.retry("task-1");
    REQUIRE(retried.has_value());
    CHECK(retried->status == storage::job_status::submitted);

    CHECK(service.find("conv-1").value().id == job.id);
    CHECK(service.list(std::nullopt, 10).value().size() == 1);
    CHECK(service.list(storage::job_status::failed, 10).value().empty());
}

TEST_CASE_FIXTURE(fixture, "service: the delivery replay guard") {
    CHECK_FALSE(service.seen_delivery("msg_1").value());
    REQUIRE(service.remember_delivery("msg_1").has_value());
    CHECK(service.seen_delivery("msg_1").value());
    CHECK_FALSE(service.seen_delivery("msg_2").value());
}

TEST_CASE_FIXTURE(fixture, "service: the shared secret never touches a job stemd submitted") {
    const auto job = submitted("token-1");
    for (const auto& [task, conversion] :
         {std::pair{"task-1", "conv-1"}, std::pair{"task-1", ""}, std::pair{"task-x", "conv-1"}}) {
        auto refused = service.job_for_delivery(std::nullopt, succeeded(task, conversion));
        REQUIRE_FALSE(refused.has_value());
        CHECK(refused.error().is(condition::conflict));
        CHECK(refused.error().message.find("was submitted by this stemd") != std::string::npos);
        CHECK(refused.error().message.find("own webhook URL") != std::string::npos);
    }
    const auto after = store.find(job.id).value();
    CHECK(after.status == storage::job_status::submitted);
    CHECK(after.task_id == "task-1");
    CHECK(after.files.empty());
    CHECK(service.list(std::nullopt, 10).value().size() == 1); // nothing adopted either
}

// The store's view, as another process's submission would show: a job in
// `submitting` created within submitting_grace.
TEST_CASE_FIXTURE(fixture,
                  "service: the shared secret adopts no new task while one is submitting") {
    REQUIRE(service.job_for_delivery(std::nullopt, succeeded("task-9", "conv-9")).has_value());
    REQUIRE(store
                .create_job({.audio_url = "https://songs.example/b.mp3",
                             .token_hash = sha256_hex("other-process")})
                .has_value());

    auto refused = service.job_for_delivery(std::nullopt, succeeded("task-new", "conv-new"));
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().code == jobs::error::submission_in_flight);
    CHECK(refused.error().is(condition::unavailable));
    CHECK(refused.error().message.find("send the delivery again") != std::string::npos);
    // A task a job has already is not the one being submitted.
    CHECK(service.job_for_delivery(std::nullopt, succeeded("task-9", "conv-9")).has_value());
    CHECK(service.list(std::nullopt, 10).value().size() == 2); // nothing adopted

    // Past submitting_grace the job is stale, not in flight.
    auto o = options();
    o.submitting_grace = std::chrono::milliseconds(0);
    jobs::service later{io.get_executor(), store, o, *tls, *tls};
    auto adopted = later.job_for_delivery(std::nullopt, succeeded("task-new", "conv-new"));
    REQUIRE(adopted.has_value());
    CHECK(adopted->task_id == "task-new");
}

TEST_CASE_FIXTURE(fixture, "service: more links than a stem separation has are refused") {
    const auto job = submitted("token-1");
    auto report = succeeded("task-1", "conv-1");
    report.links.clear();
    for (std::size_t i = 0; i <= musicgpt::max_links_per_report; ++i)
        report.links.push_back(
            {"s" + std::to_string(i), "", "https://cdn.example/" + std::to_string(i) + ".mp3"});
    for (auto by_token : {std::optional(job), std::optional<storage::job_record>()}) {
        auto refused = service.job_for_delivery(by_token, report);
        REQUIRE_FALSE(refused.has_value());
        CHECK(refused.error().code == jobs::error::too_many_links);
        CHECK(refused.error().is(condition::invalid));
    }
    auto not_recorded = service.record(job.id, report);
    REQUIRE_FALSE(not_recorded.has_value());
    CHECK(not_recorded.error().message.find("65 links, more than the 64") != std::string::npos);
    CHECK(store.find(job.id).value().files.empty());
    report.links.pop_back();
    CHECK(service.record(job.id, report).value().files.size() == musicgpt::max_links_per_report);
}

TEST_CASE_FIXTURE(fixture, "service: links to stemd's own webhook listener are dropped") {
    const auto job = submitted("token-1");
    auto report = succeeded("task-1", "conv-1");
    report.links = {{"vocals", "", "https://STEMD.example/webhook/token-1"},
                    {"drums", "", "https://stemd.example:443/v1/jobs"},
                    {"bass", "", "http://stemd.example/elsewhere"},
                    {"piano", "", "https://stemd.example:8443/other-port"},
                    {"guitar", "", "https://cdn.example/g.mp3"}};
    auto recorded = service.record(job.id, report);
    REQUIRE(recorded.has_value());
    std::vector<std::string> names;
    for (const auto& f : recorded->files)
        names.push_back(f.name);
    CHECK(names == std::vector<std::string>{"bass", "guitar", "piano"});
}

namespace {

namespace net = boost::asio;

// Runs the fixture's io_context until `done` holds; false after 10 s.
bool run_until(net::io_context& io, const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!done() && std::chrono::steady_clock::now() < deadline)
        io.run_one_for(std::chrono::milliseconds(50));
    return done();
}

} // namespace

// A webhook that races MusicGPT's answer to the submission (it may come
// before stemd has read that answer) must not decide the job's ids: before
// the fix it was applied to the job still submitting, took task-W, and the
// answer's task-A was then refused as a transition from downloading.
TEST_CASE_FIXTURE(fixture, "service: a delivery racing the submit answer is refused") {
    // MusicGPT: a loopback socket that answers when the test says so.
    net::ip::tcp::acceptor acceptor(io, {net::ip::make_address("127.0.0.1"), 0});
    auto o = options();
    o.musicgpt.base_url = "http://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port());
    o.musicgpt.api_version = "v2";
    o.musicgpt.api_key = "key";
    jobs::service racing{io.get_executor(), store, o, *tls, *tls};
    net::ip::tcp::socket musicgpt(io);
    bool connected = false;
    acceptor.async_accept(musicgpt, [&](boost::system::error_code ec) { connected = !ec; });
    std::optional<result<jobs::submit_result>> outcome;
    // submit() keeps a reference to its request: it must outlive the call.
    const jobs::job_request request{.audio_url = "https://songs.example/a.mp3"};
    net::co_spawn(
        io, racing.submit(request),
        [&](std::exception_ptr, result<jobs::submit_result> r) { outcome = std::move(r); });
    REQUIRE(run_until(io, [&] { return connected; }));

    const auto submitting = store.list(storage::job_status::submitting, 10).value();
    REQUIRE(submitting.size() == 1);
    const auto raced = succeeded("task-W", "conv-W");
    auto refused = racing.job_for_delivery(submitting[0], raced);
    if (refused) {
        FAIL_CHECK("a delivery was accepted while the submission was in flight");
        (void)racing.record(refused->id, raced); // as the webhook handler would
    } else {
        CHECK(refused.error().code == jobs::error::still_submitting);
        CHECK(refused.error().is(condition::conflict));
        CHECK(refused.error().message.find("still being submitted") != std::string::npos);
    }

    const std::string answer = R"({"success":true,"task_id":"task-A","conversion_id":"conv-A",)"
                               R"("eta":60,"status":"IN_QUEUE"})";
    net::write(musicgpt, net::buffer("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                     "Content-Length: " +
                                     std::to_string(answer.size()) + "\r\n\r\n" + answer));
    REQUIRE(run_until(io, [&] { return outcome.has_value(); }));
    REQUIRE(outcome->has_value());
    CHECK_FALSE((*outcome)->refused);
    const auto job = store.find(submitting[0].id).value();
    CHECK(job.status == storage::job_status::submitted);
    CHECK(job.task_id == "task-A");
    CHECK(job.conversion_id == "conv-A");
    CHECK(job.audio_url == "https://songs.example/a.mp3");
    CHECK(job.files.empty());

    // Once the answer is recorded, the same job takes deliveries again.
    CHECK(racing.job_for_delivery(job, succeeded("task-A", "conv-A")).has_value());
}

TEST_CASE_FIXTURE(fixture,
                  "service: a job left submitting by an earlier process takes its webhook") {
    auto left = store.create_job(
        {.audio_url = "https://songs.example/a.mp3", .token_hash = sha256_hex("token-9")});
    REQUIRE(left.has_value());
    auto job = service.job_for_delivery(*left, succeeded("task-9", "conv-9"));
    REQUIRE(job.has_value());
    CHECK(service.record(job->id, succeeded("task-9", "conv-9")).value().task_id == "task-9");
}

// Every process sharing a store must answer a job's webhook alike, so
// there "still submitting" is read from the job in the store, not from
// what this process is doing: here another process created it.
TEST_CASE_FIXTURE(fixture,
                  "service: on a shared store a job submitting within its grace refuses its "
                  "webhook on every process") {
    auto o = options();
    o.shared_poll = std::chrono::milliseconds(1'000);
    jobs::service shared{io.get_executor(), store, o, *tls, *tls};
    auto other = store.create_job(
        {.audio_url = "https://songs.example/a.mp3", .token_hash = sha256_hex("token-7")});
    REQUIRE(other.has_value());
    auto refused = shared.job_for_delivery(*other, succeeded("task-7", "conv-7"));
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().code == jobs::error::still_submitting);
    CHECK(refused.error().is(condition::conflict));
    CHECK(refused.error().message.find("send the delivery again") != std::string::npos);

    // Past submitting_grace its submitter is taken to be gone: the
    // webhook is what settles it.
    o.submitting_grace = std::chrono::milliseconds(0);
    jobs::service later{io.get_executor(), store, o, *tls, *tls};
    auto taken = later.job_for_delivery(*other, succeeded("task-7", "conv-7"));
    REQUIRE(taken.has_value());
    CHECK(taken->id == other->id);

    // Once submitted, any process takes it.
    const auto job = submitted("token-8", "task-8", "conv-8");
    CHECK(shared.job_for_delivery(job, succeeded("task-8", "conv-8")).has_value());
}
