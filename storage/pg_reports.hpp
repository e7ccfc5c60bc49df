#pragma once

// The PostgreSQL store recording what MusicGPT reported about a job (see
// store::apply). Throws pg_error when PostgreSQL fails.

#include "common/error.hpp"
#include "musicgpt/report.hpp"
#include "storage/records.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace stemd::storage::pg {
class connection;
}

namespace stemd::storage::pg {

result<job_record> apply(connection& c, std::string_view job_id, const musicgpt::report& r,
                         const std::vector<std::string>& paths);

} // namespace stemd::storage::pg
