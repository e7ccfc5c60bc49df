#pragma once

// What the simulator served, for GET /sim/stats: tests read it to prove a
// fault or a retry really happened.

#include <boost/json/object.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>

namespace stemd::simulator {

// Stem GETs of one /files/ path: how many bodies are being sent now, the
// most ever sent at once, and how many were started. Two instances fetching
// the same file at once show as max_in_flight 2.
struct path_gets {
    std::uint64_t in_flight = 0;
    std::uint64_t max_in_flight = 0;
    std::uint64_t gets = 0;
};

struct counters {
    std::uint64_t submissions = 0;
    std::uint64_t rejected_submissions = 0;
    std::uint64_t webhooks_delivered = 0;
    std::uint64_t webhook_attempts = 0;
    std::uint64_t webhook_failures = 0;
    std::uint64_t file_requests = 0;
    std::uint64_t range_requests = 0;
    std::uint64_t bytes_served = 0;
    std::uint64_t uploaded_bytes = 0;
    std::string last_upload_sha256;    // of the last audio_file received
    std::uint64_t status_requests = 0; // byId calls, answered or refused
    std::uint64_t status_429 = 0;      // byId calls refused by status_limit
    std::uint64_t expired_links = 0;   // file requests refused because the link expired
    std::uint64_t redirects_served = 0;
    std::uint64_t ranges_ignored = 0; // Range requests answered 200 (fault no-range)
    std::map<std::string, std::uint64_t, std::less<>> faults; // injected, by name
    std::map<std::string, path_gets, std::less<>> stem_paths; // bodies sent, by path
    // The most byId calls (answered or refused) seen within any one
    // status window, whether or not --status-limit is set.
    std::uint64_t status_window_peak = 0;

    void count_fault(const std::string& name) { ++faults[name]; }
    // A stem body starts / ends (ended, cut or abandoned) on `path`.
    void body_started(const std::string& path);
    void body_ended(const std::string& path);
};

// The /sim/stats body: every counter by name, the faults by name, the stem
// paths with their GETs (plus the largest max_in_flight of any path as
// stem_max_in_flight), and the number of tasks.
boost::json::object to_json(const counters& c, std::size_t tasks);

} // namespace stemd::simulator
