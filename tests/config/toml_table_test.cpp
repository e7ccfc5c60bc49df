#include "config/toml_table.hpp"

#include "tests/config/support.hpp"

#include <doctest/doctest.h>

namespace fs = std::filesystem;
using stemd::config::error;
using namespace stemd::config::test;

TEST_CASE("config: unknown tables and keys are refused by name") {
    SUBCASE("unknown table") {
        const auto p = refused("[webhok]\nlisten = \"0.0.0.0:1\"\n", error::unknown_key);
        CHECK(contains(p.message, "[webhok]"));
        CHECK(contains(p.message, "webhook"));
    }
    SUBCASE("unknown key lists the table's keys") {
        const auto p = refused("[webhook]\nlisen = \"0.0.0.0:1\"\n", error::unknown_key);
        CHECK(p.message == "stemd.toml: unknown key \"webhook.lisen\" (known keys in [webhook]: "
                           "listen, public_url, secret, tls_cert, tls_key, signing_secret)");
    }
    SUBCASE("key outside any table") {
        const auto p = refused("concurrency = 4\n", error::unknown_key);
        CHECK(contains(p.message, "\"concurrency\""));
    }
    SUBCASE("sub-table of a known table") {
        const auto p = refused("[download.tls]\nverify = true\n", error::unknown_key);
        CHECK(contains(p.message, "download.tls"));
    }
}

TEST_CASE("config: wrong types are refused with the key and the expected type") {
    SUBCASE("string for an integer") {
        const auto p = refused("[download]\nconcurrency = \"4\"\n", error::bad_value);
        CHECK(contains(p.message, "download.concurrency = \"4\" is a string"));
        CHECK(contains(p.message, "integer"));
    }
    SUBCASE("float for an integer") {
        const auto p = refused("[download]\nmax_attempts = 4.0\n", error::bad_value);
        CHECK(contains(p.message, "download.max_attempts = 4.0 is a floating-point number"));
    }
    SUBCASE("string for a boolean") {
        const auto p = refused("[download]\nallow_http = \"yes\"\n", error::bad_value);
        CHECK(contains(p.message, "download.allow_http"));
        CHECK(contains(p.message, "true or false"));
    }
    SUBCASE("integer for a string") {
        const auto p = refused("[storage]\ndatabase = 5\n", error::bad_value);
        CHECK(contains(p.message, "storage.database = 5 is an integer"));
    }
    SUBCASE("a known table written as a value") {
        const auto p = refused("webhook = \"x\"\n", error::bad_value);
        CHECK(contains(p.message, "webhook"));
        CHECK(contains(p.message, "expected a table"));
    }
    SUBCASE("a secret of the wrong type is not echoed") {
        const auto p = refused("[musicgpt]\napi_key = 987654321\n", error::bad_value);
        CHECK(contains(p.message, "musicgpt.api_key"));
        CHECK_FALSE(contains(p.message, "987654321"));
    }
}

TEST_CASE("config: out-of-range numbers name the key, value and range") {
    CHECK(refused("[download]\nconcurrency = 0\n", error::bad_value).message ==
          "stemd.toml: download.concurrency = 0 is out of range: use 1 to 64");
    CHECK(refused("[download]\nconcurrency = 65\n", error::bad_value).message ==
          "stemd.toml: download.concurrency = 65 is out of range: use 1 to 64");
    CHECK(refused("[download]\nmax_attempts = 101\n", error::bad_value).message ==
          "stemd.toml: download.max_attempts = 101 is out of range: use 1 to 100");
    CHECK(refused("[download]\nmax_attempts = -9223372036854775808\n", error::bad_value).message ==
          "stemd.toml: download.max_attempts = -9223372036854775808 is out of range: use 1 to 100");
}

TEST_CASE("config: syntax errors give the line and column") {
    const auto p = refused("[download]\nconcurrency = 4\nmax_attempts = = 3\n", error::syntax);
    CHECK(contains(p.message, "stemd.toml: line 3, column "));
}

TEST_CASE("config: read_tables fills the targets of the keys present and checks the rule") {
    struct section {
        std::string name = "default";
        int count = 1;
        bool on = false;
    } s;
    bool rule_ran = false;
    const std::vector<stemd::config::table_spec> tables = {
        {"t",
         {{"name", stemd::config::text_value(s.name)},
          {"count", stemd::config::int_value(s.count, 1, 9)},
          {"on", stemd::config::bool_value(s.on)}},
         [&]() -> std::optional<std::string> {
             rule_ran = true;
             if (s.on && s.count < 2)
                 return "t.on needs t.count >= 2";
             return std::nullopt;
         }}};

    auto read = stemd::config::read_tables("[t]\ncount = 3\non = true\n", "x.toml", tables);
    CHECK(read.has_value());
    CHECK(rule_ran);
    CHECK(s.name == "default");
    CHECK(s.count == 3);
    CHECK(s.on);

    s.count = 1;
    auto broken = stemd::config::read_tables("[t]\non = true\n", "x.toml", tables);
    REQUIRE_FALSE(broken.has_value());
    CHECK(broken.error().code == error::bad_value);
    CHECK(broken.error().message == "x.toml: t.on needs t.count >= 2");

    auto unknown = stemd::config::read_tables("[u]\n", "x.toml", tables);
    REQUIRE_FALSE(unknown.has_value());
    CHECK(unknown.error().message == "x.toml: unknown table [u] (known tables: t)");
}

TEST_CASE("config: a list key takes an array of strings, each checked") {
    std::vector<std::string> names{"kept"};
    const stemd::config::text_check no_x = [](std::string& v) -> std::optional<std::string> {
        if (v.find('x') == std::string::npos)
            return std::nullopt;
        return "has an x";
    };
    const std::vector<stemd::config::table_spec> tables = {
        {"t", {{"names", stemd::config::text_list_value(names, no_x)}}}};

    CHECK(stemd::config::read_tables("", "x.toml", tables).has_value());
    CHECK(names == std::vector<std::string>{"kept"});
    CHECK(
        stemd::config::read_tables("[t]\nnames = [\"a\", \"b\"]\n", "x.toml", tables).has_value());
    CHECK(names == std::vector<std::string>{"a", "b"});
    CHECK(stemd::config::read_tables("[t]\nnames = []\n", "x.toml", tables).has_value());
    CHECK(names.empty());

    auto bad = stemd::config::read_tables("[t]\nnames = [\"a\", \"x\"]\n", "x.toml", tables);
    REQUIRE_FALSE(bad.has_value());
    CHECK(bad.error().message == "x.toml: t.names[1] = \"x\" has an x");
    CHECK(names.empty()); // nothing stored from a refused list
    auto not_list = stemd::config::read_tables("[t]\nnames = \"a\"\n", "x.toml", tables);
    REQUIRE_FALSE(not_list.has_value());
    CHECK(contains(not_list.error().message, "t.names = \"a\" is a string"));
}
