#pragma once

// Texts the job lifecycle logs and records, shared by its parts.

#include "musicgpt/refusal.hpp"

#include <chrono>
#include <string>

namespace stemd::jobs {

// "MusicGPT answered HTTP 402 INSUFFICIENT_CREDITS: ..." or "MusicGPT
// could not be reached: ...".
std::string describe(const musicgpt::refusal& f);

// "15 s", rounded up to whole seconds.
std::string seconds_text(std::chrono::milliseconds d);

} // namespace stemd::jobs
