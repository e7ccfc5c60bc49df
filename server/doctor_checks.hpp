#pragma once

// What `stemd doctor` concludes from what it saw: each check's level and a
// message saying what was found and what to do. Pure functions of plain
// facts, so every verdict is tested without a network; the daemon (POST
// /v1/doctor) and the CLI gather the facts.

#include "common/time.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stemd::server {

enum class check_level { ok, warning, problem };

std::string_view to_string(check_level level) noexcept;
std::optional<check_level> parse_check_level(std::string_view text) noexcept;

struct check {
    std::string name;
    check_level level = check_level::ok;
    std::string message;
};

// The names, in the order doctor prints them.
inline constexpr std::string_view check_config = "config";
inline constexpr std::string_view check_api_key = "api key";
inline constexpr std::string_view check_clock = "clock";
inline constexpr std::string_view check_output_dir = "output dir";
inline constexpr std::string_view check_database = "database"; // a PostgreSQL store only
inline constexpr std::string_view check_certificate = "certificate";
inline constexpr std::string_view check_daemon = "daemon";
inline constexpr std::string_view check_public_url = "public url";
inline constexpr std::string_view check_stuck_jobs = "stuck jobs";

// The most a clock may differ from MusicGPT's before signed webhooks (whose
// timestamps are checked within minutes) and expiring links suffer.
inline constexpr millis clock_tolerance = 60'000;
// A certificate this close to its end is a warning.
inline constexpr millis certificate_warning = 14 * 86'400'000LL;

// MusicGPT's answer to a status look-up of a task that cannot exist.
struct key_answer {
    std::string unreachable; // why no answer came; "" when one did
    unsigned http_status = 0;
    std::string error_code;
    std::string message;
};
check api_key_check(const key_answer& a, std::string_view base_url);

// `server_date`: MusicGPT's Date header read (nullopt: none or unreadable);
// `local`: this machine's clock when the answer arrived.
check clock_check(std::optional<millis> server_date, millis local);

struct output_dir_facts {
    std::string dir;
    // When `dir` does not exist yet: the nearest folder above it that does,
    // where the probe was made instead (the first download creates `dir`).
    std::string existing_parent;
    std::string write_problem; // why the probe file could not be made; "" when it could
    std::optional<std::uint64_t> free_bytes;
    std::int64_t max_bytes = 0; // download.max_bytes
};
check output_dir_check(const output_dir_facts& f);

struct certificate_facts {
    std::string unreachable; // the TLS connection failed; "" when it was made
    bool present = false;
    bool trusted = false;
    std::string chain_problem; // OpenSSL's reason when not trusted
    bool names_host = false;
    millis not_after = 0;
};
// `public_url` empty: nothing to check; http: a warning; https: the facts.
check certificate_check(std::string_view public_url, std::string_view host,
                        const certificate_facts& f, millis now);

// The one-time probe GET <public_url>/webhook/probe/<id> the daemon made.
struct probe_facts {
    std::string unreachable; // the GET got no answer; "" when it did
    unsigned http_status = 0;
    bool arrived = false; // this daemon's webhook listener saw the probe
    int tries = 1;        // probes sent, each with its own id (the last one's facts above)
};
check public_url_check(std::string_view public_url, std::string_view listen, const probe_facts& f);

struct stuck_job {
    std::string id;
    std::string status;
    millis since = 0; // created (waiting for MusicGPT) or last changed (downloading)
};
check stuck_jobs_check(const std::vector<stuck_job>& stuck, millis now);

// A check of the daemon that could not be made because the daemon was not asked.
check not_checked(std::string_view name, std::string_view why);

// No problem among them (warnings allowed).
bool healthy(const std::vector<check>& checks);

// {"ok":bool,"checks":[{"name","level","message"}...]} and back (checks
// with an unknown level, or not objects, are skipped).
boost::json::object checks_to_json(const std::vector<check>& checks);
std::vector<check> checks_from_json(const boost::json::value& checks);

} // namespace stemd::server
