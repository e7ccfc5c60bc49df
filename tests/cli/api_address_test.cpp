#include "cli/api_address.hpp"

#include "cli/error.hpp"
#include "tests/support/workspace.hpp"

#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <optional>
#include <unistd.h>

using stemd::cli::api_address;
using stemd::cli::api_base_url;

namespace {

// A configuration file of its own for each test, removed afterwards.
struct config_file {
    explicit config_file(const std::string& text)
        : path(std::filesystem::temp_directory_path() /
               ("stemd_cli_test_" + std::to_string(::getpid()) + ".toml")) {
        std::ofstream(path) << text;
    }
    ~config_file() { std::filesystem::remove(path); }

    std::filesystem::path path;
};

} // namespace

TEST_CASE("--api gives the base URL as it is") {
    const auto url = api_base_url({.url = "http://127.0.0.1:9000/stemd/"});
    REQUIRE(url.has_value());
    CHECK_FALSE(url->https);
    CHECK(url->host == "127.0.0.1");
    CHECK(url->port == 9000);
    CHECK(url->target == "/stemd/");
}

TEST_CASE("--api that is no http(s) base URL is a usage error") {
    for (const char* bad : {"ftp://x", "127.0.0.1:8081", "http://x/?a=b", ""}) {
        CAPTURE(bad);
        auto url = api_base_url({.url = bad});
        REQUIRE_FALSE(url.has_value());
        CHECK(url.error().code == stemd::cli::error::usage);
        CHECK(url.error().message ==
              "--api takes the base URL of the stemd API, such as http://127.0.0.1:8081");
    }
}

TEST_CASE("without --api, api.listen of the configuration, wildcards as loopback") {
    for (const auto& [listen, host] :
         {std::pair{"0.0.0.0:9100", "127.0.0.1"}, std::pair{"[::]:9100", "::1"},
          std::pair{"192.0.2.7:9100", "192.0.2.7"}}) {
        CAPTURE(listen);
        const config_file file(std::string("[api]\nlisten = \"") + listen + "\"\n");
        const auto url = api_base_url({.config = file.path});
        REQUIRE(url.has_value());
        CHECK_FALSE(url->https);
        CHECK(url->host == host);
        CHECK(url->port == 9100);
        CHECK(url->target == "/");
    }
}

TEST_CASE("an unreadable or invalid configuration is a failure (exit code 1)") {
    auto missing = api_base_url({.config = "/nonexistent/stemd.toml"});
    REQUIRE_FALSE(missing.has_value());
    CHECK(missing.error().code == stemd::cli::error::config);
    CHECK(missing.error().message.starts_with("cannot read the configuration "
                                              "/nonexistent/stemd.toml: "));
    CHECK(stemd::cli::exit_code(missing.error()) == 1);

    const config_file file("[api]\nlisten = 42\n");
    auto invalid = api_base_url({.config = file.path});
    REQUIRE_FALSE(invalid.has_value());
    CHECK(stemd::cli::exit_code(invalid.error()) == 1);
}

namespace {

// $STEMD_API_TOKEN for one test, restored afterwards.
struct token_variable {
    explicit token_variable(const char* value) {
        if (const char* old = std::getenv("STEMD_API_TOKEN"))
            old_ = old;
        set(value);
    }
    ~token_variable() { set(old_ ? old_->c_str() : nullptr); }
    static void set(const char* value) {
        if (value)
            ::setenv("STEMD_API_TOKEN", value, 1);
        else
            ::unsetenv("STEMD_API_TOKEN");
    }
    std::optional<std::string> old_;
};

} // namespace

TEST_CASE("the API token: --token-file, else $STEMD_API_TOKEN, else api.token_file") {
    stemd::test::workspace ws("cli-token");
    const auto given = ws.write("given", "token-from-option\n");
    const auto configured = ws.write("var/api-token", " token-from-config \n");
    const auto config = ws.write("stemd.toml", "[storage]\ndatabase = \"" +
                                                   (ws / "var" / "stemd.db").string() + "\"\n");
    using stemd::cli::api_token;
    {
        const token_variable unset(nullptr);
        CHECK(api_token({.config = config, .token_file = given}).value() == "token-from-option");
        CHECK(api_token({.config = config}).value() == "token-from-config");
    }
    {
        const token_variable from_env("token-from-env");
        CHECK(api_token({.config = config, .token_file = given}).value() == "token-from-option");
        CHECK(api_token({.config = config}).value() == "token-from-env");
    }
    {
        const token_variable empty(""); // as if unset
        CHECK(api_token({.config = config}).value() == "token-from-config");
    }
    const auto own = ws.write("own.toml", "[api]\ntoken_file = \"" + given.string() + "\"\n");
    const token_variable unset(nullptr);
    CHECK(api_token({.config = own}).value() == "token-from-option");
}

TEST_CASE("without a readable token the client says which file and what to do") {
    stemd::test::workspace ws("cli-no-token");
    const token_variable unset(nullptr);
    const auto missing = ws / "nowhere" / "api-token";
    auto none = stemd::cli::api_token({.token_file = missing});
    REQUIRE_FALSE(none.has_value());
    CHECK(none.error().code == stemd::cli::error::no_token);
    CHECK(stemd::cli::exit_code(none.error()) == 1);
    CHECK(none.error().message.find("cannot read the API token file " + missing.string() +
                                    " (--token-file)") != std::string::npos);
    CHECK(none.error().message.find("STEMD_API_TOKEN") != std::string::npos);

    const config_file file("[storage]\ndatabase = \"" + (ws / "db" / "stemd.db").string() + "\"\n");
    auto from_config = stemd::cli::api_token({.config = file.path});
    REQUIRE_FALSE(from_config.has_value());
    CHECK(from_config.error().message.find((ws / "db" / "api-token").string() +
                                           " (api.token_file of " + file.path.string() + ")") !=
          std::string::npos);

    const auto empty = ws.write("empty", "\n");
    auto blank = stemd::cli::api_token({.token_file = empty});
    REQUIRE_FALSE(blank.has_value());
    CHECK(blank.error().message.find(empty.string() + " (--token-file) is empty") !=
          std::string::npos);
}
