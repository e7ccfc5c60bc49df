#include "config/settings.hpp"

#include "tests/config/support.hpp"

#include <doctest/doctest.h>

namespace fs = std::filesystem;
using stemd::config::error;
using namespace stemd::config::test;

// load.cpp: load_file, default_path and load (declared in config/settings.hpp).

TEST_CASE("config: a readable-by-others file holding the api key is a warning") {
    env_override env("MUSICGPT_API_KEY", std::nullopt);
    temp_file config("[musicgpt]\napi_key = \"key-from-config\"\n");

    fs::permissions(config.path(), fs::perms::owner_read | fs::perms::owner_write |
                                       fs::perms::group_read | fs::perms::others_read);
    auto exposed = stemd::config::load_file(config.path());
    REQUIRE(exposed.has_value());
    REQUIRE(exposed->warnings.size() == 1);
    CHECK(contains(exposed->warnings[0], config.path().string()));
    CHECK(contains(exposed->warnings[0], "musicgpt.api_key"));
    CHECK(contains(exposed->warnings[0], "chmod 600"));
    CHECK_FALSE(contains(exposed->warnings[0], "key-from-config"));

    fs::permissions(config.path(), fs::perms::owner_read | fs::perms::owner_write);
    auto private_file = stemd::config::load_file(config.path());
    REQUIRE(private_file.has_value());
    CHECK(private_file->warnings.empty());

    // Without a key in it the file may be readable by anyone.
    temp_file keyless("[download]\nconcurrency = 2\n");
    fs::permissions(keyless.path(),
                    fs::perms::owner_all | fs::perms::group_read | fs::perms::others_read);
    auto open_file = stemd::config::load_file(keyless.path());
    REQUIRE(open_file.has_value());
    CHECK(open_file->warnings.empty());
}

TEST_CASE("config: webhook secrets in a readable-by-others file are a warning too") {
    env_override env("MUSICGPT_API_KEY", std::nullopt);
    temp_file config("[webhook]\nsecret = \"shared-secret-value\"\n"
                     "signing_secret = \"whsec_c2lnbmluZy1rZXktdmFsdWUtMTIzNDU2\"\n");
    fs::permissions(config.path(), fs::perms(0644));
    auto exposed = stemd::config::load_file(config.path());
    REQUIRE(exposed.has_value());
    REQUIRE(exposed->warnings.size() == 1);
    CHECK(contains(exposed->warnings[0], config.path().string()));
    CHECK(contains(exposed->warnings[0], "webhook.secret"));
    CHECK(contains(exposed->warnings[0], "webhook.signing_secret"));
    CHECK(contains(exposed->warnings[0], "chmod 600"));
    CHECK_FALSE(contains(exposed->warnings[0], "shared-secret-value"));
    CHECK_FALSE(contains(exposed->warnings[0], "c2lnbmluZy1rZXktdmFsdWUtMTIzNDU2"));
}

TEST_CASE("config: an api_key_file open to group or others is a warning naming it") {
    env_override env("MUSICGPT_API_KEY", std::nullopt);
    temp_file key("key-from-file\n", "api-key");
    temp_file config("[musicgpt]\napi_key_file = \"" + key.path().string() + "\"\n");
    for (const auto mode : {0644, 0640, 0660, 0602}) {
        fs::permissions(key.path(), fs::perms(mode));
        auto exposed = stemd::config::load_file(config.path());
        REQUIRE(exposed.has_value());
        CHECK(exposed->musicgpt.api_key == "key-from-file");
        REQUIRE_MESSAGE(exposed->warnings.size() == 1, mode);
        CHECK(contains(exposed->warnings[0], "musicgpt.api_key_file"));
        CHECK(contains(exposed->warnings[0], key.path().string()));
        CHECK(contains(exposed->warnings[0], "chmod 600"));
        CHECK_FALSE(contains(exposed->warnings[0], "key-from-file"));
    }
    fs::permissions(key.path(), fs::perms(0600));
    auto private_key = stemd::config::load_file(config.path());
    REQUIRE(private_key.has_value());
    CHECK(private_key->warnings.empty());
    fs::permissions(key.path(), fs::perms(0400));
    CHECK(stemd::config::load_file(config.path())->warnings.empty());
}

TEST_CASE("config: load_file reports a file it cannot read") {
    const fs::path missing = unique_temp_path("absent.toml");
    auto loaded = stemd::config::load_file(missing);
    REQUIRE_FALSE(loaded.has_value());
    CHECK(loaded.error().code == error::file_unreadable);
    CHECK(contains(loaded.error().message, missing.string()));
}

TEST_CASE("config: default_path prefers STEMD_CONFIG, then ./stemd.toml, then /etc") {
    temp_dir dir;
    cwd_override cwd(dir.path());
    env_override key("MUSICGPT_API_KEY", "key-from-env");
    const bool etc_exists = fs::exists("/etc/stemd/stemd.toml");

    SUBCASE("STEMD_CONFIG is returned even when missing, and load reports it") {
        write_file(dir.path() / "stemd.toml", "");
        const fs::path named = dir.path() / "named.toml";
        env_override config("STEMD_CONFIG", named.string());
        CHECK(stemd::config::default_path() == named);
        auto loaded = stemd::config::load(std::nullopt);
        REQUIRE_FALSE(loaded.has_value());
        CHECK(loaded.error().code == error::file_unreadable);
        CHECK(contains(loaded.error().message, named.string()));
    }
    SUBCASE("an empty STEMD_CONFIG counts as unset") {
        write_file(dir.path() / "stemd.toml", "[download]\nconcurrency = 3\n");
        env_override config("STEMD_CONFIG", "");
        CHECK(stemd::config::default_path() == fs::path("stemd.toml"));
    }
    SUBCASE("./stemd.toml is used when STEMD_CONFIG is unset") {
        write_file(dir.path() / "stemd.toml", "[download]\nconcurrency = 3\n");
        env_override config("STEMD_CONFIG", std::nullopt);
        CHECK(stemd::config::default_path() == fs::path("stemd.toml"));
        auto loaded = stemd::config::load(std::nullopt);
        REQUIRE(loaded.has_value());
        CHECK(loaded->source == "stemd.toml");
        CHECK(loaded->download.concurrency == 3);
        CHECK(loaded->musicgpt.api_key == "key-from-env");
    }
    SUBCASE("with no file, built-in defaults with the key from the environment") {
        env_override config("STEMD_CONFIG", std::nullopt);
        if (etc_exists) {
            CHECK(stemd::config::default_path() == fs::path("/etc/stemd/stemd.toml"));
        } else {
            CHECK_FALSE(stemd::config::default_path().has_value());
            auto loaded = stemd::config::load(std::nullopt);
            REQUIRE(loaded.has_value());
            CHECK(loaded->source == "built-in defaults");
            CHECK(loaded->musicgpt.api_key == "key-from-env");
            CHECK(loaded->download.concurrency == 4);
        }
    }
    SUBCASE("an explicit path wins over STEMD_CONFIG") {
        env_override config("STEMD_CONFIG", (dir.path() / "named.toml").string());
        write_file(dir.path() / "explicit.toml", "[download]\nmax_attempts = 2\n");
        auto loaded = stemd::config::load(dir.path() / "explicit.toml");
        REQUIRE(loaded.has_value());
        CHECK(loaded->download.max_attempts == 2);
        CHECK(loaded->source == (dir.path() / "explicit.toml").string());
    }
}
