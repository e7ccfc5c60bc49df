#include "config/s3.hpp"

#include "config/settings.hpp"
#include "tests/config/support.hpp"

#include <doctest/doctest.h>

using namespace stemd::config;
using stemd::config::test::contains;
using stemd::config::test::env_override;
using stemd::config::test::refused;
using stemd::config::test::temp_dir;
using stemd::config::test::temp_file;

namespace {

const std::string s3_head = "[storage]\noutput = \"s3://stems-bucket/team/a/\"\n"
                            "[s3]\nendpoint = \"https://s3.example.net\"\n";

// No credentials from the environment of whoever runs the tests.
struct clean_environment {
    env_override id{"AWS_ACCESS_KEY_ID", std::nullopt};
    env_override secret{"AWS_SECRET_ACCESS_KEY", std::nullopt};
    env_override token{"AWS_SESSION_TOKEN", std::nullopt};
    env_override credentials{"CREDENTIALS_DIRECTORY", std::nullopt};
    env_override key{"MUSICGPT_API_KEY", "test-key-0123456789"};
};

} // namespace

TEST_CASE("config: storage.output is a local directory unless it is s3://") {
    auto none = parse("", "o.toml");
    REQUIRE(none.has_value());
    CHECK(none->storage.output_dir == "var/stems");
    CHECK_FALSE(none->s3.enabled());

    auto local = parse("[storage]\noutput = \"/srv/stems\"\n", "o.toml");
    REQUIRE(local.has_value());
    CHECK(local->storage.output_dir == "/srv/stems");
    CHECK_FALSE(local->s3.enabled());

    auto s3 = parse(s3_head, "o.toml");
    REQUIRE(s3.has_value());
    CHECK(s3->s3.enabled());
    CHECK(s3->s3.bucket == "stems-bucket");
    CHECK(s3->s3.prefix == "team/a");
    CHECK(s3->s3.region == "us-east-1");
}

TEST_CASE("config: storage.output refuses output_dir beside it, bad buckets, no endpoint") {
    auto both = refused("[storage]\noutput = \"/a\"\noutput_dir = \"/b\"\n", error::bad_value);
    CHECK(contains(both.message, "storage.output and storage.output_dir"));
    auto bucket = refused("[storage]\noutput = \"s3://A_b/x\"\n[s3]\nendpoint = \"https://h\"\n",
                          error::bad_value);
    CHECK(contains(bucket.message, "storage.output = \"s3://A_b/x\""));
    auto no_endpoint = refused("[storage]\noutput = \"s3://bucket/x\"\n", error::bad_value);
    CHECK(contains(no_endpoint.message, "s3.endpoint"));
    auto http = refused("[storage]\noutput = \"s3://bucket/x\"\n[s3]\nendpoint = "
                        "\"http://127.0.0.1:9000\"\n",
                        error::bad_value);
    CHECK(contains(http.message, "s3.allow_http"));
    auto allowed = parse("[storage]\noutput = \"s3://bucket\"\n[s3]\nendpoint = "
                         "\"http://127.0.0.1:9000\"\nallow_http = true\nregion = \"eu-west-1\"\n",
                         "o.toml");
    REQUIRE(allowed.has_value());
    CHECK(allowed->s3.prefix.empty());
    CHECK(allowed->s3.region == "eu-west-1");
    auto path = refused("[s3]\nendpoint = \"https://h/bucket\"\n", error::bad_value);
    CHECK(contains(path.message, "s3.endpoint"));
    // User information is refused without echoing it.
    auto userinfo = refused("[s3]\nendpoint = \"https://AKIDEXAMPLE:wJalrXUtnFEMI@s3.example.net\"\n",
                            error::bad_value);
    CHECK(contains(userinfo.message, "s3.endpoint"));
    CHECK(contains(userinfo.message, "user or password"));
    CHECK_FALSE(contains(userinfo.message, "wJalrXUtnFEMI"));
    CHECK_FALSE(contains(userinfo.message, "AKIDEXAMPLE"));
    // Prefixes whose folders a browser or a proxy would rewrite.
    for (const std::string prefix : {"a/../b", "./x", "x/.", "with space", "back\\\\slash", "tab\\t"}) {
        auto e = refused("[storage]\noutput = \"s3://bucket/" + prefix +
                             "\"\n[s3]\nendpoint = \"https://h\"\n",
                         error::bad_value);
        CHECK_MESSAGE(contains(e.message, "would not survive a URL"), prefix << ": " << e.message);
    }
    CHECK(parse("[storage]\noutput = \"s3://bucket/stems/v1.2_a-b\"\n[s3]\nendpoint = "
                "\"https://h\"\n",
                "o.toml")
              .has_value());
    // Shorter than any scheme: refused like any other non-URL, not thrown.
    for (const std::string short_one : {"v1", "h", "http:/", ""}) {
        auto e = refused("[s3]\nendpoint = \"" + short_one + "\"\n", error::bad_value);
        CHECK_MESSAGE(contains(e.message, "is not an S3 endpoint"), e.message);
    }
}

TEST_CASE("config: a secret in [s3] is refused with its key and never shown") {
    for (const std::string key : {"secret_access_key", "access_key_id", "session_token"}) {
        auto e = refused("[s3]\n" + key + " = \"wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY\"\n",
                         error::bad_value);
        CHECK(contains(e.message, "s3." + key));
        CHECK_FALSE(contains(e.message, "wJalrXUtnFEMI"));
    }
}

TEST_CASE("config: S3 credentials from the environment, a credentials file or systemd") {
    clean_environment env;
    temp_dir dir;
    SUBCASE("none found is an error naming the ways") {
        temp_file config(s3_head);
        auto loaded = load_file(config.path());
        REQUIRE_FALSE(loaded.has_value());
        CHECK(loaded.error().code == error::secret_unreadable);
        CHECK(contains(loaded.error().message, "AWS_ACCESS_KEY_ID"));
        // doctor may load without them
        CHECK(load_file(config.path(), key_file::may_be_unreadable).has_value());
    }
    SUBCASE("the environment comes first") {
        env_override id{"AWS_ACCESS_KEY_ID", "AKIDENV"};
        env_override secret{"AWS_SECRET_ACCESS_KEY", "secret-env"};
        env_override token{"AWS_SESSION_TOKEN", "token-env"};
        temp_file config(s3_head);
        auto loaded = load_file(config.path());
        REQUIRE(loaded.has_value());
        CHECK(loaded->s3.access_key == "AKIDENV");
        CHECK(loaded->s3.secret_key == "secret-env");
        CHECK(loaded->s3.session_token == "token-env");
    }
    SUBCASE("credentials_file with a profile") {
        const auto file = dir.path() / "credentials";
        stemd::test::write_file(file, "# keys\n[default]\naws_access_key_id = AKIDDEF\n"
                                      "aws_secret_access_key = sdef\n\n[stems]\r\n"
                                      "aws_access_key_id=AKIDSTEMS\r\n"
                                      "aws_secret_access_key = sstems\r\n");
        temp_file config(s3_head + "credentials_file = \"" + file.string() +
                         "\"\nprofile = \"stems\"\n");
        auto loaded = load_file(config.path());
        REQUIRE(loaded.has_value());
        CHECK(loaded->s3.access_key == "AKIDSTEMS");
        CHECK(loaded->s3.secret_key == "sstems");
        temp_file missing(s3_head + "credentials_file = \"" + file.string() +
                          "\"\nprofile = \"absent\"\n");
        auto refused_profile = load_file(missing.path());
        REQUIRE_FALSE(refused_profile.has_value());
        CHECK(contains(refused_profile.error().message, "[absent]"));
    }
    SUBCASE("the systemd credential s3-credentials") {
        stemd::test::write_file(dir.path() / "s3-credentials",
                                "[default]\naws_access_key_id = AKIDSYS\n"
                                "aws_secret_access_key = ssys\n");
        env_override creds{"CREDENTIALS_DIRECTORY", dir.path().string()};
        temp_file config(s3_head);
        auto loaded = load_file(config.path());
        REQUIRE(loaded.has_value());
        CHECK(loaded->s3.access_key == "AKIDSYS");
        CHECK(loaded->s3.credentials_source == "the systemd credential s3-credentials");
    }
}
