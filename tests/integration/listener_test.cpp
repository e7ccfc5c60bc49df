// The public listener under hostile or unusual input, with the real binary:
// HTTPS on the webhook listener and its reload on SIGHUP, Standard Webhooks
// signatures, and the limits on headers, bodies, slow senders, idle
// keep-alive and open connections.

#include "integration/stack.hpp"

#include "client/connection.hpp"
#include "client/url.hpp"
#include "support/reference_signature.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <doctest/doctest.h>

#include <sys/stat.h>

#include <csignal>
#include <optional>

namespace json = boost::json;
namespace net = boost::asio;
namespace http = boost::beast::http;
using namespace stemd;
using namespace stemd::test;
using namespace std::chrono_literals;
using std::chrono::steady_clock;

namespace {

// ------------------------------------------------------------------ TLS

// Runs one coroutine to completion on `ctx` (which may be reused).
template <class T>
T run_on(net::io_context& ctx, net::awaitable<T> work) {
    std::optional<T> out;
    std::exception_ptr failure;
    net::co_spawn(ctx, std::move(work), [&](std::exception_ptr e, T value) {
        failure = e;
        if (!e)
            out.emplace(std::move(value));
    });
    ctx.restart();
    ctx.run();
    if (failure)
        std::rethrow_exception(failure);
    return std::move(*out);
}

client::connect_options quick() {
    client::connect_options o;
    o.connect_timeout = 2s;
    o.io_timeout = 5s;
    return o;
}

client::http_url https_url(int port) {
    return *client::parse_http_url("https://127.0.0.1:" + std::to_string(port) + "/");
}

net::awaitable<bool> open_into(std::optional<client::connection>& out, client::http_url url,
                               net::ssl::context& tls) {
    auto c = co_await client::connection::open(url, quick(), tls);
    if (!c)
        co_return false;
    out.emplace(std::move(*c));
    co_return true;
}

// One GET on an open connection, kept alive; the status or 0.
net::awaitable<int> get_status(client::connection& c) {
    http::request<http::string_body> req{http::verb::get, "/", 11};
    req.set(http::field::host, "127.0.0.1");
    if (!co_await c.write(req))
        co_return 0;
    auto res = co_await c.read(64 * 1024);
    co_return res ? static_cast<int>(res->result_int()) : 0;
}

// Does a new TLS connection to the port verify against this CA alone
// (besides the system store, which knows nothing of test CAs)?
bool verifies_with(int port, const std::filesystem::path& ca) {
    net::io_context ctx;
    auto tls = client::make_tls_client_context(ca.string());
    std::optional<client::connection> c;
    return run_on(ctx, open_into(c, https_url(port), *tls));
}

void replace_file(const std::filesystem::path& from, const std::filesystem::path& to) {
    std::filesystem::copy_file(from, to, std::filesystem::copy_options::overwrite_existing);
}

// ------------------------------------------------------------ signatures

std::string unix_seconds(std::chrono::seconds offset = 0s) {
    auto now = std::chrono::system_clock::now() + offset;
    return std::to_string(
        std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count());
}

std::string signature_headers(const std::string& id, const std::string& timestamp,
                              const std::string& signature) {
    return "webhook-id: " + id + "\r\nwebhook-timestamp: " + timestamp +
           "\r\nwebhook-signature: " + signature + "\r\n";
}

const std::string signing_key = "listener-test signing key, 32 b";
const std::string signing_secret = "whsec_" + openssl_base64(signing_key);

// ---------------------------------------------------------------- limits

std::string get(const std::string& target, const std::string& extra = "") {
    return "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra + "\r\n";
}

std::chrono::milliseconds since(steady_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(steady_clock::now() - t);
}

} // namespace

TEST_CASE("a whole job completes with HTTPS on the webhook listener") {
    stack s("listener-https", {.webhook_tls = true});
    s.start_simulator();
    s.start_serve();
    auto [status, created] =
        s.submit(R"({"audio_url":"https://songs.example/t.mp3","stems":["vocals","drums"]})");
    REQUIRE_MESSAGE(status == 201, json::serialize(created) << s.logs());
    auto job = s.wait_for(str(created, "id"), "completed");
    check_files(s, job, 64 * 1024);

    auto deliveries = s.simulator_get("/sim/deliveries").second;
    REQUIRE(deliveries.is_array());
    REQUIRE(deliveries.as_array().size() == 1);
    CHECK(str(deliveries.as_array()[0], "url").starts_with("https://127.0.0.1:"));
    // Plain HTTP on the TLS port gets no HTTP answer.
    CHECK(http_request(s.webhook_port(), "POST", "/webhook/x", "{}").status == 0);
    CHECK(s.serve_logs().find("webhooks on https://") != std::string::npos);
}

TEST_CASE("SIGHUP reloads the webhook certificate for new connections only") {
    stack s("listener-sighup", {.webhook_tls = true});
    s.start_serve();
    const int port = s.webhook_port();
    const auto first_ca = s.ca().ca_cert;
    const test_ca second = make_test_ca(s.ws() / "tls-renewed");

    CHECK(verifies_with(port, first_ca));
    CHECK(!verifies_with(port, second.ca_cert));

    // A connection made before the reload, kept alive across it.
    net::io_context ctx;
    auto first_trust = client::make_tls_client_context(first_ca.string());
    std::optional<client::connection> kept;
    REQUIRE(run_on(ctx, open_into(kept, https_url(port), *first_trust)));
    CHECK(run_on(ctx, get_status(*kept)) == 404);

    replace_file(second.server_cert, s.webhook_cert());
    replace_file(second.server_key, s.webhook_key());
    s.serve().signal(SIGHUP);
    CHECK_MESSAGE(wait_until([&] { return verifies_with(port, second.ca_cert); }, 10s), s.logs());
    CHECK(!verifies_with(port, first_ca));
    CHECK(s.serve_logs().find("reloaded the webhook TLS certificate") != std::string::npos);
    // The old connection still works with the certificate it started with.
    CHECK(run_on(ctx, get_status(*kept)) == 404);

    SUBCASE("a certificate that cannot be used is reported and the current one kept") {
        s.ws().write("webhook-tls/cert.pem", "-----BEGIN CERTIFICATE-----\nhalf written");
        s.serve().signal(SIGHUP);
        CHECK_MESSAGE(wait_until(
                          [&] {
                              return s.serve_logs().find("still using the previous webhook TLS") !=
                                     std::string::npos;
                          },
                          10s),
                      s.logs());
        CHECK(s.serve_logs().find(s.webhook_cert().string()) != std::string::npos);
        CHECK(s.serve().running());
        CHECK(verifies_with(port, second.ca_cert));
    }
    SUBCASE("a key that does not match the certificate is refused too") {
        replace_file(s.ca().server_key, s.webhook_key());
        s.serve().signal(SIGHUP);
        CHECK_MESSAGE(wait_until(
                          [&] {
                              return s.serve_logs().find("does not belong to the certificate") !=
                                     std::string::npos;
                          },
                          10s),
                      s.logs());
        CHECK(s.serve().running());
        CHECK(verifies_with(port, second.ca_cert));
    }
}

TEST_CASE("unusable webhook TLS files or signing secret stop serve at start, named") {
    SUBCASE("missing key file") {
        stack s("listener-badtls", {.webhook_tls = true});
        std::filesystem::remove(s.webhook_key());
        auto r = run({STEMD_BINARY, "serve", "--config", s.config_file().string()}, 20s);
        CHECK(r.exit_code != 0);
        CHECK_MESSAGE(r.err.find(s.webhook_key().string()) != std::string::npos, r.err);
        CHECK(r.err.find("webhook.tls_cert/tls_key") != std::string::npos);
    }
    SUBCASE("a certificate that is not PEM") {
        stack s("listener-badcert", {.webhook_tls = true});
        s.ws().write("webhook-tls/cert.pem", "not a certificate");
        auto r = run({STEMD_BINARY, "serve", "--config", s.config_file().string()}, 20s);
        CHECK(r.exit_code != 0);
        CHECK_MESSAGE(r.err.find(s.webhook_cert().string()) != std::string::npos, r.err);
    }
    SUBCASE("a signing secret that is not base64") {
        const std::string bad = "whsec_" + std::string(30, '!');
        stack s("listener-badsecret", {.signing_secret = bad});
        auto r = run({STEMD_BINARY, "serve", "--config", s.config_file().string()}, 20s);
        CHECK(r.exit_code != 0);
        CHECK_MESSAGE(r.err.find("webhook.signing_secret") != std::string::npos, r.err);
        CHECK(r.err.find(bad) == std::string::npos);
    }
}

TEST_CASE("signed deliveries: only valid, fresh, first-time signatures are applied") {
    stack s("listener-signed", {.api_version = "v1", .signing_secret = signing_secret});
    s.start_simulator();
    s.start_serve();
    auto [status, created] =
        s.submit(R"({"audio_url":"https://songs.example/s.mp3","stems":["vocals"]})");
    REQUIRE_MESSAGE(status == 201, json::serialize(created) << s.logs());
    const std::string id = str(created, "id");
    const std::string task = str(created, "task_id");

    // The simulator posts unsigned, as MusicGPT itself does: refused.
    CHECK_MESSAGE(wait_until(
                      [&] {
                          auto stats = s.simulator_get("/sim/stats").second;
                          return stats.is_object() &&
                                 stats.at("webhook_failures").to_number<int>() >= 1;
                      },
                      20s),
                  s.logs());
    CHECK(s.serve_logs().find("missing webhook-id header") != std::string::npos);
    CHECK(str(s.job(id), "status") == "submitted");

    const std::string target = "/webhook/" + s.secret();
    const std::string body = json::serialize(json::object{
        {"success", true},
        {"task_id", task},
        {"conversion_id", str(created, "conversion_id")},
        {"vocals", "https://127.0.0.1:" + std::to_string(s.sim_port()) + "/files/" + task +
                       "/vocals.wav"}});
    const std::string msg = "msg_listener_1";
    auto post = [&](const std::string& headers, const std::string& bytes = "",
                    const std::string& path = "") {
        return http_request(s.webhook_port(), "POST", path.empty() ? target : path,
                            bytes.empty() ? body : bytes, "application/json", headers);
    };
    auto expect_refused = [&](const http_answer& a, const std::string& phrase) {
        CHECK(a.status == 401);
        CHECK_MESSAGE(a.body.find(phrase) != std::string::npos, a.body);
    };

    const std::string now = unix_seconds();
    const std::string good = openssl_sign(signing_key, msg, now, body);
    expect_refused(post(""), "missing webhook-id header");
    expect_refused(post("webhook-id: " + msg + "\r\nwebhook-timestamp: " + now + "\r\n"),
                   "missing webhook-signature header");
    expect_refused(post(signature_headers(msg, now, openssl_sign("another key", msg, now, body))),
                   "no valid signature");
    expect_refused(post(signature_headers(msg, now, good), body + " "), "no valid signature");
    std::string tampered = body;
    tampered.replace(tampered.find("vocals.wav"), 6, "drums!");
    expect_refused(post(signature_headers(msg, now, good), tampered), "no valid signature");
    for (auto skew : {-400s, 400s}) {
        const std::string ts = unix_seconds(skew);
        expect_refused(post(signature_headers(msg, ts, openssl_sign(signing_key, msg, ts, body))),
                       "5 minute");
    }
    // The signature is checked before the body is parsed, the token before both.
    expect_refused(post(signature_headers(msg, now, good), "{not json"), "no valid signature");
    CHECK(post(signature_headers(msg, now, good), body, "/webhook/" + std::string(64, 'b'))
              .status == 404);
    CHECK(str(s.job(id), "status") == "submitted");
    CHECK(s.job(id).at("files").as_array().empty());

    // Several signatures (a relay rotating keys): one valid is enough. The
    // refusals above did not use up the id.
    const std::string rotated = openssl_sign("the relay's old key", msg, now, body) + " " + good;
    auto accepted = post(signature_headers(msg, now, rotated));
    REQUIRE_MESSAGE(accepted.status == 200, accepted.body << s.logs());
    CHECK(json::parse(accepted.body) == json::parse(R"({"ok":true})"));
    auto job = s.wait_for(id, "completed");
    check_files(s, job, 64 * 1024);
    const std::string path = str(job.at("files").as_array()[0], "path");
    struct stat before {};
    REQUIRE(::stat(path.c_str(), &before) == 0);

    // Replays of that id, as captured or re-signed with a new timestamp:
    // acknowledged, not applied.
    const std::string later = unix_seconds(2s);
    for (const auto& headers :
         {signature_headers(msg, now, rotated),
          signature_headers(msg, later, openssl_sign(signing_key, msg, later, body))}) {
        auto replay = post(headers);
        CHECK(replay.status == 200);
        CHECK_MESSAGE(json::parse(replay.body) == json::parse(R"({"ok":true,"duplicate":true})"),
                      replay.body);
    }
    CHECK(json::serialize(s.job(id)) == json::serialize(job));
    struct stat after {};
    REQUIRE(::stat(path.c_str(), &after) == 0);
    CHECK(after.st_ino == before.st_ino);
    CHECK(after.st_mtim.tv_sec == before.st_mtim.tv_sec);
    CHECK(after.st_mtim.tv_nsec == before.st_mtim.tv_nsec);
    CHECK(files_under(s.output_dir()).size() == 1);
}

TEST_CASE("both listeners refuse oversized headers and bodies") {
    stack s("listener-sizes");
    s.start_serve();
    for (int port : {s.webhook_port(), s.api_port()}) {
        CAPTURE(port);
        // Just under 8 KiB of header block is served; just over is 431.
        {
            raw_connection c(port);
            REQUIRE(c.send(get("/healthz", "X-Padding: " + std::string(7 * 1024, 'a') + "\r\n")));
            auto a = c.read_response();
            CHECK(a.status != 0);
            CHECK(a.status != 431);
        }
        {
            raw_connection c(port);
            REQUIRE(c.send(get("/healthz", "X-Padding: " + std::string(9 * 1024, 'a') + "\r\n")));
            CHECK(c.read_response().status == 431);
            CHECK(c.closed_within(5s));
        }
        // Exactly 1 MiB of body reaches the handler; one byte more is 413,
        // decided from Content-Length before any of the body is read.
        const std::string target = port == s.api_port() ? "/v1/jobs" : "/webhook/x";
        auto at_limit = http_request(port, "POST", target, std::string(1024 * 1024, 'a'));
        CHECK(at_limit.status != 0);
        CHECK(at_limit.status != 413);
        {
            raw_connection c(port);
            REQUIRE(c.send("POST " + target +
                           " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1048577\r\n\r\n{"));
            CHECK(c.read_response().status == 413);
        }
        // A chunked body has no length to judge up front: cut at the limit.
        {
            raw_connection c(port);
            REQUIRE(c.send("POST " + target +
                           " HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"));
            std::string chunk(64 * 1024, 'a');
            char size_line[32];
            std::snprintf(size_line, sizeof size_line, "%zx\r\n", chunk.size());
            for (int i = 0; i < 17 && c.send(size_line + chunk + "\r\n"); ++i) {
            }
            CHECK(c.read_response().status == 413);
        }
    }
    CHECK(s.serve().running());
}

// The refusal is decided from the header while the client is still
// uploading far more than the socket buffers hold. Closing at once would
// make the kernel answer the unread bytes with a reset, which destroys the
// 413 before the client reads it; the listener must drain instead.
TEST_CASE("a refused upload is answered while the client is still sending it") {
    const std::string huge(24 * 1024 * 1024, 'a');
    SUBCASE("plain HTTP, both listeners") {
        stack s("listener-linger");
        s.start_serve();
        for (int port : {s.webhook_port(), s.api_port()}) {
            CAPTURE(port);
            const std::string target = port == s.api_port() ? "/v1/jobs" : "/webhook/x";
            auto a = http_request(port, "POST", target, huge);
            CHECK_MESSAGE(a.status == 413, a.body);
            CHECK(a.body.find("too large") != std::string::npos);
        }
        CHECK(s.serve().running());
    }
    SUBCASE("HTTPS on the webhook listener") {
        stack s("listener-linger-tls", {.webhook_tls = true});
        s.start_serve();
        net::io_context ctx;
        auto trust = client::make_tls_client_context(s.ca().ca_cert.string());
        std::optional<client::connection> c;
        REQUIRE(run_on(ctx, open_into(c, https_url(s.webhook_port()), *trust)));
        auto post = [&]() -> net::awaitable<int> {
            http::request<http::string_body> req{http::verb::post, "/webhook/x", 11};
            req.set(http::field::host, "127.0.0.1");
            req.body() = huge;
            req.prepare_payload();
            if (!co_await c->write(req))
                co_return 0;
            auto res = co_await c->read(64 * 1024);
            co_return res ? static_cast<int>(res->result_int()) : 0;
        };
        CHECK(run_on(ctx, post()) == 413);
        CHECK(s.serve().running());
    }
}

TEST_CASE("slow senders and idle keep-alive connections are dropped on time") {
    stack s("listener-timeouts", {.limits_config = "request_timeout = 1\nidle_timeout = 1\n"});
    s.start_serve();
    const int port = s.webhook_port();

    SUBCASE("half a request, then nothing") {
        raw_connection c(port);
        REQUIRE(c.send("POST /webhook/x HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n"
                       "\r\n" + std::string(50, '{')));
        const auto start = steady_clock::now();
        CHECK(c.closed_within(5s));
        CHECK(since(start) >= 500ms);
    }
    SUBCASE("a byte every 100 ms: the whole request has a deadline, not each read") {
        raw_connection c(port);
        const std::string request = get("/healthz", "X-Slow: " + std::string(200, 'a') + "\r\n");
        const auto start = steady_clock::now();
        bool closed = false;
        for (char byte : request) {
            if (!c.send(std::string(1, byte)) || c.closed_within(100ms)) {
                closed = true;
                break;
            }
        }
        CHECK(closed);
        CHECK(since(start) < 4s);
    }
    SUBCASE("a kept-alive connection is served, then closed after idling") {
        raw_connection c(s.api_port());
        REQUIRE(c.send(get("/healthz")));
        CHECK(c.read_response().status == 200);
        REQUIRE(c.send(get("/healthz")));
        CHECK(c.read_response().status == 200);
        const auto start = steady_clock::now();
        CHECK(c.closed_within(5s));
        CHECK(since(start) >= 500ms);
    }
    CHECK(s.serve().running());
    CHECK(http_request(s.api_port(), "GET", "/healthz").status == 200);
}

TEST_CASE("connections beyond max_connections are closed at once") {
    stack s("listener-cap", {.limits_config = "max_connections = 4\n"});
    s.start_serve();
    const int port = s.webhook_port();

    // Four connections, each proven accepted by an answer, then held idle.
    std::vector<std::unique_ptr<raw_connection>> held;
    for (int i = 0; i < 4; ++i) {
        held.push_back(std::make_unique<raw_connection>(port));
        REQUIRE(held.back()->send(get("/")));
        REQUIRE(held.back()->read_response().status == 404);
    }
    // The fifth is closed without a word, the four keep working, and the
    // other listener has its own allowance.
    {
        raw_connection fifth(port);
        fifth.send(get("/"));
        auto a = fifth.read_response(5s);
        CHECK(a.status == 0);
        CHECK_MESSAGE(a.body == "connection closed without a response", a.body);
    }
    for (auto& c : held) {
        REQUIRE(c->send(get("/")));
        CHECK(c->read_response().status == 404);
    }
    CHECK(http_request(s.api_port(), "GET", "/healthz").status == 200);

    // Once one of the four goes, a new connection is served again.
    held.pop_back();
    CHECK(wait_until(
        [&] {
            raw_connection c(port);
            return c.send(get("/")) && c.read_response(2s).status == 404;
        },
        10s));
}
