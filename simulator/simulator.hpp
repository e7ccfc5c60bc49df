#pragma once

// `stemd simulate`: a local stand-in for MusicGPT (see README.md).

#include <chrono>
#include <cstdint>
#include <string>

namespace stemd::simulator {

struct simulator_options {
    std::string listen = "127.0.0.1:8090";
    std::string tls_cert; // PEM; with tls_key enables HTTPS
    std::string tls_key;
    // Base URL of the simulator as the stem links and logs show it; derived
    // from listen (and TLS) when empty.
    std::string public_url;
    // Extra CA (PEM) trusted when posting webhooks to https URLs.
    std::string webhook_ca_file;
    // Required Authorization value; any non-empty value is accepted when "".
    std::string api_key;
    std::chrono::milliseconds webhook_delay{300};
    std::uint64_t stem_bytes = 256 * 1024; // size of each generated stem
    std::uint64_t rate = 0;                // bytes/s per download, 0 = unlimited
    // Never deliver webhooks, even when a submission names a webhook_url:
    // results are then found only through byId.
    bool no_webhooks = false;
    // When positive, stem links carry an expiry (expires=<unix ms>) and are
    // refused with 403 after it. A webhook's links are signed when the task
    // is accepted, so a webhook_delay longer than this delivers expired
    // links; byId signs afresh on every answer.
    std::chrono::milliseconds link_ttl{0};
    // When positive, byId answers at most this many calls per status_window
    // (sliding), then 429 with Retry-After until a call leaves the window.
    std::uint64_t status_limit = 0;
    std::chrono::milliseconds status_window{60'000};
    // How far ahead of the machine's clock the Date header of every answer
    // is (a MusicGPT whose clock, or ours, is off).
    std::chrono::seconds clock_ahead{0};
};

// Runs `stemd simulate` until SIGINT/SIGTERM; returns the exit code.
int run_simulator(const simulator_options& options);

} // namespace stemd::simulator
