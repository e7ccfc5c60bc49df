#include "cli/job_table.hpp"

#include "common/time.hpp"

#include <boost/json/parse.hpp>

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace stemd;
using namespace stemd::cli;

namespace {

boost::json::array jobs_of(const char* text) {
    return boost::json::parse(text).as_array();
}

const millis now = *parse_rfc3339("2026-11-25T12:00:00Z");

constexpr const char* two_jobs = R"([
    {"id": "j_1", "status": "completed", "task_id": "0123456789abcdef0123",
     "created_at": "2026-11-25T09:00:00.000Z", "files": [{"status": "done"}, {"status": "done"}]},
    {"id": "j_22", "status": "failed", "task_id": "", "created_at": "2026-11-25T11:59:30.000Z",
     "files": [{"status": "failed"}]},
    "not a job"])";

} // namespace

TEST_CASE("job_table: columns line up, task ids are shortened, ages are short") {
    const auto lines = job_table(jobs_of(two_jobs), now, false);
    const std::vector<std::string> expected{
        "ID    STATUS     FILES  AGE  TASK",
        "j_1   completed  2/2    3h   0123456789...",
        "j_22  failed     0/1    30s  -",
    };
    CHECK(lines == expected);
}

TEST_CASE("job_table: colour wraps the status only, and the columns still line up") {
    const auto plain = job_table(jobs_of(two_jobs), now, false);
    const auto coloured = job_table(jobs_of(two_jobs), now, true);
    REQUIRE(coloured.size() == plain.size());
    CHECK(coloured[0] == plain[0]); // the header is not a status
    CHECK(coloured[1] == "j_1   \x1b[32mcompleted\x1b[0m  2/2    3h   0123456789...");
    CHECK(coloured[2] == "j_22  \x1b[31mfailed\x1b[0m     0/1    30s  -");
    // Without the escapes, the coloured table is the plain one.
    for (std::size_t i = 0; i < plain.size(); ++i) {
        std::string stripped = coloured[i];
        for (const char* code : {"\x1b[32m", "\x1b[31m", "\x1b[33m", "\x1b[0m"})
            for (auto at = stripped.find(code); at != std::string::npos; at = stripped.find(code))
                stripped.erase(at, std::string(code).size());
        CHECK(stripped == plain[i]);
    }
    CHECK(plain[1].find('\x1b') == std::string::npos);
}

TEST_CASE("job_table: work under way is yellow") {
    const auto lines = job_table(
        jobs_of(R"([{"id": "j", "status": "downloading", "created_at": "x"}])"), now, true);
    REQUIRE(lines.size() == 2);
    CHECK(lines[1] == "j   \x1b[33mdownloading\x1b[0m  0/0    -    -");
}

TEST_CASE("age_text and short_task") {
    CHECK(age_text(now - 59'000, now) == "59s");
    CHECK(age_text(now - 61'000, now) == "1m");
    CHECK(age_text(now - 2 * 86'400'000, now) == "2d");
    CHECK(age_text(now + 5'000, now) == "0s"); // a clock a little ahead
    CHECK(short_task("abc") == "abc");
    CHECK(short_task("0123456789abc") == "0123456789abc");
    CHECK(short_task("0123456789abcd") == "0123456789...");
}

TEST_CASE("event_lines: one aligned line per event, - for the job as a whole") {
    const auto lines = event_lines(jobs_of(R"([
        {"at": "2026-11-25T12:00:00.000Z", "kind": "submitted", "file": "", "detail": "task t"},
        {"at": "2026-11-25T12:00:01.000Z", "kind": "download_retry", "file": "vocals",
         "detail": "HTTP 503\u001b[2J"}])"));
    const std::vector<std::string> expected{
        "2026-11-25T12:00:00.000Z  submitted       -       task t",
        "2026-11-25T12:00:01.000Z  download_retry  vocals  HTTP 503 [2J",
    };
    CHECK(lines == expected);
}

TEST_CASE("job_table and event_lines: multi-byte characters take one column, are never split") {
    CHECK(short_task("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 5) ==
          "\xc3\xa9\xc3\xa9...");
    CHECK(short_task("\xc3\xa9\xc3\xa9\xc3\xa9", 3) == "\xc3\xa9\xc3\xa9\xc3\xa9");
    const auto lines = event_lines(boost::json::parse(R"([
        {"at": "t1", "kind": "download_done", "file": "caf\u00e9", "detail": "x"},
        {"at": "t2", "kind": "download_done", "file": "drum", "detail": "y"}])")
                                       .as_array());
    REQUIRE(lines.size() == 2);
    CHECK(lines[0] == "t1  download_done  caf\xc3\xa9  x");
    CHECK(lines[1] == "t2  download_done  drum  y");
}
