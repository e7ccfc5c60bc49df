#include "storage/states.hpp"

#include <doctest/doctest.h>

namespace storage = stemd::storage;
using storage::file_status;
using storage::job_status;

TEST_CASE("states: statuses print and parse") {
    for (auto s : {job_status::submitting, job_status::submitted, job_status::downloading,
                   job_status::completed, job_status::failed}) {
        CHECK(storage::parse_job_status(storage::to_string(s)) == s);
    }
    for (auto s :
         {file_status::pending, file_status::downloading, file_status::done, file_status::failed}) {
        CHECK(storage::parse_file_status(storage::to_string(s)) == s);
    }
    CHECK(storage::to_string(job_status::downloading) == "downloading");
    CHECK_FALSE(storage::parse_job_status("Completed").has_value());
    CHECK_FALSE(storage::parse_job_status("").has_value());
    CHECK(storage::job_statuses.size() == 5);
    CHECK(storage::file_statuses.size() == 4);
}

TEST_CASE("states: completed and failed are final, the others runnable") {
    for (auto s : storage::job_statuses) {
        CAPTURE(storage::to_string(s));
        const bool final = s == job_status::completed || s == job_status::failed;
        CHECK(storage::is_final(s) == final);
        CHECK(storage::is_runnable(s) == !final);
    }
    for (auto s : storage::file_statuses) {
        CAPTURE(storage::to_string(s));
        const bool final = s == file_status::done || s == file_status::failed;
        CHECK(storage::is_final(s) == final);
        CHECK(storage::is_runnable(s) == !final);
    }
}
