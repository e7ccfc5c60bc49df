#include "config/error.hpp"

#include <stdexcept>
#include <string>

#include "tests/config/support.hpp"

#include <doctest/doctest.h>

namespace fs = std::filesystem;
using stemd::config::error;
using namespace stemd::config::test;

TEST_CASE("config: error codes have a category and a message, and value() throws the message") {
    const boost::system::error_code code = error::unknown_key;
    CHECK(std::string(code.category().name()) == "stemd.config");
    for (const auto e : {error::file_unreadable, error::syntax, error::unknown_key,
                         error::bad_value, error::secret_unreadable}) {
        const boost::system::error_code c = e;
        CHECK_FALSE(c.message().empty());
        CHECK_FALSE(contains(c.message(), "unknown stemd.config error"));
    }

    auto parsed = stemd::config::parse("[download]\nconcurrency = 0\n", "stemd.toml");
    REQUIRE_FALSE(parsed.has_value());
    try {
        (void)parsed.value();
        FAIL("value() did not throw");
    } catch (const std::runtime_error& e) {
        CHECK(std::string(e.what()) ==
              "stemd.toml: download.concurrency = 0 is out of range: use 1 to 64");
    }
}

TEST_CASE("config: each error code belongs to a condition") {
    using stemd::condition;
    CHECK(stemd::config::failure(error::syntax, "x").is(condition::invalid));
    CHECK(stemd::config::failure(error::unknown_key, "x").is(condition::invalid));
    CHECK(stemd::config::failure(error::bad_value, "x").is(condition::invalid));
    CHECK(stemd::config::failure(error::file_unreadable, "x").is(condition::io));
    CHECK(stemd::config::failure(error::secret_unreadable, "x").is(condition::io));
    const auto e = stemd::config::failure(error::bad_value, "stemd.toml: why");
    CHECK(e.message == "stemd.toml: why");
    CHECK(e.code == error::bad_value);
}
