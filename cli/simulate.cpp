// `stemd simulate`: reads the simulator's options and hands over to it.

#include "cli/command.hpp"
#include "cli/error.hpp"
#include "simulator/simulator.hpp"

#include <chrono>
#include <cstdint>
#include <string>

namespace stemd::cli {

namespace {

using simulator::simulator_options;

void describe(option_set& o) {
    const simulator_options defaults;
    o.value("listen", "ADDR", defaults.listen, "host:port to listen on ([v6]:port for IPv6)");
    o.value("tls-cert", "FILE", "PEM certificate; with --tls-key the simulator speaks HTTPS");
    o.value("tls-key", "FILE", "PEM private key of --tls-cert");
    o.value("public-url", "URL",
            "base URL the stem links point at (default: derived from --listen)");
    o.value("api-key", "KEY", "Authorization value to require (default: any non-empty value)");
    o.value("webhook-ca", "FILE", "extra CA (PEM) trusted when posting webhooks to https URLs");
    o.value("webhook-delay-ms", "N", std::to_string(defaults.webhook_delay.count()),
            "milliseconds between a submission and its webhook");
    o.value("stem-bytes", "N", std::to_string(defaults.stem_bytes),
            "size of each generated stem in bytes");
    o.value("rate", "BYTES_PER_SEC", std::to_string(defaults.rate),
            "download speed per transfer; 0 = unlimited");
    o.flag("no-webhooks", "never deliver webhooks; results only through byId");
    o.value("link-ttl-ms", "N", std::to_string(defaults.link_ttl.count()),
            "stem links expire N ms after signing (webhook links at acceptance, byId links at "
            "each answer) and are refused with 403 after; 0 = never");
    o.value("status-limit", "N", std::to_string(defaults.status_limit),
            "byId answers at most N calls per --status-window-ms, then 429 with Retry-After; "
            "0 = unlimited");
    o.value("status-window-ms", "N", std::to_string(defaults.status_window.count()),
            "the sliding window of --status-limit");
    o.value("clock-ahead-s", "N", "0",
            "the Date header of every answer is N seconds ahead of this machine's clock (to "
            "test clock checks)");
}

// The numeric options, each checked as a whole number and within its range.
result<void> read_numbers(const boost::program_options::variables_map& vm,
                          simulator_options& options) {
    const auto count = [&](const char* name) {
        return parse_count(vm[name].as<std::string>(), name);
    };
    const auto delay = count("webhook-delay-ms");
    const auto stem_bytes = count("stem-bytes");
    const auto rate = count("rate");
    const auto ttl = count("link-ttl-ms");
    const auto status_limit = count("status-limit");
    const auto window = count("status-window-ms");
    const auto ahead = count("clock-ahead-s");
    for (const auto* parsed : {&delay, &stem_bytes, &rate, &ttl, &status_limit, &window, &ahead}) {
        if (!*parsed)
            return parsed->error();
    }
    constexpr std::uint64_t day_ms = 24ull * 3600 * 1000;
    if (*delay > day_ms)
        return usage_error("--webhook-delay-ms is at most a day (86400000)");
    if (*ttl > day_ms)
        return usage_error("--link-ttl-ms is at most a day (86400000)");
    if (*window == 0 || *window > day_ms)
        return usage_error("--status-window-ms is from 1 to 86400000");
    if (*ahead > day_ms / 1000)
        return usage_error("--clock-ahead-s is at most a day (86400)");
    options.clock_ahead = std::chrono::seconds(*ahead);
    options.webhook_delay = std::chrono::milliseconds(*delay);
    options.stem_bytes = *stem_bytes;
    options.rate = *rate;
    options.link_ttl = std::chrono::milliseconds(*ttl);
    options.status_limit = *status_limit;
    options.status_window = std::chrono::milliseconds(*window);
    return {};
}

result<simulator_options> options_from(const boost::program_options::variables_map& vm) {
    simulator_options options;
    options.listen = vm["listen"].as<std::string>();
    options.tls_cert = optional_string(vm, "tls-cert").value_or("");
    options.tls_key = optional_string(vm, "tls-key").value_or("");
    if (options.tls_cert.empty() != options.tls_key.empty())
        return usage_error("HTTPS needs both --tls-cert and --tls-key; give both or neither");
    options.public_url = optional_string(vm, "public-url").value_or("");
    options.api_key = optional_string(vm, "api-key").value_or("");
    options.webhook_ca_file = optional_string(vm, "webhook-ca").value_or("");
    options.no_webhooks = vm["no-webhooks"].as<bool>();
    if (auto numbers = read_numbers(vm, options); !numbers)
        return numbers.error();
    return options;
}

result<int> run(const boost::program_options::variables_map& vm) {
    auto options = options_from(vm);
    if (!options)
        return options.error();
    return run_entry_point("simulate", [&] { return simulator::run_simulator(*options); });
}

} // namespace

const command& simulate_command() {
    static const command c{
        "simulate",
        "[--listen ADDR] [--tls-cert FILE --tls-key FILE] [OPTIONS]",
        "run a local stand-in for the MusicGPT API (tests and demos)",
        "Set musicgpt.base_url to http://ADDR/api/public (and download.allow_http and\n"
        "download.allow_private_addresses, as it serves plain HTTP on loopback).\n",
        describe,
        run,
    };
    return c;
}

} // namespace stemd::cli
