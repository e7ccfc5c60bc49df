#pragma once

// The downloads in flight, by file id, with how far each has come: kept in
// memory by the download scheduler and read by the API (job JSON).

#include "client/progress.hpp"

#include <cstdint>
#include <map>

namespace stemd::jobs {

using progress_table = std::map<std::int64_t, client::download_progress>;

} // namespace stemd::jobs
