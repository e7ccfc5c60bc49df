#include "config/settings.hpp"

#include "tests/config/support.hpp"

#include <doctest/doctest.h>

namespace fs = std::filesystem;
using stemd::config::error;
using namespace stemd::config::test;

TEST_CASE("config: an empty file gives the documented defaults") {
    auto parsed = stemd::config::parse("", "empty.toml");
    REQUIRE(parsed.has_value());
    const auto& s = *parsed;
    CHECK(s.musicgpt.base_url == "https://api.musicgpt.com/api/public");
    CHECK(s.musicgpt.api_version == "v2");
    CHECK(s.musicgpt.api_key.empty());
    CHECK(s.musicgpt.api_key_file.empty());
    CHECK(s.musicgpt.ca_file.empty());
    CHECK(s.webhook.listen.to_string() == "0.0.0.0:8080");
    CHECK(s.webhook.public_url.empty());
    CHECK(s.webhook.secret.empty());
    CHECK(s.api.listen.to_string() == "127.0.0.1:8081");
    CHECK(s.storage.database == fs::path("var/stemd.db"));
    CHECK(s.storage.output_dir == fs::path("var/stems"));
    CHECK(s.download.concurrency == 4);
    CHECK(s.download.max_attempts == 8);
    CHECK(s.download.max_link_refreshes == 3);
    CHECK(s.download.ca_file.empty());
    CHECK_FALSE(s.download.allow_http);
    CHECK_FALSE(s.download.allow_private_addresses);
    CHECK(s.source == "empty.toml");
    CHECK(s.warnings.empty());
}

TEST_CASE("config: a full valid file sets every key") {
    constexpr std::string_view text = R"(
[musicgpt]
base_url = "https://example.test/api/public/"
api_version = "v1"
api_key = "key-from-file"
ca_file = "/etc/ssl/musicgpt.pem"

[webhook]
listen = "[::1]:9443"
public_url = "https://hooks.example.test/stemd//"
secret = "0123456789abcdef0123"

[api]
listen = "localhost:7000"

[storage]
database = "/var/lib/stemd/jobs.db"
output_dir = "stems"

[download]
concurrency = 64
max_attempts = 1
max_link_refreshes = 7
ca_file = "/etc/ssl/cdn.pem"
allow_http = true
allow_private_addresses = true
)";
    auto parsed = stemd::config::parse(text, "full.toml");
    REQUIRE(parsed.has_value());
    const auto& s = *parsed;
    CHECK(s.musicgpt.base_url == "https://example.test/api/public");
    CHECK(s.musicgpt.api_version == "v1");
    CHECK(s.musicgpt.api_key == "key-from-file");
    CHECK(s.musicgpt.ca_file == "/etc/ssl/musicgpt.pem");
    CHECK(s.webhook.listen.host == "::1");
    CHECK(s.webhook.listen.port == 9443);
    CHECK(s.webhook.public_url == "https://hooks.example.test/stemd");
    CHECK(s.webhook.secret == "0123456789abcdef0123");
    CHECK(s.api.listen.host == "localhost");
    CHECK(s.api.listen.port == 7000);
    CHECK(s.storage.database == fs::path("/var/lib/stemd/jobs.db"));
    CHECK(s.storage.output_dir == fs::path("stems"));
    CHECK(s.download.concurrency == 64);
    CHECK(s.download.max_attempts == 1);
    CHECK(s.download.max_link_refreshes == 7);
    CHECK(s.download.ca_file == "/etc/ssl/cdn.pem");
    CHECK(s.download.allow_http);
    CHECK(s.download.allow_private_addresses);
    CHECK(s.warnings.empty());
}

TEST_CASE("config: bad values are refused with the key") {
    SUBCASE("endpoint without a port") {
        const auto p = refused("[api]\nlisten = \"localhost\"\n", error::bad_value);
        CHECK(contains(p.message, "api.listen = \"localhost\""));
        CHECK(contains(p.message, "port is missing"));
    }
    SUBCASE("endpoint with a port out of range") {
        const auto p = refused("[webhook]\nlisten = \"0.0.0.0:70000\"\n", error::bad_value);
        CHECK(contains(p.message, "webhook.listen"));
        CHECK(contains(p.message, "1 to 65535"));
    }
    SUBCASE("api_version") {
        const auto p = refused("[musicgpt]\napi_version = \"v3\"\n", error::bad_value);
        CHECK(contains(p.message, "musicgpt.api_version = \"v3\""));
        CHECK(contains(p.message, "\"v1\" or \"v2\""));
    }
    SUBCASE("base_url that is not http(s)") {
        const auto p = refused("[musicgpt]\nbase_url = \"ftp://example.test\"\n", error::bad_value);
        CHECK(contains(p.message, "musicgpt.base_url = \"ftp://example.test\""));
    }
    SUBCASE("base_url with a query keeps the query out of the message") {
        const auto p = refused("[musicgpt]\nbase_url = \"https://example.test/?token=hush\"\n",
                               error::bad_value);
        CHECK(contains(p.message, "musicgpt.base_url"));
        CHECK_FALSE(contains(p.message, "hush"));
    }
    SUBCASE("public_url without a host") {
        const auto p = refused("[webhook]\npublic_url = \"https:///x\"\n", error::bad_value);
        CHECK(contains(p.message, "webhook.public_url"));
    }
    SUBCASE("short webhook secret is named but not shown") {
        const auto p = refused("[webhook]\nsecret = \"tiny-value\"\n", error::bad_value);
        CHECK(contains(p.message, "webhook.secret"));
        CHECK(contains(p.message, "16"));
        CHECK_FALSE(contains(p.message, "tiny-value"));
    }
    SUBCASE("empty storage path") {
        const auto p = refused("[storage]\noutput_dir = \"\"\n", error::bad_value);
        CHECK(contains(p.message, "storage.output_dir"));
    }
    SUBCASE("api_key and api_key_file together") {
        const auto p =
            refused("[musicgpt]\napi_key = \"abc\"\napi_key_file = \"/k\"\n", error::bad_value);
        CHECK(contains(p.message, "musicgpt.api_key and musicgpt.api_key_file"));
        CHECK_FALSE(contains(p.message, "abc"));
    }
}

TEST_CASE("config: a public_url that is not https is a warning, not a refusal") {
    auto plain = stemd::config::parse("[webhook]\npublic_url = \"http://hooks.example.test/\"\n",
                                      "stemd.toml");
    REQUIRE(plain.has_value());
    CHECK(plain->webhook.public_url == "http://hooks.example.test");
    REQUIRE(plain->warnings.size() == 1);
    CHECK(contains(plain->warnings[0], "webhook.public_url"));
    CHECK(contains(plain->warnings[0], "https"));

    auto secure = stemd::config::parse("[webhook]\npublic_url = \"https://hooks.example.test\"\n",
                                       "stemd.toml");
    REQUIRE(secure.has_value());
    CHECK(secure->warnings.empty());
}

TEST_CASE("config: limits, reconcile and download guard keys are read and range-checked") {
    auto parsed = stemd::config::parse(R"(
[webhook]
tls_cert = "/etc/stemd/cert.pem"
tls_key = "/etc/stemd/key.pem"
signing_secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
[download]
max_bytes = 5000000000
idle_timeout = 5
max_seconds = 600
[limits]
header_bytes = 4096
body_bytes = 2048
request_timeout = 3
idle_timeout = 4
max_connections = 7
[reconcile]
overdue_factor = 2
overdue_floor = 60
status_per_minute = 200
unknown_task_after = 600
)",
                                       "stemd.toml");
    REQUIRE(parsed.has_value());
    const auto& s = *parsed;
    CHECK(s.webhook.tls_cert == "/etc/stemd/cert.pem");
    CHECK(s.webhook.tls_key == "/etc/stemd/key.pem");
    CHECK(s.webhook.signing_secret.starts_with("whsec_"));
    CHECK(s.download.max_bytes == 5'000'000'000);
    CHECK(s.download.idle_timeout == 5);
    CHECK(s.download.max_seconds == 600);
    CHECK(s.limits.header_bytes == 4096);
    CHECK(s.limits.body_bytes == 2048);
    CHECK(s.limits.request_timeout == 3);
    CHECK(s.limits.idle_timeout == 4);
    CHECK(s.limits.max_connections == 7);
    CHECK(s.reconcile.overdue_factor == 2);
    CHECK(s.reconcile.overdue_floor == 60);
    CHECK(s.reconcile.status_per_minute == 200);
    CHECK(s.reconcile.unknown_task_after == 600);

    auto defaults = stemd::config::parse("", "stemd.toml");
    REQUIRE(defaults.has_value());
    CHECK(defaults->limits.header_bytes == 8192);
    CHECK(defaults->limits.body_bytes == 1024 * 1024);
    CHECK(defaults->limits.request_timeout == 10);
    CHECK(defaults->limits.idle_timeout == 30);
    CHECK(defaults->limits.max_connections == 1024);
    CHECK(defaults->download.max_bytes == std::int64_t{2} << 30);
    CHECK(defaults->download.max_seconds == 3600);

    CHECK(contains(refused("[limits]\nheader_bytes = 10\n", error::bad_value).message,
                   "limits.header_bytes = 10 is out of range"));
    CHECK(contains(refused("[download]\nmax_bytes = 0\n", error::bad_value).message,
                   "download.max_bytes"));
    CHECK(contains(refused("[webhook]\ntls_cert = \"/c.pem\"\n", error::bad_value).message,
                   "tls_key"));
    auto bad_secret =
        refused("[webhook]\nsigning_secret = \"hunter2hunter2hunter2\"\n", error::bad_value);
    CHECK(contains(bad_secret.message, "webhook.signing_secret"));
    CHECK_FALSE(contains(bad_secret.message, "hunter2"));
    CHECK(contains(refused("[reconcile]\nstatus_per_minute = 0\n", error::bad_value).message,
                   "reconcile.status_per_minute"));
    CHECK(contains(refused("[reconcile]\nunknown_task_after = 0\n", error::bad_value).message,
                   "reconcile.unknown_task_after"));
}

TEST_CASE("config: [api] token_file and allowed_hosts") {
    auto defaults = stemd::config::parse("", "stemd.toml");
    REQUIRE(defaults.has_value());
    CHECK(defaults->api.token_file.empty());
    CHECK(defaults->api.allowed_hosts.empty());
    CHECK(stemd::config::api_token_file(*defaults) == fs::path("var/api-token"));

    auto beside = stemd::config::parse("[storage]\ndatabase = \"/srv/stemd/jobs.db\"\n", "x.toml");
    REQUIRE(beside.has_value());
    CHECK(stemd::config::api_token_file(*beside) == fs::path("/srv/stemd/api-token"));
    auto bare = stemd::config::parse("[storage]\ndatabase = \"jobs.db\"\n", "x.toml");
    REQUIRE(bare.has_value());
    CHECK(stemd::config::api_token_file(*bare) == fs::path("api-token"));

    auto set = stemd::config::parse(
        "[api]\ntoken_file = \"/etc/stemd/token\"\nallowed_hosts = [\"Stemd.LAN\", \"[::1]\", "
        "\"192.168.1.20\"]\n",
        "x.toml");
    REQUIRE(set.has_value());
    CHECK(stemd::config::api_token_file(*set) == fs::path("/etc/stemd/token"));
    CHECK(set->api.allowed_hosts == std::vector<std::string>{"stemd.lan", "[::1]", "192.168.1.20"});
    CHECK(set->warnings.empty());

    auto p = refused("[api]\ntoken_file = \"\"\n", error::bad_value);
    CHECK(contains(p.message, "api.token_file"));
    for (const char* bad :
         {"\"stemd.lan:8081\"", "\"http://stemd.lan\"", "\"\"", "\"a b\"", "\"stemd.lan/x\""}) {
        CAPTURE(bad);
        p = refused(std::string("[api]\nallowed_hosts = [") + bad + "]\n", error::bad_value);
        CHECK(contains(p.message, "api.allowed_hosts[0]"));
        CHECK(contains(p.message, "without scheme, port or path"));
    }
    p = refused("[api]\nallowed_hosts = \"stemd.lan\"\n", error::bad_value);
    CHECK(contains(p.message, "an array of strings"));
    p = refused("[api]\nallowed_hosts = [\"ok\", 3]\n", error::bad_value);
    CHECK(contains(p.message, "api.allowed_hosts[1]"));
}

TEST_CASE("config: an api.listen beyond loopback is a warning, not a refusal") {
    auto open = stemd::config::parse("[api]\nlisten = \"0.0.0.0:8081\"\n", "stemd.toml");
    REQUIRE(open.has_value());
    REQUIRE(open->warnings.size() == 1);
    CHECK(contains(open->warnings[0], "stemd.toml: api.listen = \"0.0.0.0:8081\""));
    CHECK(contains(open->warnings[0], "not a loopback address"));
    for (const char* loopback : {"127.0.0.1:8081", "[::1]:8081", "localhost:8081", "127.0.0.9:1"}) {
        auto quiet = stemd::config::parse(std::string("[api]\nlisten = \"") + loopback + "\"\n",
                                          "stemd.toml");
        REQUIRE(quiet.has_value());
        CHECK_MESSAGE(quiet->warnings.empty(), loopback);
    }
}

TEST_CASE("config: the connection caps per address and per connection") {
    auto defaults = stemd::config::parse("", "stemd.toml");
    REQUIRE(defaults.has_value());
    CHECK(defaults->limits.max_connections_per_address == 64);
    CHECK(defaults->limits.max_requests_per_connection == 1000);

    auto parsed = stemd::config::parse(
        "[limits]\nmax_connections_per_address = 3\nmax_requests_per_connection = 5\n",
        "stemd.toml");
    REQUIRE(parsed.has_value());
    CHECK(parsed->limits.max_connections_per_address == 3);
    CHECK(parsed->limits.max_requests_per_connection == 5);

    CHECK(contains(refused("[limits]\nmax_connections_per_address = 0\n", error::bad_value).message,
                   "limits.max_connections_per_address = 0 is out of range"));
    CHECK(contains(refused("[limits]\nmax_requests_per_connection = 0\n", error::bad_value).message,
                   "limits.max_requests_per_connection = 0 is out of range"));
}

TEST_CASE("config: api.upload_max_bytes and api.file_roots") {
    auto defaults = stemd::config::parse("", "empty.toml");
    REQUIRE(defaults.has_value());
    CHECK(defaults->api.upload_max_bytes == std::int64_t{1} << 30);
    CHECK(defaults->api.file_roots.empty());

    auto set = stemd::config::parse(
        "[api]\nupload_max_bytes = 4096\nfile_roots = [\"/srv/music/\", \"/home/a\"]\n", "x.toml");
    REQUIRE(set.has_value());
    CHECK(set->api.upload_max_bytes == 4096);
    CHECK(set->api.file_roots == std::vector<fs::path>{"/srv/music", "/home/a"});

    SUBCASE("a relative root is refused with its place in the list") {
        const auto p = refused("[api]\nfile_roots = [\"/ok\", \"music\"]\n", error::bad_value);
        CHECK(contains(p.message, "api.file_roots[1] = \"music\""));
        CHECK(contains(p.message, "absolute"));
    }
    SUBCASE("file_roots must be an array of strings") {
        const auto p = refused("[api]\nfile_roots = \"/srv\"\n", error::bad_value);
        CHECK(contains(p.message, "api.file_roots"));
        CHECK(contains(p.message, "an array of strings"));
        const auto q = refused("[api]\nfile_roots = [1]\n", error::bad_value);
        CHECK(contains(q.message, "api.file_roots[0]"));
    }
    SUBCASE("upload_max_bytes out of range") {
        const auto p = refused("[api]\nupload_max_bytes = 0\n", error::bad_value);
        CHECK(contains(p.message, "api.upload_max_bytes = 0 is out of range"));
    }
}

TEST_CASE("config: [retention] keep_days and delete_files") {
    auto defaults = stemd::config::parse("", "empty.toml");
    REQUIRE(defaults.has_value());
    CHECK(defaults->retention.keep_days == 90);
    CHECK_FALSE(defaults->retention.delete_files);

    auto set = stemd::config::parse("[retention]\nkeep_days = 0\ndelete_files = true\n", "s.toml");
    REQUIRE(set.has_value());
    CHECK(set->retention.keep_days == 0);
    CHECK(set->retention.delete_files);

    const auto negative = refused("[retention]\nkeep_days = -1\n", error::bad_value).message;
    CHECK(contains(negative, "retention.keep_days = -1 is out of range"));
    CHECK(contains(refused("[retention]\nkeep_days = 36501\n", error::bad_value).message,
                   "retention.keep_days = 36501"));
    const auto text = refused("[retention]\nkeep_days = \"30d\"\n", error::bad_value).message;
    CHECK(contains(text, "retention.keep_days"));
    const auto flag = refused("[retention]\ndelete_files = \"yes\"\n", error::bad_value).message;
    CHECK(contains(flag, "retention.delete_files"));
    const auto unknown = stemd::config::parse("[retention]\nkeep = 3\n", "stemd.toml");
    REQUIRE_FALSE(unknown.has_value());
    CHECK(contains(unknown.error().message, "retention.keep"));
}
