#pragma once

// The SQLite store recording what MusicGPT reported about a job (see
// store::apply). Throws sqlite_error when SQLite fails.

#include "common/error.hpp"
#include "musicgpt/report.hpp"
#include "storage/records.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace stemd::storage {
class database;
}

namespace stemd::storage::sqlite {

result<job_record> apply(database& db, std::string_view job_id, const musicgpt::report& r,
                         const std::vector<std::string>& paths);

} // namespace stemd::storage::sqlite
