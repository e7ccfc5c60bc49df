#pragma once

// When a job's first status look-up is due.

#include <chrono>
#include <optional>
#include <string>

namespace stemd::jobs {

struct poll_timing {
    bool webhooks = true; // a webhook_url is given to MusicGPT
    int overdue_factor = 3;
    std::chrono::seconds overdue_floor{300};
};

// How long after submission to ask MusicGPT about a job it expects to
// finish in `eta` seconds (nullopt, negative or not finite: unknown). With
// webhooks, when the webhook is overdue: max(overdue_factor * eta,
// overdue_floor); without, when MusicGPT expects to be done (but not at
// once).
std::chrono::milliseconds first_poll_delay(const poll_timing& t, std::optional<double> eta);

} // namespace stemd::jobs
