#pragma once

// The markers a test puts in a submitted audio_url to make a job misbehave:
// "sim-error=402|429|500" refuses the submission, "sim-fail" fails the job,
// and "sim-fault=NAME[,NAME...]" makes its stem downloads misbehave: the
// task's stem links then carry "?fault=..." and the file handler acts as
// named. One-shot faults hit only the first request for each file, so a
// retry can show recovery; the others hold for every request, as a
// misconfigured server would. Some faults are about byId instead: the task
// is unknown there (byid-404), the task's first byId fails with HTTP 500
// (byid-500-once) or 503 (byid-503-once), and, with `gone`,
// a link that stays dead comes back unchanged from every look-up. "sim-webhook-first[=PATH]" has
// the task finish at once and its webhook (to PATH on the webhook_url's
// server when given, as a relay with a fixed URL would post it) attempted
// before the submission is answered: a delivery racing stemd's record of
// the answer. "sim-no-webhook" withholds the task's webhook (as
// --no-webhooks does for all), so only byId can tell its result.

#include "common/error.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace stemd::simulator {

// Every fault, once: its name as people write it, and one spelling of it
// that parses (tests run the whole table, so a fault added here is tested).
struct fault_kind {
    std::string_view name;
    std::string_view example;
};

inline constexpr std::array<fault_kind, 11> fault_table = {{
    {"503-once", "503-once"},
    {"close-mid", "close-mid"},
    {"short", "short"},
    {"stall[-SECONDS]", "stall-2"},
    {"no-range", "no-range"},
    {"redirect-N", "redirect-3"},
    {"redirect-loop", "redirect-loop"},
    {"gone", "gone"},
    {"byid-404", "byid-404"},
    {"byid-500-once", "byid-500-once"},
    {"byid-503-once", "byid-503-once"},
}};

// The names of fault_table, comma-separated, for error messages.
std::string known_faults();

struct fault_plan {
    bool unavailable_once = false;   // 503-once: HTTP 503 instead of the file
    bool close_mid = false;          // close-mid: half the body, then the connection drops
    bool short_body = false;         // short: all but the last byte, then the connection drops
    std::chrono::seconds stall{0};   // stall[-S]: half the body, S s of silence, then a drop
    bool no_range = false;           // no-range: Range is ignored (always 200, whole file)
    std::uint64_t redirects = 0;     // redirect-N: a chain of N redirects before the file
    bool redirect_loop = false;      // redirect-loop: the chain comes back to the link itself
    bool gone = false;               // gone: HTTP 404 for every request of the file
    bool by_id_unknown = false;      // byid-404: byId answers 404 for the task
    bool by_id_failing_once = false; // byid-500-once: the task's first byId is a 500
    bool by_id_busy_once = false;    // byid-503-once: the task's first byId is a 503

    bool one_shot() const {
        return unavailable_once || close_mid || short_body || stall.count() > 0;
    }
};

// "close-mid,no-range" and the like ("" is no fault). A name that is not
// one of known_faults() (stall-S with S from 1 to 3600, redirect-N with N from
// 1 to 20) fails with error::bad_request naming it.
result<fault_plan> parse_faults(std::string_view text);

struct audio_markers {
    unsigned forced_status = 0; // sim-error=402|429|500; 0 when absent
    bool fail = false;          // sim-fail
    // The fault list after "sim-fault=" ("" when there is none): the
    // characters fault names use, up to anything else (such as '&').
    std::string_view faults;
    bool webhook_first = false;    // sim-webhook-first
    bool no_webhook = false;       // sim-no-webhook
    std::string_view webhook_path; // its "=PATH" ("" when absent)
};

audio_markers read_markers(std::string_view audio_url);

// The refusal sim-error asks for (402, 429 or 500), as MusicGPT words it.
stemd::error forced_error(unsigned status);

} // namespace stemd::simulator
