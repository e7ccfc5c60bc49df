#include "cli/error.hpp"

#include "config/error.hpp"

#include <doctest/doctest.h>

using stemd::condition;
using stemd::cli::error;
using stemd::cli::exit_code;
using stemd::cli::failure;
using stemd::cli::usage_error;

TEST_CASE("a usage error exits with 2, every other failure with 1") {
    CHECK(exit_code(usage_error("which job?")) == 2);
    CHECK(exit_code(failure(error::unreachable, "cannot reach")) == 1);
    CHECK(exit_code(failure(error::job_failed, "job failed")) == 1);
    // An invalid configuration value is a failure, not a usage error.
    CHECK(exit_code(stemd::error{stemd::config::error::bad_value, "bad"}) == 1);
}

TEST_CASE("the errors of the CLI carry their message and their condition") {
    const auto e = usage_error("give either --url URL or --file PATH (exactly one)");
    CHECK(e.message == "give either --url URL or --file PATH (exactly one)");
    CHECK(e.code == error::usage);
    CHECK(e.is(condition::invalid));
    CHECK(failure(error::no_job, "no job j_1").is(condition::not_found));
    CHECK(failure(error::unreachable, "").transient());
    CHECK(failure(error::timed_out, "").is(condition::timeout));
    CHECK_FALSE(failure(error::refused, "").transient());
    CHECK(std::string(stemd::cli::error_category().name()) == "stemd.cli");
    CHECK(make_error_code(error::no_file).message() == "no such audio file");
}
