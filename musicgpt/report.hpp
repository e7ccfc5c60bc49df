#pragma once

// What MusicGPT said about a job, whichever way it arrived (a webhook body
// or a byId answer): the one type the parsers produce and the store records.

#include <optional>
#include <string>
#include <vector>

namespace stemd::musicgpt {

// One file to fetch: `name` is already safe as a file name and unique
// within its subdir.
struct stem_link {
    std::string name;
    std::string subdir; // "" or "wav"
    std::string url;    // signed link; never logged with its query string
};

struct report {
    enum class state { pending, succeeded, failed };
    state what = state::pending;
    std::string task_id;
    std::string conversion_id;
    std::string upstream_status; // as sent (e.g. IN_QUEUE); COMPLETED / FAILED when absent
    std::string message;         // status_msg / message / error / reason
    std::optional<double> conversion_cost;     // number or numeric string
    std::optional<double> conversion_duration; // number or numeric string
    std::vector<stem_link> links;              // for a succeeded report only

    bool final() const noexcept { return what != state::pending; }
};

} // namespace stemd::musicgpt
