// The webhook listener over HTTPS with the real binary: a whole job, the
// certificate's reload on SIGHUP, and unusable TLS files or signing secret
// at start.

#include "integration/stack.hpp"
#include "integration/tls_client.hpp"

#include <boost/json/serialize.hpp>

#include <doctest/doctest.h>

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

// One GET on an open connection, kept alive; the status or 0.
net::awaitable<int> get_status(client::connection& c) {
    http::request<http::string_body> req{http::verb::get, "/", 11};
    req.set(http::field::host, "127.0.0.1");
    return status_of(c, std::move(req));
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
