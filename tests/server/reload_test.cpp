#include "server/reload.hpp"

#include "server/notify.hpp"

#include <doctest/doctest.h>

using namespace stemd;

TEST_CASE("reload: keys that need a restart are listed with the value still in use") {
    config::settings in_use;
    in_use.source = "/etc/stemd/stemd.toml";
    config::settings fresh = in_use;
    CHECK(server::restart_only_changes(in_use, fresh).empty());

    // Reloadable keys are not listed.
    fresh.musicgpt.api_key = "new";
    fresh.webhook.signing_secret = "whsec_x";
    fresh.webhook.tls_cert = "/c.pem";
    CHECK(server::restart_only_changes(in_use, fresh).empty());

    fresh.webhook.listen.port = 9090;
    fresh.download.concurrency = 2;
    fresh.api.allowed_hosts = {"stemd.lan"};
    const auto lines = server::restart_only_changes(in_use, fresh);
    REQUIRE(lines.size() == 3);
    CHECK(lines[0] == "webhook.listen changed in /etc/stemd/stemd.toml: needs a restart, still "
                      "using 0.0.0.0:8080");
    CHECK(lines[1] == "api.allowed_hosts changed in /etc/stemd/stemd.toml: needs a restart, "
                      "still using []");
    CHECK(lines[2] == "download.concurrency changed in /etc/stemd/stemd.toml: needs a restart, "
                      "still using 4");
}

TEST_CASE("status: the download rate in decimal megabytes per second") {
    CHECK(server::megabytes_per_second(0) == "0 MB/s");
    CHECK(server::megabytes_per_second(40'000) == "0 MB/s");
    CHECK(server::megabytes_per_second(1'000'000) == "1.0 MB/s");
    CHECK(server::megabytes_per_second(2'540'000) == "2.5 MB/s");
    CHECK(server::megabytes_per_second(9'960'000) == "10 MB/s");
    CHECK(server::megabytes_per_second(41'200'000) == "41 MB/s");
}
