#include "config/api_key.hpp"
#include "config/settings.hpp"

#include "tests/config/support.hpp"

#include <doctest/doctest.h>

namespace fs = std::filesystem;
using stemd::config::error;
using namespace stemd::config::test;

TEST_CASE("config: api key precedence is file, then environment, then api_key_file") {
    temp_file key_file("  key-from-key-file\n", "api_key");

    SUBCASE("the file's api_key wins over the environment") {
        env_override env("MUSICGPT_API_KEY", "key-from-env");
        temp_file config("[musicgpt]\napi_key = \"key-from-config\"\n");
        auto loaded = stemd::config::load_file(config.path());
        REQUIRE(loaded.has_value());
        CHECK(loaded->musicgpt.api_key == "key-from-config");
        CHECK(loaded->source == config.path().string());
    }
    SUBCASE("the environment wins over api_key_file") {
        env_override env("MUSICGPT_API_KEY", "key-from-env");
        temp_file config("[musicgpt]\napi_key_file = \"" + key_file.path().string() + "\"\n");
        auto loaded = stemd::config::load_file(config.path());
        REQUIRE(loaded.has_value());
        CHECK(loaded->musicgpt.api_key == "key-from-env");
    }
    SUBCASE("api_key_file is read and trimmed when nothing else is set") {
        env_override env("MUSICGPT_API_KEY", std::nullopt);
        temp_file config("[musicgpt]\napi_key_file = \"" + key_file.path().string() + "\"\n");
        auto loaded = stemd::config::load_file(config.path());
        REQUIRE(loaded.has_value());
        CHECK(loaded->musicgpt.api_key == "key-from-key-file");
    }
    SUBCASE("an unreadable api_key_file names the path") {
        env_override env("MUSICGPT_API_KEY", std::nullopt);
        const fs::path missing = unique_temp_path("missing-key");
        temp_file config("[musicgpt]\napi_key_file = \"" + missing.string() + "\"\n");
        auto loaded = stemd::config::load_file(config.path());
        REQUIRE_FALSE(loaded.has_value());
        CHECK(loaded.error().code == error::secret_unreadable);
        CHECK(contains(loaded.error().message, missing.string()));
    }
    SUBCASE("an unreadable api_key_file may be left unread for doctor, which is told why") {
        env_override env("MUSICGPT_API_KEY", std::nullopt);
        const fs::path missing = unique_temp_path("missing-key");
        temp_file config("[musicgpt]\napi_key_file = \"" + missing.string() + "\"\n");
        auto loaded =
            stemd::config::load_file(config.path(), stemd::config::key_file::may_be_unreadable);
        REQUIRE(loaded.has_value());
        CHECK(loaded->musicgpt.api_key.empty());
        CHECK(contains(loaded->api_key_unread, missing.string()));
        // Other mistakes still fail the load.
        temp_file bad("[musicgpt]\napi_key_file = \"" + missing.string() + "\"\nnope = 1\n");
        CHECK_FALSE(
            stemd::config::load_file(bad.path(), stemd::config::key_file::may_be_unreadable)
                .has_value());
        // A key file that is read leaves nothing to say.
        temp_file good("[musicgpt]\napi_key_file = \"" + key_file.path().string() + "\"\n");
        auto read =
            stemd::config::load_file(good.path(), stemd::config::key_file::may_be_unreadable);
        REQUIRE(read.has_value());
        CHECK(read->api_key_unread.empty());
        CHECK(read->musicgpt.api_key == "key-from-key-file");
    }
    SUBCASE("an empty api_key_file is refused without showing content") {
        env_override env("MUSICGPT_API_KEY", std::nullopt);
        temp_file blank(" \n", "blank_key");
        temp_file config("[musicgpt]\napi_key_file = \"" + blank.path().string() + "\"\n");
        auto loaded = stemd::config::load_file(config.path());
        REQUIRE_FALSE(loaded.has_value());
        CHECK(loaded.error().code == error::secret_unreadable);
        CHECK(contains(loaded.error().message, blank.path().string()));
    }
    SUBCASE("api_key and api_key_file together are refused") {
        env_override env("MUSICGPT_API_KEY", std::nullopt);
        temp_file config("[musicgpt]\napi_key = \"key-from-config\"\napi_key_file = \"" +
                         key_file.path().string() + "\"\n");
        auto loaded = stemd::config::load_file(config.path());
        REQUIRE_FALSE(loaded.has_value());
        CHECK(loaded.error().code == error::bad_value);
        CHECK(contains(loaded.error().message, "api_key_file"));
        CHECK_FALSE(contains(loaded.error().message, "key-from-config"));
    }
}
