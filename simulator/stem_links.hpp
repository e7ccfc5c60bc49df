#pragma once

// The links to a task's stem files, as a signed CDN would hand them out:
// <public_url>/files/<task>/<stem>.wav, with the task's fault list and, with
// a link TTL, an expiry (expires=<unix ms>).

#include "simulator/task.hpp"

#include <boost/url/url_view.hpp>

#include <chrono>
#include <cstdint>
#include <string>

namespace stemd::simulator {

class stem_links {
public:
    explicit stem_links(std::chrono::milliseconds ttl) : ttl_(ttl) {}

    // Trailing slashes are dropped.
    void set_public_url(std::string url);
    const std::string& public_url() const { return public_url_; }

    // `expires_ms` (unix ms, 0 = none) is added as a signed link carries its
    // expiry.
    std::string url(const task& t, const std::string& stem, std::int64_t expires_ms = 0) const;
    // {"<stem>": "<url>", ...} serialised, as MusicGPT's audio_url field.
    std::string map(const task& t, std::int64_t expires_ms = 0) const;
    // The expiry for links signed at `signed_at`; 0 without a TTL.
    std::int64_t expiry(std::chrono::system_clock::time_point signed_at) const;
    // With a TTL, a link target without an expiry, or with one in the past.
    bool expired(const boost::urls::url_view& target) const;

private:
    std::chrono::milliseconds ttl_;
    std::string public_url_;
};

} // namespace stemd::simulator
