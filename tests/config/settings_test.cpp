#include "config/settings.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>

#include <unistd.h>

namespace fs = std::filesystem;
using stemd::config::error;

namespace {

fs::path unique_temp_path(std::string_view stem) {
    static std::atomic<int> counter{0};
    return fs::temp_directory_path() / ("stemd-config-test-" + std::to_string(::getpid()) + "-" +
                                        std::to_string(counter++) + "-" + std::string(stem));
}

void write_file(const fs::path& path, std::string_view text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    REQUIRE(out.good());
}

// A file under the temp directory, removed when the test ends.
class temp_file {
public:
    explicit temp_file(std::string_view text, std::string_view stem = "stemd.toml")
        : path_(unique_temp_path(stem)) {
        write_file(path_, text);
        fs::permissions(path_, fs::perms::owner_read | fs::perms::owner_write);
    }
    ~temp_file() {
        std::error_code ec;
        fs::remove(path_, ec);
    }
    temp_file(const temp_file&) = delete;
    temp_file& operator=(const temp_file&) = delete;

    const fs::path& path() const { return path_; }

private:
    fs::path path_;
};

class temp_dir {
public:
    temp_dir() : path_(unique_temp_path("dir")) { fs::create_directories(path_); }
    ~temp_dir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;

    const fs::path& path() const { return path_; }

private:
    fs::path path_;
};

// Sets (or, with nullopt, unsets) an environment variable for one scope.
class env_override {
public:
    env_override(std::string name, const std::optional<std::string>& value)
        : name_(std::move(name)) {
        if (const char* old = std::getenv(name_.c_str())) {
            old_ = old;
        }
        set(value);
    }
    ~env_override() { set(old_); }
    env_override(const env_override&) = delete;
    env_override& operator=(const env_override&) = delete;

private:
    void set(const std::optional<std::string>& value) {
        if (value) {
            ::setenv(name_.c_str(), value->c_str(), 1);
        } else {
            ::unsetenv(name_.c_str());
        }
    }

    std::string name_;
    std::optional<std::string> old_;
};

class cwd_override {
public:
    explicit cwd_override(const fs::path& dir) : old_(fs::current_path()) { fs::current_path(dir); }
    ~cwd_override() {
        std::error_code ec;
        fs::current_path(old_, ec);
    }
    cwd_override(const cwd_override&) = delete;
    cwd_override& operator=(const cwd_override&) = delete;

private:
    fs::path old_;
};

bool contains(std::string_view text, std::string_view part) {
    return text.find(part) != std::string_view::npos;
}

// Parses text that must be refused and returns the problem.
stemd::config::problem refused(std::string_view text, error expected) {
    auto parsed = stemd::config::parse(text, "stemd.toml");
    REQUIRE_FALSE(parsed.has_value());
    const auto& p = parsed.error();
    CHECK(p.code == expected);
    CHECK(contains(p.message, "stemd.toml: "));
    return p;
}

} // namespace

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
    CHECK(s.download.ca_file == "/etc/ssl/cdn.pem");
    CHECK(s.download.allow_http);
    CHECK(s.download.allow_private_addresses);
    CHECK(s.warnings.empty());
}

TEST_CASE("config: unknown tables and keys are refused by name") {
    SUBCASE("unknown table") {
        const auto p = refused("[webhok]\nlisten = \"0.0.0.0:1\"\n", error::unknown_key);
        CHECK(contains(p.message, "[webhok]"));
        CHECK(contains(p.message, "webhook"));
    }
    SUBCASE("unknown key lists the table's keys") {
        const auto p = refused("[webhook]\nlisen = \"0.0.0.0:1\"\n", error::unknown_key);
        CHECK(p.message == "stemd.toml: unknown key \"webhook.lisen\" (known keys in [webhook]: "
                           "listen, public_url, secret, tls_cert, tls_key, signing_secret)");
    }
    SUBCASE("key outside any table") {
        const auto p = refused("concurrency = 4\n", error::unknown_key);
        CHECK(contains(p.message, "\"concurrency\""));
    }
    SUBCASE("sub-table of a known table") {
        const auto p = refused("[download.tls]\nverify = true\n", error::unknown_key);
        CHECK(contains(p.message, "download.tls"));
    }
}

TEST_CASE("config: wrong types are refused with the key and the expected type") {
    SUBCASE("string for an integer") {
        const auto p = refused("[download]\nconcurrency = \"4\"\n", error::bad_value);
        CHECK(contains(p.message, "download.concurrency = \"4\" is a string"));
        CHECK(contains(p.message, "integer"));
    }
    SUBCASE("float for an integer") {
        const auto p = refused("[download]\nmax_attempts = 4.0\n", error::bad_value);
        CHECK(contains(p.message, "download.max_attempts = 4.0 is a floating-point number"));
    }
    SUBCASE("string for a boolean") {
        const auto p = refused("[download]\nallow_http = \"yes\"\n", error::bad_value);
        CHECK(contains(p.message, "download.allow_http"));
        CHECK(contains(p.message, "true or false"));
    }
    SUBCASE("integer for a string") {
        const auto p = refused("[storage]\ndatabase = 5\n", error::bad_value);
        CHECK(contains(p.message, "storage.database = 5 is an integer"));
    }
    SUBCASE("a known table written as a value") {
        const auto p = refused("webhook = \"x\"\n", error::bad_value);
        CHECK(contains(p.message, "webhook"));
        CHECK(contains(p.message, "expected a table"));
    }
    SUBCASE("a secret of the wrong type is not echoed") {
        const auto p = refused("[musicgpt]\napi_key = 987654321\n", error::bad_value);
        CHECK(contains(p.message, "musicgpt.api_key"));
        CHECK_FALSE(contains(p.message, "987654321"));
    }
}

TEST_CASE("config: out-of-range numbers name the key, value and range") {
    CHECK(refused("[download]\nconcurrency = 0\n", error::bad_value).message ==
          "stemd.toml: download.concurrency = 0 is out of range: use 1 to 64");
    CHECK(refused("[download]\nconcurrency = 65\n", error::bad_value).message ==
          "stemd.toml: download.concurrency = 65 is out of range: use 1 to 64");
    CHECK(refused("[download]\nmax_attempts = 101\n", error::bad_value).message ==
          "stemd.toml: download.max_attempts = 101 is out of range: use 1 to 100");
    CHECK(refused("[download]\nmax_attempts = -9223372036854775808\n", error::bad_value).message ==
          "stemd.toml: download.max_attempts = -9223372036854775808 is out of range: use 1 to 100");
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

TEST_CASE("config: syntax errors give the line and column") {
    const auto p = refused("[download]\nconcurrency = 4\nmax_attempts = = 3\n", error::syntax);
    CHECK(contains(p.message, "stemd.toml: line 3, column "));
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

TEST_CASE("config: parse_endpoint accepts host:port and [v6]:port") {
    auto v4 = stemd::config::parse_endpoint("127.0.0.1:8081");
    REQUIRE(v4.has_value());
    CHECK(v4->host == "127.0.0.1");
    CHECK(v4->port == 8081);
    CHECK(v4->to_string() == "127.0.0.1:8081");

    auto v6 = stemd::config::parse_endpoint("[::1]:65535");
    REQUIRE(v6.has_value());
    CHECK(v6->host == "::1");
    CHECK(v6->port == 65535);
    CHECK(v6->to_string() == "[::1]:65535");

    auto name = stemd::config::parse_endpoint("stemd.internal:1");
    REQUIRE(name.has_value());
    CHECK(name->to_string() == "stemd.internal:1");
}

TEST_CASE("config: parse_endpoint says what is wrong") {
    const auto why = [](std::string_view text) {
        auto parsed = stemd::config::parse_endpoint(text);
        REQUIRE_FALSE(parsed.has_value());
        CHECK(parsed.error().code == error::bad_value);
        return parsed.error().message;
    };
    CHECK(contains(why(""), "empty"));
    CHECK(contains(why("localhost"), "port is missing"));
    CHECK(contains(why("localhost:"), "port is missing"));
    CHECK(contains(why(":8080"), "host is missing"));
    CHECK(contains(why("host:0"), "out of range"));
    CHECK(contains(why("host:65536"), "out of range"));
    CHECK(contains(why("host:99999999999999999999"), "out of range"));
    CHECK(contains(why("host:http"), "not a number"));
    CHECK(contains(why("host:80x"), "not a number"));
    CHECK(contains(why("::1:8080"), "brackets"));
    CHECK(contains(why("[::1:8080"), "closing ']'"));
    CHECK(contains(why("[::1]8080"), "port is missing"));
    CHECK(contains(why("[example]:80"), "not an IPv6 address"));
    CHECK(contains(why("bad host:80"), "not a host name"));
}

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

TEST_CASE("config: error codes have a category and a message, and value() throws the message") {
    const boost::system::error_code code = error::unknown_key;
    CHECK(std::string(code.category().name()) == "stemd.config");
    for (const auto e : {error::file_unreadable, error::syntax, error::unknown_key,
                         error::bad_value, error::secret_unreadable}) {
        const boost::system::error_code c = e;
        CHECK_FALSE(c.message().empty());
        CHECK_FALSE(contains(c.message(), "unknown stemd.config error"));
    }

    auto parsed = stemd::config::parse("[download]\nconcurrency = 0\n", "stemd.toml");
    REQUIRE_FALSE(parsed.has_value());
    try {
        (void)parsed.value();
        FAIL("value() did not throw");
    } catch (const std::runtime_error& e) {
        CHECK(std::string(e.what()) ==
              "stemd.toml: download.concurrency = 0 is out of range: use 1 to 64");
    }
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
)",
                                       "stemd.toml");
    REQUIRE(parsed.has_value());
    const auto& s = *parsed;
    CHECK(s.webhook.tls_cert == "/etc/stemd/cert.pem");
    CHECK(s.webhook.tls_key == "/etc/stemd/key.pem");
    CHECK(s.webhook.signing_secret.starts_with("whsec_"));
    CHECK(s.download.max_bytes == 5'000'000'000);
    CHECK(s.download.idle_timeout == 5);
    CHECK(s.limits.header_bytes == 4096);
    CHECK(s.limits.body_bytes == 2048);
    CHECK(s.limits.request_timeout == 3);
    CHECK(s.limits.idle_timeout == 4);
    CHECK(s.limits.max_connections == 7);
    CHECK(s.reconcile.overdue_factor == 2);
    CHECK(s.reconcile.overdue_floor == 60);
    CHECK(s.reconcile.status_per_minute == 200);

    auto defaults = stemd::config::parse("", "stemd.toml");
    REQUIRE(defaults.has_value());
    CHECK(defaults->limits.header_bytes == 8192);
    CHECK(defaults->limits.body_bytes == 1024 * 1024);
    CHECK(defaults->limits.request_timeout == 10);
    CHECK(defaults->limits.idle_timeout == 30);
    CHECK(defaults->limits.max_connections == 1024);
    CHECK(defaults->download.max_bytes == std::int64_t{2} << 30);

    CHECK(contains(refused("[limits]\nheader_bytes = 10\n", error::bad_value).message,
                   "limits.header_bytes = 10 is out of range"));
    CHECK(contains(refused("[download]\nmax_bytes = 0\n", error::bad_value).message,
                   "download.max_bytes"));
    CHECK(contains(refused("[webhook]\ntls_cert = \"/c.pem\"\n", error::bad_value).message,
                   "tls_key"));
    auto bad_secret = refused("[webhook]\nsigning_secret = \"hunter2hunter2hunter2\"\n",
                              error::bad_value);
    CHECK(contains(bad_secret.message, "webhook.signing_secret"));
    CHECK_FALSE(contains(bad_secret.message, "hunter2"));
    CHECK(contains(refused("[reconcile]\nstatus_per_minute = 0\n", error::bad_value).message,
                   "reconcile.status_per_minute"));
}
