#pragma once

// The downloads in flight, by file id, with whose file each is and how far
// it has come: kept in memory by the download scheduler and read by the API
// (job JSON, progress events) without a lookup in the store.

#include "client/progress.hpp"

#include <cstdint>
#include <map>
#include <string>

namespace stemd::jobs {

struct download_entry {
    std::string job_id;
    std::string file; // as in the job JSON: "vocals" or "wav/vocals"
    client::download_progress progress;
};

using progress_table = std::map<std::int64_t, download_entry>;

} // namespace stemd::jobs
