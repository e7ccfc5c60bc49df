#include "server/reload.hpp"

#include "server/notify.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

using namespace stemd;

namespace {

// TOML values of every kind a key may take; for each key at least one of
// them parses and differs from the built-in default.
const std::vector<std::string> candidate_values{
    "7",
    "2",
    "4096",
    "true",
    "false",
    "\"v1\"",
    "\"https://other.example/api\"",
    "\"https://s3.other.example\"",
    "\"/srv/other\"",
    "\"127.0.0.2:9999\"",
    "\"0123456789abcdef0123456789abcdef\"",
    "\"whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3\"",
    "[\"/srv/other\"]",
    "[\"stemd.lan\"]",
};

// Keys that only load together with another one.
std::string partner_of(const std::string& key) {
    if (key == "webhook.tls_cert")
        return "tls_key = \"/k.pem\"\n";
    if (key == "webhook.tls_key")
        return "tls_cert = \"/c.pem\"\n";
    if (key == "notify.url")
        return "signing_secret = \"whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3\"\n";
    return "";
}

// How a reload treats `key` changed on its own: "applied", "needs a
// restart", or why no changed value could be made.
std::string verdict_for(const std::string& key, const config::settings& in_use) {
    const auto dot = key.find('.');
    std::string last_error = "no candidate value parses";
    for (const auto& value : candidate_values) {
        const std::string text = "[" + key.substr(0, dot) + "]\n" + key.substr(dot + 1) + " = " +
                                 value + "\n" + partner_of(key);
        auto fresh = config::parse(text, in_use.source);
        if (!fresh) {
            last_error = fresh.error().message;
            continue;
        }
        const auto changes = server::changed_keys(in_use, *fresh);
        const auto it = std::find_if(changes.begin(), changes.end(),
                                     [&](const server::key_change& c) { return c.key == key; });
        if (it == changes.end())
            continue; // the default again, or a key the reload does not know
        const auto lines = server::restart_only_changes(in_use, *fresh);
        const bool refused = std::any_of(lines.begin(), lines.end(), [&](const std::string& l) {
            return l.starts_with(key + " changed in ") && l.find("needs a restart") != l.npos;
        });
        if (it->applied == refused)
            return "both applied and refused, or neither";
        return it->applied ? "applied" : "needs a restart";
    }
    return "no change of it is seen by the reload (" + last_error + ")";
}

} // namespace

TEST_CASE("reload: every key the configuration knows is either applied or needs a restart") {
    const auto in_use = config::parse("", "/etc/stemd/stemd.toml");
    REQUIRE(in_use.has_value());
    const auto keys = config::key_names();
    REQUIRE(keys.size() >= 40);
    std::vector<std::string> applied;
    // Keys that would put an S3 secret into the file: refused at load, so
    // a reload never sees them change.
    const std::vector<std::string> refused{"s3.access_key_id", "s3.secret_access_key",
                                           "s3.session_token"};
    for (const auto& key : keys) {
        if (std::find(refused.begin(), refused.end(), key) != refused.end()) {
            const auto loaded = config::parse("[s3]\n" + key.substr(3) + " = \"x\"\n", "t.toml");
            REQUIRE_FALSE(loaded.has_value());
            CHECK_MESSAGE(loaded.error().message.find(key) != std::string::npos,
                          loaded.error().message);
            continue;
        }
        const auto verdict = verdict_for(key, *in_use);
        INFO(key << ": " << verdict);
        CHECK((verdict == "applied" || verdict == "needs a restart"));
        if (verdict == "applied")
            applied.push_back(key);
    }
    // Retention is policy: an operator changes it without a restart.
    CHECK(applied == std::vector<std::string>{"musicgpt.api_key", "musicgpt.api_key_file",
                                              "webhook.secret", "webhook.tls_cert",
                                              "webhook.tls_key", "webhook.signing_secret",
                                              "retention.keep_days", "retention.delete_files"});
}

TEST_CASE("reload: keys that need a restart are listed with the value still in use") {
    config::settings in_use;
    in_use.source = "/etc/stemd/stemd.toml";
    config::settings fresh = in_use;
    CHECK(server::restart_only_changes(in_use, fresh).empty());
    CHECK(server::changed_keys(in_use, fresh).empty());

    fresh.webhook.listen.port = 9090;
    fresh.download.concurrency = 2;
    fresh.retention.keep_days = 7;
    const auto lines = server::restart_only_changes(in_use, fresh);
    REQUIRE(lines.size() == 2);
    CHECK(lines[0] == "webhook.listen changed in /etc/stemd/stemd.toml: needs a restart, still "
                      "using 0.0.0.0:8080");
    CHECK(lines[1] == "download.concurrency changed in /etc/stemd/stemd.toml: needs a restart, "
                      "still using 4");
}

TEST_CASE("reload: a listener on a socket systemd passed names that socket as the one in use") {
    config::settings in_use;
    in_use.source = "/etc/stemd/stemd.toml";
    config::settings fresh = in_use;
    fresh.webhook.listen.port = 9090;
    fresh.api.listen.port = 9091;
    const auto lines = server::restart_only_changes(in_use, fresh, "[::]:8080", "");
    REQUIRE(lines.size() == 2);
    CHECK(lines[0] == "webhook.listen changed in /etc/stemd/stemd.toml: needs a restart, still "
                      "using [::]:8080 (the socket systemd passed)");
    CHECK(lines[1] == "api.listen changed in /etc/stemd/stemd.toml: needs a restart, still "
                      "using 127.0.0.1:8081");
}

TEST_CASE("status: the download rate in decimal megabytes per second") {
    CHECK(server::megabytes_per_second(0) == "0 MB/s");
    CHECK(server::megabytes_per_second(40'000) == "0 MB/s");
    CHECK(server::megabytes_per_second(1'000'000) == "1.0 MB/s");
    CHECK(server::megabytes_per_second(2'540'000) == "2.5 MB/s");
    CHECK(server::megabytes_per_second(9'960'000) == "10 MB/s");
    CHECK(server::megabytes_per_second(41'200'000) == "41 MB/s");
}

TEST_CASE("reload: a restart-only notify.url or notify.command is logged without its query or "
          "arguments") {
    const std::string secret = "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3";
    const auto in_use = config::parse("[notify]\nurl = \"https://hooks.example/in?key=old-key\"\n"
                                      "signing_secret = \"" +
                                          secret + "\"\ncommand = [\"/bin/on\", \"--token=old\"]\n",
                                      "/etc/stemd/stemd.toml");
    REQUIRE(in_use.has_value());
    // Only the queries and the argument change: still seen, never shown.
    const auto fresh = config::parse("[notify]\nurl = \"https://hooks.example/in?key=new-key\"\n"
                                     "signing_secret = \"" +
                                         secret + "\"\ncommand = [\"/bin/on\", \"--token=new\"]\n",
                                     "/etc/stemd/stemd.toml");
    REQUIRE(fresh.has_value());
    const auto lines = server::restart_only_changes(*in_use, *fresh);
    std::string all;
    for (const auto& l : lines)
        all += l + "\n";
    CHECK_MESSAGE(all.find("notify.url changed in") != std::string::npos, all);
    CHECK_MESSAGE(all.find("notify.command changed in") != std::string::npos, all);
    CHECK_MESSAGE(all.find("https://hooks.example/in") != std::string::npos, all);
    CHECK_MESSAGE(all.find("/bin/on") != std::string::npos, all);
    for (const char* hidden : {"old-key", "new-key", "key=", "--token"})
        CHECK_MESSAGE(all.find(hidden) == std::string::npos, (std::string(hidden) + "\n" + all));
}

TEST_CASE("reload: a change of storage.database given as a PostgreSQL URI needs a restart") {
    const auto parse = [](const std::string& database) {
        auto s =
            config::parse("[storage]\ndatabase = \"" + database + "\"\n", "/etc/stemd/stemd.toml");
        REQUIRE_MESSAGE(s.has_value(), (s ? std::string() : s.error().message));
        return *s;
    };
    const auto in_use = parse("postgresql://stemd@db.example:5432/stemd?sslmode=require");
    CHECK(server::restart_only_changes(in_use, in_use).empty());

    // Another server: seen, and the line names what is still in use
    // without its user or query.
    const auto lines =
        server::restart_only_changes(in_use, parse("postgresql://db2.example:5432/stemd"));
    REQUIRE(lines.size() == 1);
    CHECK_MESSAGE(lines[0].starts_with("storage.database changed in /etc/stemd/stemd.toml: needs "
                                       "a restart, still using postgresql://db.example:5432/stemd"),
                  lines[0]);
    CHECK_MESSAGE(lines[0].find("sslmode") == std::string::npos, lines[0]);
    CHECK_MESSAGE(lines[0].find("stemd@") == std::string::npos, lines[0]);

    // Only the query changed: still a change.
    const auto changes =
        server::changed_keys(in_use, parse("postgresql://stemd@db.example:5432/stemd"));
    REQUIRE(changes.size() == 1);
    CHECK(changes[0].key == "storage.database");
    CHECK_FALSE(changes[0].applied);

    // From a SQLite file to PostgreSQL and back.
    const auto sqlite = config::parse("", "/etc/stemd/stemd.toml");
    REQUIRE(sqlite.has_value());
    CHECK(server::restart_only_changes(*sqlite, in_use).size() == 1);
    CHECK(server::restart_only_changes(in_use, *sqlite).size() == 1);
}
