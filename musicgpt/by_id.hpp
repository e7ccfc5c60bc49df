#pragma once

// GET v1/byId: MusicGPT's status record of one task.

#include "common/error.hpp"
#include "musicgpt/refusal.hpp"
#include "musicgpt/report.hpp"

#include <optional>
#include <string_view>

namespace stemd::musicgpt {

// What MusicGPT answered: the task's `conversion` record read like a
// webhook body (`conversion`), or `refused` set (429/503 carry the
// Retry-After the client read).
struct status_reply {
    report conversion;
    std::optional<refusal> refused;
};

// Reads the answer to a status query about `task_id`. A record that does
// not name its task is taken to be about `task_id`. An answer without a
// `conversion` object is error::bad_answer; a record that breaks the
// webhook rules keeps parse_record's code (musicgpt/webhook.hpp).
result<status_reply> read_status_reply(unsigned http_status, std::string_view body,
                                       std::string_view task_id);

} // namespace stemd::musicgpt
