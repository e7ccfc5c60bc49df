// Secrets at rest and in the log, with the real binary: the database is
// private from its first start, a config, key file or database others can
// read draws a warning that names the file (never the secret), and bytes a
// peer sends reach the log escaped, one line per event.

#include "integration/stack.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <csignal>

namespace fs = std::filesystem;
using namespace stemd::test;
using namespace std::chrono_literals;

namespace {

fs::perms mode_of(const fs::path& p) {
    return fs::status(p).permissions() & fs::perms::mask;
}

bool has(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

void stop_serve(stack& s) {
    s.serve().signal(SIGTERM);
    REQUIRE(s.serve().wait(10s) == 0);
}

// The config with its key moved into a separate file (api_key and
// api_key_file may not both be set).
void move_key_to_file(stack& s, const fs::path& key_file) {
    std::string text = read_file(s.config_file());
    const std::string inline_key = "api_key = \"integration-test-key\"";
    const auto at = text.find(inline_key);
    REQUIRE(at != std::string::npos);
    text.replace(at, inline_key.size(), "api_key_file = \"" + key_file.string() + "\"");
    s.ws().write("stemd.toml", text);
}

} // namespace

TEST_CASE("the database is created 0600 and an existing one open to others is a warning") {
    stack s("secrets-database");
    s.start_simulator();
    s.start_serve();
    CHECK(mode_of(s.database()) == fs::perms(0600));
    for (const char* suffix : {"-wal", "-shm"}) {
        const fs::path file = s.database().string() + suffix;
        if (fs::exists(file))
            CHECK_MESSAGE(mode_of(file) == fs::perms(0600), file);
    }
    CHECK_FALSE(has(s.serve_logs(), "open to other users"));
    stop_serve(s);

    fs::permissions(s.database(), fs::perms(0644));
    s.start_serve();
    const std::string logs = s.serve_logs();
    CHECK_MESSAGE(has(logs, "database files open to other users"), logs);
    CHECK_MESSAGE(has(logs, "chmod 600 " + s.database().string()), logs);
}

TEST_CASE("a config with signing_secret and a key file readable by others are warnings") {
    const std::string signing = "whsec_c2lnbmluZy1rZXktZm9yLXRoZS1sb2ctdGVzdA==";
    stack s("secrets-warnings", {.signing_secret = signing});
    const fs::path key_file = s.ws().write("api-key", "integration-key-from-file\n");
    move_key_to_file(s, key_file);
    fs::permissions(s.config_file(), fs::perms(0644));
    fs::permissions(key_file, fs::perms(0644));
    s.start_simulator();
    s.start_serve();

    const std::string logs = s.serve_logs();
    CHECK_MESSAGE(has(logs, s.config_file().string() +
                                " is readable by other users and holds webhook.secret and "
                                "webhook.signing_secret; chmod 600 it"),
                  logs);
    CHECK_MESSAGE(has(logs, "musicgpt.api_key_file " + key_file.string() + " is open to other"),
                  logs);
    for (const std::string& secret :
         {signing, signing.substr(6), s.secret(), std::string("integration-key-from-file")}) {
        CAPTURE(secret);
        CHECK_FALSE(has(logs, secret));
    }
}

TEST_CASE("control characters a peer sends reach the log escaped, one line per event") {
    stack s("secrets-log-escape");
    s.start_simulator();
    s.start_serve();
    // A delivery on the shared-secret path: its status is logged ("webhook:
    // <status>, N links"). ESC, CR, LF and NUL in it must not colour the
    // terminal, forge a second log line or cut the line short.
    const std::string body = R"({"task_id":"t-escape","conversion_id":"c","success":true,)"
                             R"("status":"evil\u001b[31m\r\nFORGED error line\u0000end"})";
    const auto answer = http_request(s.webhook_port(), "POST", "/webhook/" + s.secret(), body);
    CAPTURE(answer.body);
    const bool logged = wait_until([&] { return has(s.serve_logs(), "evil"); }, 10s);
    const std::string logs = s.serve_logs();
    REQUIRE_MESSAGE(logged, logs);
    CHECK_FALSE(has(logs, "\x1b"));
    CHECK_FALSE(has(logs, "\r"));
    CHECK(std::count(logs.begin(), logs.end(), '\0') == 0);
    const auto start = logs.rfind('\n', logs.find("evil"));
    const auto end = logs.find('\n', logs.find("evil"));
    const std::string line = logs.substr(start + 1, end - start - 1);
    CAPTURE(line);
    CHECK(has(line, R"(evil\x1B[31m\x0D\x0AFORGED error line\x00end)"));
}
