// The service over a real sqlite_store, never started: what it does
// without calling MusicGPT.

#include "jobs/service.hpp"

#include "client/tls.hpp"
#include "common/crypto.hpp"
#include "jobs/error.hpp"
#include "jobs/file_layout.hpp"
#include "storage/sqlite_store.hpp"
#include "tests/support/workspace.hpp"

#include <boost/asio/io_context.hpp>

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
