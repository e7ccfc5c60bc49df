#pragma once

// The table of `stemd list` and the lines of `stemd logs`: pure functions
// of the API's JSON, so alignment and colour rules are tested as text.

#include "common/time.hpp"

#include <boost/json/array.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace stemd::cli {

// "45s", "12m", "3h", "2d": how long ago `then` was at `now`.
std::string age_text(millis then, millis now);

// A task id cut to `limit` characters ("..." at the end) when longer, never
// inside a UTF-8 character.
std::string short_task(std::string_view task, std::size_t limit = 13);

// The lines of the job table, a header first: ID, STATUS, FILES, AGE, TASK,
// aligned on the visible text; with `colour`, the status is coloured (the
// padding stays outside the escape sequences, so columns still line up).
std::vector<std::string> job_table(const boost::json::array& jobs, millis now, bool colour);

// One line per event of GET /v1/jobs/{key}/events: time, kind, file, detail.
std::vector<std::string> event_lines(const boost::json::array& events);

} // namespace stemd::cli
