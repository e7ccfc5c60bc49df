#include "jobs/poll_plan.hpp"

#include <algorithm>
#include <cmath>

namespace stemd::jobs {

namespace {

using namespace std::chrono_literals;

// In poll-only mode the first look-up waits for the eta, but at least this
// (or overdue_floor, if shorter), so a zero eta does not mean a look-up
// the instant MusicGPT accepted the job.
constexpr auto poll_only_floor = 10s;
// The longest eta taken at its word; anything beyond is treated as a day.
constexpr double longest_eta_seconds = 86'400;

} // namespace

std::chrono::milliseconds first_poll_delay(const poll_timing& t, std::optional<double> eta) {
    using std::chrono::milliseconds;
    const auto floor = std::chrono::duration_cast<milliseconds>(t.overdue_floor);
    if (!eta || !std::isfinite(*eta) || *eta < 0)
        return floor;
    const milliseconds expected(std::llround(std::min(*eta, longest_eta_seconds) * 1000));
    if (!t.webhooks) {
        // Poll-only: no webhook will come, so the first look-up is when
        // MusicGPT expects to be done rather than when a webhook is late.
        return std::max(expected, std::min<milliseconds>(poll_only_floor, floor));
    }
    return std::max(expected * std::max(t.overdue_factor, 1), floor);
}

} // namespace stemd::jobs
