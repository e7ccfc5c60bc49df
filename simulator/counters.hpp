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

    void count_fault(const std::string& name) { ++faults[name]; }
};

// The /sim/stats body: every counter by name, the faults by name, and the
// number of tasks.
boost::json::object to_json(const counters& c, std::size_t tasks);

} // namespace stemd::simulator
