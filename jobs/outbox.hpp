#pragma once

// The pure pieces of telling the user's app (jobs/notifier.hpp does the
// sending): when to try an event again, what a receiver's answer means,
// and what a command is given.

#include "storage/records.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stemd::jobs {

// The wait after the n-th failed attempt of an event (n >= 1): 5 s, 30 s,
// 2 min, 10 min, 30 min, 1 h, 2 h, then 4 h five times (about 24 h in all),
// each scaled by a factor in [0.8, 1.2) chosen by `random` (any 64-bit
// value) so that many events failing together do not come back in
// lockstep. nullopt once the schedule is spent: the event has failed.
std::optional<std::chrono::milliseconds> notify_retry_delay(int attempts, std::uint64_t random);
// How many attempts the schedule allows in all.
int notify_max_attempts();

enum class receiver_verdict { delivered, refused, retry };

// 2xx ends it as delivered; 4xx other than 408 and 429 as refused (the
// receiver will not take it, asking again changes nothing); anything else
// (1xx, 3xx: no redirect is followed, 408, 429, 5xx) is tried again.
receiver_verdict judge_answer(unsigned status);

// The environment a notify command gets besides PATH: "NAME=value" for
// STEMD_EVENT_ID, STEMD_EVENT_TYPE, STEMD_JOB_ID, STEMD_TASK_ID,
// STEMD_STATUS, STEMD_ERROR, STEMD_FILES (one path per line) and
// STEMD_EVENT_JSON (the body), read from the event's body.
std::vector<std::string> command_environment(const storage::notification_record& n);

} // namespace stemd::jobs
