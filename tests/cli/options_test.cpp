#include "cli/options.hpp"

#include "cli/error.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

namespace po = boost::program_options;
using namespace std::chrono_literals;
using stemd::cli::error;
using stemd::cli::option_set;

namespace {

// The options of a client command that takes a KEY, a list and a timeout.
option_set client_command() {
    option_set o;
    stemd::cli::add_key_argument(o);
    o.list("stems", "a,b", "stems");
    o.value("url", "URL", "audio URL");
    stemd::cli::add_timeout_option(o, "give up after this long");
    stemd::cli::add_client_options(o);
    return o;
}

po::variables_map parsed(const std::vector<std::string>& args) {
    auto vm = stemd::cli::parse_arguments(client_command(), args);
    REQUIRE(vm.has_value());
    return *vm;
}

} // namespace

TEST_CASE("parse_arguments reads options, the positional KEY and the common options") {
    const auto vm = parsed({"j_1", "--json", "--api", "http://127.0.0.1:9", "-c", "stemd.toml"});
    CHECK(stemd::cli::job_key(vm, "status").value() == "j_1");
    CHECK(stemd::cli::json_wanted(vm));
    const auto address = stemd::cli::api_address_of(vm);
    CHECK(address.url == "http://127.0.0.1:9");
    CHECK(address.config == std::filesystem::path("stemd.toml"));
    CHECK_FALSE(stemd::cli::json_wanted(parsed({"j_1"})));
    CHECK_FALSE(stemd::cli::api_address_of(parsed({})).url);
    CHECK_FALSE(stemd::cli::api_address_of(parsed({})).token_file);
    CHECK(stemd::cli::api_address_of(parsed({"--token-file", "/srv/api-token"})).token_file ==
          std::filesystem::path("/srv/api-token"));
}

TEST_CASE("parse_arguments: unknown, abbreviated or incomplete options are usage errors") {
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"--bogus"}, {"--ur", "x"}, {"--url"}, {"j_1", "j_2"}}) {
        CAPTURE(args.front());
        auto vm = stemd::cli::parse_arguments(client_command(), args);
        REQUIRE_FALSE(vm.has_value());
        CHECK(vm.error().code == error::usage);
        CHECK(stemd::cli::exit_code(vm.error()) == 2);
    }
}

TEST_CASE("job_key: a missing or empty KEY is a usage error naming the command") {
    for (const auto& args : std::vector<std::vector<std::string>>{{}, {""}}) {
        auto key = stemd::cli::job_key(parsed(args), "wait");
        REQUIRE_FALSE(key.has_value());
        CHECK(key.error().code == error::usage);
        CHECK(key.error().message == "which job? give its id or task id, e.g. stemd wait j_0123");
    }
}

TEST_CASE("parse_count takes whole numbers of 0 or more") {
    CHECK(stemd::cli::parse_count("0", "limit").value() == 0u);
    CHECK(stemd::cli::parse_count("18446744073709551615", "limit").value() ==
          18446744073709551615ull);
    for (const char* bad : {"", "-1", "1.5", "12a", " 1", "18446744073709551616"}) {
        CAPTURE(bad);
        auto n = stemd::cli::parse_count(bad, "limit");
        REQUIRE_FALSE(n.has_value());
        CHECK(n.error().code == error::usage);
    }
    CHECK(stemd::cli::parse_count("-1", "rate").error().message ==
          "--rate takes a whole number of 0 or more, not \"-1\"");
}

TEST_CASE("parse_seconds takes seconds, fractions included, as milliseconds") {
    CHECK(stemd::cli::parse_seconds("90", "timeout").value() == 90s);
    CHECK(stemd::cli::parse_seconds("0.5", "timeout").value() == 500ms);
    CHECK(stemd::cli::parse_seconds("0", "timeout").value() == 0ms);
    for (const char* bad : {"", "-1", "x", "inf", "nan", "1e10", "5s"}) {
        CAPTURE(bad);
        auto d = stemd::cli::parse_seconds(bad, "timeout");
        REQUIRE_FALSE(d.has_value());
        CHECK(d.error().code == error::usage);
    }
    CHECK(stemd::cli::parse_seconds("x", "timeout").error().message ==
          "--timeout takes a number of seconds such as 90 or 0.5, not \"x\"");
}

TEST_CASE("parse_duration takes a whole number with a unit") {
    using std::chrono::seconds;
    CHECK(stemd::cli::parse_duration("30d", "older-than").value() == seconds(30 * 86400));
    CHECK(stemd::cli::parse_duration("12h", "older-than").value() == seconds(12 * 3600));
    CHECK(stemd::cli::parse_duration("90m", "older-than").value() == seconds(90 * 60));
    CHECK(stemd::cli::parse_duration("45s", "older-than").value() == seconds(45));
    CHECK(stemd::cli::parse_duration("2w", "older-than").value() == seconds(14 * 86400));
    CHECK(stemd::cli::parse_duration("0d", "older-than").value() == seconds(0));
    for (const char* bad : {"", "30", "d", "-1d", "1.5d", "30x", "30 d", "99999999999w"}) {
        CAPTURE(bad);
        auto d = stemd::cli::parse_duration(bad, "older-than");
        REQUIRE_FALSE(d.has_value());
        CHECK(d.error().code == error::usage);
    }
    CHECK(stemd::cli::parse_duration("30", "older-than").error().message ==
          "--older-than takes a whole number with a unit, s, m, h, d or w, such as 30d, 12h or "
          "90m, not \"30\"");
}

TEST_CASE("timeout_option: absent is no limit, given is checked") {
    CHECK(stemd::cli::timeout_option(parsed({})).value() == std::nullopt);
    CHECK(stemd::cli::timeout_option(parsed({"--timeout", "1.25"})).value() == 1250ms);
    CHECK_FALSE(stemd::cli::timeout_option(parsed({"--timeout", "-3"})).has_value());
}

TEST_CASE("list_option joins repeated and comma separated items, given empty is a usage error") {
    CHECK(stemd::cli::list_option(parsed({}), "stems", "vocals,drums").value() == std::nullopt);
    const auto stems = stemd::cli::list_option(
        parsed({"--stems", "vocals, drums", "--stems", "bass"}), "stems", "vocals,drums");
    REQUIRE(stems.has_value());
    CHECK(**stems == std::vector<std::string>{"vocals", "drums", "bass"});

    auto empty = stemd::cli::list_option(parsed({"--stems", " , "}), "stems", "vocals,drums");
    REQUIRE_FALSE(empty.has_value());
    CHECK(empty.error().code == error::usage);
    CHECK(empty.error().message == "--stems needs at least one name, e.g. --stems vocals,drums");
}

TEST_CASE("optional_string and config_path are empty when the option is absent") {
    const auto vm = parsed({"--url", "http://x/a.mp3"});
    CHECK(stemd::cli::optional_string(vm, "url") == "http://x/a.mp3");
    CHECK_FALSE(stemd::cli::optional_string(vm, "api"));
    CHECK_FALSE(stemd::cli::config_path(vm));
}
