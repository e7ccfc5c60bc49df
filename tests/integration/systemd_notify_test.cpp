// What `stemd serve` tells systemd, read from a $NOTIFY_SOCKET the test
// owns: READY=1 once both listeners answer, STATUS= during a job,
// WATCHDOG=1 pings from the event loop (stopping when the loop stalls),
// RELOADING=1 … READY=1 around SIGHUP and STOPPING=1 on SIGTERM.

#include "integration/notify_socket.hpp"
#include "integration/stack.hpp"

#include <boost/json/serialize.hpp>

#include <doctest/doctest.h>

#include <csignal>

namespace json = boost::json;
using namespace stemd;
using namespace stemd::test;
using namespace std::chrono_literals;
using std::chrono::steady_clock;

namespace {

serve_launch notified(const notify_socket& n, std::map<std::string, std::string> more = {}) {
    serve_launch l;
    l.env = std::move(more);
    l.env["NOTIFY_SOCKET"] = n.address();
    l.wait_until_up = false;
    return l;
}

// Whether a gap of `quiet` without a WATCHDOG=1 comes before `deadline`.
bool pings_stop(notify_socket& n, std::chrono::milliseconds quiet, std::chrono::seconds deadline) {
    const auto end = steady_clock::now() + deadline;
    auto last_ping = steady_clock::now();
    while (steady_clock::now() < end) {
        auto m = n.receive(100ms);
        if (m && m->find("WATCHDOG=1") != std::string::npos)
            last_ping = steady_clock::now();
        if (steady_clock::now() - last_ping >= quiet)
            return true;
    }
    return false;
}

} // namespace

TEST_CASE("systemd: READY=1 once both listeners answer, STATUS= during a job, watchdog pings "
          "from the loop stop when it stalls") {
    stack s("systemd-notify", {.stem_bytes = 3'000'000, .rate = 1'000'000});
    s.start_simulator();
    notify_socket n;
    auto launch =
        notified(n, {{"WATCHDOG_USEC", "400000"}, {"STEMD_TEST_FAULT", "stall-loop-on-sigusr2"}});
    launch.extras.pid_variables = {"WATCHDOG_PID"};
    s.start_serve(std::move(launch));

    auto ready = n.until("READY=1", 20s);
    REQUIRE_MESSAGE(ready, s.logs());
    // Checked the moment READY=1 is read: both listeners already answer.
    CHECK(http_request(s.api_port(), "GET", "/healthz").status == 200);
    CHECK(http_request(s.webhook_port(), "POST", "/webhook/not-a-token", "{}").status == 404);
    CHECK_MESSAGE(ready->find("STATUS=0 downloading, 0 MB/s, 0 done today, 0 failed") !=
                      std::string::npos,
                  *ready);

    int pings = 0;
    n.until("never", 1500ms, [&](const std::string& m) { pings += m == "WATCHDOG=1"; });
    CHECK_MESSAGE(pings >= 4, pings << " pings in 1.5 s at a 400 ms watchdog");

    auto [status, created] = s.submit(R"({"audio_url":"https://songs.example/a.mp3",)"
                                      R"("stems":["vocals"]})");
    REQUIRE_MESSAGE(status == 201, json::serialize(created) << s.logs());
    auto during = n.until("STATUS=1 downloading, 1.0 MB/s, 0 done today, 0 failed", 20s);
    CHECK_MESSAGE(during, s.logs());
    s.wait_for(str(created, "id"), "completed");
    auto after = n.until("STATUS=0 downloading, ", 10s);
    REQUIRE(after);
    CHECK_MESSAGE(after->find(", 1 done today, 0 failed") != std::string::npos, *after);

    // The pings keep coming until the loop stalls, then stop.
    CHECK_FALSE(pings_stop(n, 1200ms, 2s));
    s.serve().signal(SIGUSR2);
    CHECK_MESSAGE(pings_stop(n, 1200ms, 6s), s.serve_logs());
    s.kill_serve(); // stalled for 30 s: SIGTERM would wait for it
}

TEST_CASE("systemd: SIGHUP applies a new API key, refuses webhook.listen, keeps a broken file") {
    stack s("systemd-reload");
    const std::string good = read_file(s.config_file());
    const std::string key_line = "api_key = \"integration-test-key\"";
    REQUIRE(good.find(key_line) != std::string::npos);
    auto edited = [&](const std::string& from, const std::string& to, std::string text) {
        text.replace(text.find(from), from.size(), to);
        return text;
    };
    // Started with a key the simulator refuses.
    s.ws().write("stemd.toml", edited(key_line, "api_key = \"wrong-key\"", good));
    s.start_simulator();
    notify_socket n;
    s.start_serve(notified(n));
    REQUIRE_MESSAGE(n.until("READY=1", 20s), s.logs());
    const std::string job = R"({"audio_url":"https://songs.example/a.mp3","stems":["vocals"]})";
    CHECK(s.submit(job).first == 502);

    SUBCASE("the right key and a new webhook.listen") {
        const std::string listen =
            "listen = \"127.0.0.1:" + std::to_string(s.webhook_port()) + "\"";
        s.ws().write("stemd.toml", edited(listen, "listen = \"127.0.0.1:1\"", good));
        s.serve().signal(SIGHUP);
        auto reloading = n.until("RELOADING=1", 10s);
        REQUIRE_MESSAGE(reloading, s.logs());
        CHECK(reloading->find("MONOTONIC_USEC=") != std::string::npos);
        REQUIRE(n.until("READY=1", 10s));
        const auto logs = s.serve_logs();
        CHECK_MESSAGE(logs.find("the MusicGPT API key") != std::string::npos, logs);
        CHECK(logs.find("webhook.listen changed in " + s.config_file().string() +
                        ": needs a restart, still using 127.0.0.1:" +
                        std::to_string(s.webhook_port())) != std::string::npos);
        CHECK(logs.find("integration-test-key") == std::string::npos);
        // The new key is what the simulator sees, and the webhook still
        // arrives on the old port.
        auto [status, created] = s.submit(job);
        REQUIRE_MESSAGE(status == 201, json::serialize(created) << s.logs());
        s.wait_for(str(created, "id"), "completed");
    }
    SUBCASE("a file that no longer parses changes nothing") {
        s.ws().write("stemd.toml", "[musicgpt\napi_key = \"integration-test-key\"\n");
        s.serve().signal(SIGHUP);
        REQUIRE(n.until("RELOADING=1", 10s));
        REQUIRE(n.until("READY=1", 10s));
        const auto logs = s.serve_logs();
        CHECK_MESSAGE(logs.find(s.config_file().string()) != std::string::npos, logs);
        CHECK(logs.find("keeping the whole configuration in use") != std::string::npos);
        CHECK(s.submit(job).first == 502); // still the old (wrong) key
    }
    s.serve().signal(SIGTERM);
    CHECK(n.until("STOPPING=1", 10s));
    CHECK(s.serve().wait(10s) == 0);
}
