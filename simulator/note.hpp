#pragma once

#include "common/log.hpp"

#include <string_view>

namespace stemd::simulator {

// A log line of the simulator: "stemd simulate: <text>".
void note(log_level level, std::string_view text);

} // namespace stemd::simulator
