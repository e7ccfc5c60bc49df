#include "config/settings.hpp"

#include "tests/config/support.hpp"

#include <doctest/doctest.h>

using namespace stemd::config;
using stemd::config::test::contains;

namespace {

const std::string secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

} // namespace

TEST_CASE("config: [notify] is off by default and read with its defaults") {
    auto none = parse("", "n.toml");
    REQUIRE(none.has_value());
    CHECK(none->notify.url.empty());
    CHECK(none->notify.command.empty());
    CHECK(none->notify.timeout_seconds == 10);
    CHECK(none->notify.command_timeout_seconds == 60);
    CHECK_FALSE(none->notify.allow_http);

    auto set =
        parse("[notify]\nurl = \"https://app.example/hooks?k=1\"\nsigning_secret = \"" + secret +
                  "\"\nca_file = \"/etc/ca.pem\"\ntimeout_seconds = 5\n"
                  "command = [\"/usr/bin/on-stems\", \"--quiet\"]\n"
                  "command_timeout_seconds = 30\n",
              "n.toml");
    REQUIRE(set.has_value());
    CHECK(set->notify.url == "https://app.example/hooks?k=1"); // kept as written
    CHECK(set->notify.signing_secret == secret);
    CHECK(set->notify.ca_file == "/etc/ca.pem");
    CHECK(set->notify.timeout_seconds == 5);
    CHECK(set->notify.command == std::vector<std::string>{"/usr/bin/on-stems", "--quiet"});
    CHECK(set->notify.command_timeout_seconds == 30);
    auto command_only = parse("[notify]\ncommand = [\"/bin/true\"]\n", "n.toml");
    CHECK(command_only.has_value());
}

TEST_CASE("config: [notify] refusals name the file, key and value") {
    auto plain =
        parse("[notify]\nurl = \"http://127.0.0.1:9/h\"\nsigning_secret = \"" + secret + "\"\n",
              "n.toml");
    REQUIRE_FALSE(plain.has_value());
    CHECK(contains(plain.error().message, "n.toml"));
    CHECK(contains(plain.error().message, "notify.url = \"http://127.0.0.1:9/h\""));
    CHECK(contains(plain.error().message, "allow_http"));
    CHECK(parse("[notify]\nurl = \"http://127.0.0.1:9/h\"\nallow_http = true\nsigning_secret = \"" +
                    secret + "\"\n",
                "n.toml")
              .has_value());

    auto unsigned_url = parse("[notify]\nurl = \"https://a.example/h\"\n", "n.toml");
    REQUIRE_FALSE(unsigned_url.has_value());
    CHECK(contains(unsigned_url.error().message, "notify.signing_secret"));

    auto bad_secret = parse(
        "[notify]\nurl = \"https://a.example/h\"\nsigning_secret = \"whsec_***\"\n", "n.toml");
    REQUIRE_FALSE(bad_secret.has_value());
    CHECK(contains(bad_secret.error().message, "notify.signing_secret"));
    CHECK_FALSE(contains(bad_secret.error().message, "***")); // a secret is never echoed

    auto no_scheme = parse("[notify]\nurl = \"app.example/h\"\n", "n.toml");
    REQUIRE_FALSE(no_scheme.has_value());
    CHECK(contains(no_scheme.error().message, "notify.url"));
    auto empty_arg = parse("[notify]\ncommand = [\"/bin/x\", \"\"]\n", "n.toml");
    REQUIRE_FALSE(empty_arg.has_value());
    CHECK(contains(empty_arg.error().message, "notify.command"));
    CHECK_FALSE(parse("[notify]\ntimeout_seconds = 0\n", "n.toml").has_value());
}

TEST_CASE("config: a [notify] refusal never shows the URL's query") {
    auto plain = parse("[notify]\nurl = \"http://127.0.0.1:9/h?key=routing-key\"\n"
                       "signing_secret = \"" +
                           secret + "\"\n",
                       "n.toml");
    REQUIRE_FALSE(plain.has_value());
    CHECK(contains(plain.error().message, "notify.url = \"http://127.0.0.1:9/h?...\""));
    CHECK_FALSE(contains(plain.error().message, "routing-key"));
    auto unsigned_url =
        parse("[notify]\nurl = \"https://a.example/h?key=routing-key\"\n", "n.toml");
    REQUIRE_FALSE(unsigned_url.has_value());
    CHECK_FALSE(contains(unsigned_url.error().message, "routing-key"));
}
