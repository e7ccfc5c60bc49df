#include "config/sources.hpp"

#include "tests/config/support.hpp"

#include <doctest/doctest.h>

#include <cerrno>

using namespace stemd::config::test;

TEST_CASE("config: read_whole_file returns the bytes, or the errno") {
    temp_file file(std::string("line one\nline two\0\n", 19), "bytes");
    auto text = stemd::config::read_whole_file(file.path());
    REQUIRE(text.has_value());
    CHECK(*text == std::string("line one\nline two\0\n", 19));

    auto missing = stemd::config::read_whole_file(unique_temp_path("missing"));
    REQUIRE_FALSE(missing.has_value());
    CHECK(missing.error().value() == ENOENT);
}

TEST_CASE("config: environment_variable treats empty as unset") {
    {
        env_override set("STEMD_CONFIG_TEST_VARIABLE", "value");
        CHECK(stemd::config::environment_variable("STEMD_CONFIG_TEST_VARIABLE") == "value");
    }
    env_override empty("STEMD_CONFIG_TEST_VARIABLE", "");
    CHECK_FALSE(stemd::config::environment_variable("STEMD_CONFIG_TEST_VARIABLE").has_value());
    env_override unset("STEMD_CONFIG_TEST_VARIABLE", std::nullopt);
    CHECK_FALSE(stemd::config::environment_variable("STEMD_CONFIG_TEST_VARIABLE").has_value());
}
