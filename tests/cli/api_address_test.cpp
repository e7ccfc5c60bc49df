#include "cli/api_address.hpp"

#include "cli/error.hpp"

#include <doctest/doctest.h>

#include <fstream>
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
