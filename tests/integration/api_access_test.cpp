// Who may use the local API, with the real binary: the bearer token (made on
// the first start, kept across restarts, found by the CLI) and the Host,
// Origin and Content-Type checks that keep web pages out.

#include "integration/stack.hpp"

#include <boost/json/parse.hpp>

#include <doctest/doctest.h>

#include <sys/stat.h>

#include <csignal>

namespace json = boost::json;
using namespace stemd::test;
using namespace std::chrono_literals;

namespace {

// A request with a Host of the test's choosing, which http_request does not
// allow; `headers` are raw lines ending in CRLF.
http_answer with_host(int port, const std::string& host, const std::string& target,
                      const std::string& headers = "") {
    raw_connection c(port);
    REQUIRE(c.send("GET " + target + " HTTP/1.1\r\nHost: " + host + "\r\n" + headers +
                   "Connection: close\r\n\r\n"));
    return c.read_response();
}

// The "error" of a refusal in the one error shape.
std::string reason(const http_answer& a) {
    const auto body = json::parse(a.body);
    CHECK(body.at("ok") == false);
    return std::string(body.at("error").as_string());
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

std::string bearer(const std::string& token) {
    return "Authorization: Bearer " + token + "\r\n";
}

} // namespace

TEST_CASE("the API wants its token on every request but GET /healthz") {
    stack s("api-token");
    s.start_serve();

    // Made on the first start: 64 hex characters, readable by the group only.
    struct stat st {};
    REQUIRE(::stat(s.token_file().c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0640);
    const std::string token = s.api_token();
    CHECK(token.size() == 64);
    CHECK(token.find_first_not_of("0123456789abcdef") == std::string::npos);
    CHECK(read_file(s.token_file()) == token + "\n");

    const int port = s.api_port();
    auto none = http_request(port, "GET", "/v1/jobs");
    CHECK(none.status == 401);
    CHECK_MESSAGE(contains(reason(none), s.token_file().string()), none.body);
    CHECK(contains(reason(none), "Authorization: Bearer"));
    for (const std::string& wrong :
         {bearer(std::string(64, 'a')), bearer(token.substr(0, 63)), bearer(token + "0"),
          std::string("Authorization: Basic " + token + "\r\n"),
          std::string("Authorization: \r\n")}) {
        CAPTURE(wrong);
        CHECK(http_request(port, "GET", "/v1/jobs", "", "", wrong).status == 401);
    }
    CHECK(http_request(port, "POST", "/v1/jobs/j_1/retry").status == 401);
    CHECK(http_request(port, "POST", "/v1/jobs", R"({"audio_url":"https://a.example/b.mp3"})")
              .status == 401);
    CHECK(http_request(port, "GET", "/v1/jobs", "", "", bearer(token)).status == 200);
    CHECK(http_request(port, "GET", "/healthz", "", "").status == 200);

    // Kept across a restart: clients keep working.
    s.serve().signal(SIGTERM);
    REQUIRE(s.serve().wait(10s) == 0);
    s.start_serve();
    CHECK(s.api_token() == token);
    CHECK(http_request(port, "GET", "/v1/jobs", "", "", bearer(token)).status == 200);

    const std::string logs = s.serve_logs();
    CHECK(contains(logs, s.token_file().string()));
    CHECK_MESSAGE(!contains(logs, token), logs);
}

TEST_CASE("an empty or unreadable token file stops the start, naming it") {
    stack s("api-token-bad");
    s.ws().write("var/api-token", "\n");
    auto empty = run({STEMD_BINARY, "serve", "--config", s.config_file().string()}, 20s);
    CHECK(empty.exit_code != 0);
    CHECK_MESSAGE(contains(empty.err, s.token_file().string() + " is empty"), empty.err);
    CHECK(read_file(s.token_file()) == "\n"); // never replaced behind the user's back

    std::filesystem::remove(s.token_file());
    std::filesystem::create_directories(s.token_file());
    auto unreadable = run({STEMD_BINARY, "serve", "--config", s.config_file().string()}, 20s);
    CHECK(unreadable.exit_code != 0);
    CHECK_MESSAGE(
        contains(unreadable.err, "cannot read the API token file " + s.token_file().string()),
        unreadable.err);
}

TEST_CASE("the CLI finds the token: --token-file, $STEMD_API_TOKEN, the configuration") {
    stack s("api-token-cli");
    s.start_serve();
    const std::string token = s.api_token();
    // The test's own environment must not decide the outcome.
    const std::map<std::string, std::string> no_env{{"STEMD_API_TOKEN", ""}, {"STEMD_CONFIG", ""}};
    auto with_env = [&](const std::string& value) {
        auto env = no_env;
        env["STEMD_API_TOKEN"] = value;
        return env;
    };

    auto by_option =
        run({STEMD_BINARY, "list", "--api", s.api_url(), "--token-file", s.token_file().string()},
            30s, no_env);
    CHECK_MESSAGE(by_option.exit_code == 0, by_option.err);
    auto by_env = run({STEMD_BINARY, "list", "--api", s.api_url()}, 30s, with_env(token));
    CHECK_MESSAGE(by_env.exit_code == 0, by_env.err);
    auto by_config = run({STEMD_BINARY, "list", "--config", s.config_file().string()}, 30s, no_env);
    CHECK_MESSAGE(by_config.exit_code == 0, by_config.err);

    auto wrong = run({STEMD_BINARY, "list", "--api", s.api_url()}, 30s, with_env("not-the-token"));
    CHECK(wrong.exit_code == 1);
    CHECK_MESSAGE(contains(wrong.err, "HTTP 401"), wrong.err);
    CHECK_MESSAGE(!contains(wrong.err + wrong.out, token), wrong.err);

    // A configuration whose database lives elsewhere: no token beside it.
    const auto other =
        s.ws().write("other.toml", "[api]\nlisten = \"127.0.0.1:" + std::to_string(s.api_port()) +
                                       "\"\n[storage]\ndatabase = \"" +
                                       (s.ws() / "elsewhere" / "stemd.db").string() + "\"\n");
    auto missing = run({STEMD_BINARY, "list", "--config", other.string()}, 30s, no_env);
    CHECK(missing.exit_code == 1);
    CHECK_MESSAGE(contains(missing.err, "cannot read the API token file " +
                                            (s.ws() / "elsewhere" / "api-token").string()),
                  missing.err);
    CHECK(contains(missing.err, "--token-file"));
    auto no_file = run({STEMD_BINARY, "status", "j_1", "--api", s.api_url(), "--token-file",
                        "/nonexistent/api-token"},
                       30s, no_env);
    CHECK(no_file.exit_code == 1);
    CHECK_MESSAGE(contains(no_file.err, "/nonexistent/api-token (--token-file)"), no_file.err);

    CHECK(contains(run({STEMD_BINARY, "--help"}).out, "--token-file"));
    CHECK(contains(run({STEMD_BINARY, "submit", "--help"}).out, "--token-file"));
}

TEST_CASE("a foreign Host, a foreign Origin and a non-JSON POST are refused") {
    stack s("api-browser", {.api_config = "allowed_hosts = [\"stemd.lan\"]\n"});
    s.start_serve();
    const int port = s.api_port();
    const std::string auth = bearer(s.api_token());
    const std::string p = std::to_string(port);

    // DNS rebinding: a page of evil.example whose name now points at 127.0.0.1.
    for (const std::string& host : std::vector<std::string>{"evil.example", "evil.example:" + p}) {
        for (const char* target : {"/v1/jobs", "/healthz"}) {
            auto a = with_host(port, host, target, auth);
            CHECK(a.status == 421);
            CHECK_MESSAGE(contains(reason(a), "api.allowed_hosts"), a.body);
        }
    }
    for (const std::string& host : std::vector<std::string>{
             "localhost:" + p, "[::1]:" + p, "127.0.0.1", "stemd.lan:" + p, "STEMD.lan"}) {
        CAPTURE(host);
        CHECK(with_host(port, host, "/v1/jobs", auth).status == 200);
    }

    // A page of another origin, even with the token (a stolen one, say).
    auto foreign = s.api_request("GET", "/v1/jobs", "", "", "Origin: http://evil.example\r\n");
    CHECK(foreign.status == 403);
    CHECK_MESSAGE(contains(reason(foreign), "evil.example"), foreign.body);
    CHECK(s.api_request("GET", "/v1/jobs", "", "", "Origin: null\r\n").status == 403);
    CHECK(s.api_request("POST", "/v1/jobs", "{}", "application/json",
                        "Origin: http://evil.example\r\n")
              .status == 403);
    CHECK(
        s.api_request("GET", "/v1/jobs", "", "", "Origin: http://127.0.0.1:" + p + "\r\n").status ==
        200);

    // What a cross-site form can send without asking first.
    for (const char* type : {"text/plain", "application/x-www-form-urlencoded", ""}) {
        CAPTURE(type);
        auto a =
            s.api_request("POST", "/v1/jobs", R"({"audio_url":"https://a.example/b.mp3"})", type);
        CHECK(a.status == 415);
        CHECK_MESSAGE(contains(reason(a), "application/json"), a.body);
        CHECK(s.api_request("POST", "/v1/jobs/j_1/retry", "", type).status == 415);
    }
    auto json_with_charset =
        s.api_request("POST", "/v1/jobs", "{}", "application/json; charset=utf-8");
    CHECK(json_with_charset.status != 415);
    CHECK(json_with_charset.status != 401);
    // Nothing got through.
    CHECK(json::parse(s.api_request("GET", "/v1/jobs").body).at("jobs").as_array().empty());
}

TEST_CASE("every API route refuses a query parameter it does not take, and does nothing") {
    stack s("api-query");
    s.start_simulator();
    s.start_serve();
    auto [status, job] = s.submit(R"({"audio_url":"https://songs.example/a.mp3"})");
    REQUIRE(status == 201);
    const std::string id = str(job, "id");
    s.wait_for(id, "completed");

    struct probe {
        std::string method, target, body;
    };
    const std::vector<probe> probes{
        {"GET", "/healthz?x=1", ""},
        {"GET", "/metrics?x=1", ""},
        {"GET", "/v1/jobs?statsu=failed", ""},
        {"POST", "/v1/jobs?bogus=1", R"({"audio_url":"https://songs.example/b.mp3"})"},
        {"GET", "/v1/jobs/" + id + "?foo=1", ""},
        {"GET", "/v1/jobs/" + id + "/events?limit=5&bogus=1", ""},
        {"POST", "/v1/jobs/" + id + "/retry?bogus=1", "{}"},
        // Without the check this would prune the completed job.
        {"POST", "/v1/prune?bogus=1", R"({"older_than_seconds":0})"},
        {"POST", "/v1/doctor?bogus=1", "{}"},
    };
    for (const auto& p : probes) {
        const auto r = s.api_request(p.method, p.target, p.body);
        INFO(p.method << " " << p.target << " -> " << r.status << " " << r.body);
        CHECK(r.status == 400);
        const std::string named = p.target.find("bogus") != std::string::npos    ? "bogus"
                                  : p.target.find("statsu") != std::string::npos ? "statsu"
                                  : p.target.find("foo") != std::string::npos    ? "foo"
                                                                                 : "x";
        CHECK(r.body.find("unknown query parameter \\\"" + named + "\\\"") != std::string::npos);
    }
    // Nothing was done: the job is still there, the only one.
    CHECK(s.api_request("GET", "/v1/jobs/" + id).status == 200);
    const auto all = s.api_request("GET", "/v1/jobs");
    CHECK(json::parse(all.body).at("jobs").as_array().size() == 1);

    // The parameters a route does take still work; an empty status is no filter.
    CHECK(s.api_request("GET", "/v1/jobs?status=completed&limit=5&since=2000-01-01T00:00:00Z")
              .status == 200);
    const auto any = s.api_request("GET", "/v1/jobs?status=");
    CHECK(any.status == 200);
    CHECK(json::parse(any.body).at("jobs").as_array().size() == 1);
    CHECK(s.api_request("GET", "/v1/jobs/" + id + "/events?limit=5").status == 200);
}
