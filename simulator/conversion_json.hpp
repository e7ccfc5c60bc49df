#pragma once

// What the simulator says about a task, in MusicGPT's shapes: the webhook
// body (v2, or the original v1 shape for v1 submissions) and the byId
// conversion record.

#include "simulator/stem_links.hpp"
#include "simulator/task.hpp"

#include <boost/json/object.hpp>

#include <cstdint>

namespace stemd::simulator {

// Links are signed as at the task's acceptance, so a webhook delayed past
// the link TTL delivers expired links.
boost::json::object webhook_body(const task& t, const stem_links& links, std::uint64_t stem_bytes);

// The "conversion" object of a byId answer: IN_QUEUE until the task is
// ready, then FAILED or COMPLETED with links signed now.
boost::json::object conversion_record(const task& t, const stem_links& links,
                                      std::uint64_t stem_bytes);

} // namespace stemd::simulator
