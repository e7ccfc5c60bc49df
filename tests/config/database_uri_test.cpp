#include "config/settings.hpp"

#include "support.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace stemd::config;
using namespace stemd::config::test;

TEST_CASE("config: storage.database as a SQLite path stays the path") {
    auto s = parse("[storage]\ndatabase = \"/var/lib/stemd/jobs.db\"\n", "stemd.toml");
    REQUIRE(s.has_value());
    CHECK(s->storage.database == "/var/lib/stemd/jobs.db");
    CHECK(s->storage.database_uri.empty());
}

TEST_CASE("config: storage.database as a PostgreSQL URI goes to database_uri") {
    for (const std::string_view uri : {"postgresql://stemd@db.lan:5432/stemd",
                                       "postgres://stemd@db.lan/stemd?sslmode=verify-full"}) {
        auto s = parse("[storage]\ndatabase = \"" + std::string(uri) + "\"\n", "stemd.toml");
        REQUIRE(s.has_value());
        CHECK(s->storage.database_uri == uri);
        // The SQLite path keeps its default: its folder still holds api-token.
        CHECK(s->storage.database == storage_settings{}.database);
        CHECK(api_token_file(*s) == storage_settings{}.database.parent_path() / "api-token");
    }
    CHECK(is_postgres_uri("postgresql://h/db"));
    CHECK_FALSE(is_postgres_uri("/var/lib/postgresql/x.db"));
}

TEST_CASE("config: a password in the PostgreSQL URI is refused without being echoed") {
    const std::string secret = "s3cr3t-pass";
    for (const std::string& uri :
         {"postgresql://stemd:" + secret + "@db.lan/stemd",
          "postgres://stemd@db.lan/stemd?sslmode=require&password=" + secret,
          "postgresql://stemd@db.lan/stemd?PASSWORD=" + secret,
          // libpq decodes the names too; the key's passphrase is a secret.
          "postgresql://stemd@db.lan/stemd?pass%77ord=" + secret,
          "postgresql://stemd@db.lan/stemd?sslmode=verify-full&sslpassword=" + secret}) {
        CAPTURE(uri);
        auto s = parse("[storage]\ndatabase = \"" + uri + "\"\n", "/etc/stemd/stemd.toml");
        REQUIRE_FALSE(s.has_value());
        const std::string& m = s.error().message;
        CHECK(m.find("/etc/stemd/stemd.toml") != std::string::npos);
        CHECK(m.find("storage.database") != std::string::npos);
        CHECK(m.find("PGPASSFILE") != std::string::npos);
        CHECK(m.find("pgpass") != std::string::npos);
        CHECK(m.find(secret) == std::string::npos);
    }
    // A user with an @ in a path or a colon in the host part is no password.
    CHECK(parse("[storage]\ndatabase = \"postgresql://stemd@[::1]:5432/db\"\n", "f").has_value());
}

TEST_CASE("config: the pgpass credential is libpq's password file unless PGPASSFILE is set") {
    temp_dir creds;
    env_override dir("CREDENTIALS_DIRECTORY", creds.path().string());
    env_override unset("PGPASSFILE", std::nullopt);
    CHECK(postgres_passfile().empty()); // no such credential
    const auto file = creds.write("pgpass", "db.lan:5432:stemd:stemd:pw\n");
    CHECK(postgres_passfile() == file.string());
    env_override set("PGPASSFILE", "/etc/stemd/other-pgpass");
    CHECK(postgres_passfile().empty()); // libpq reads PGPASSFILE itself
}

TEST_CASE("config: libpq's key=value form is refused, saying to write a URI") {
    for (const std::string text : {"host=db.lan dbname=stemd user=stemd", "dbname=stemd",
                                   "port=5432 host=db"}) {
        CAPTURE(text);
        auto s = parse("[storage]\ndatabase = \"" + text + "\"\n", "/etc/stemd/stemd.toml");
        REQUIRE_FALSE(s.has_value());
        CHECK(s.error().message.find("postgresql://") != std::string::npos);
        CHECK(s.error().message.find("storage.database") != std::string::npos);
    }
    // File names that merely hold an '=' are still SQLite files.
    CHECK(parse("[storage]\ndatabase = \"/srv/a=b/stemd.db\"\n", "f").has_value());
    CHECK(parse("[storage]\ndatabase = \"var/myhost=1.db\"\n", "f").has_value());
}
