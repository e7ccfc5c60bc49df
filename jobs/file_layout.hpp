#pragma once

// Where a job's files go on disk.

#include "musicgpt/report.hpp"

#include <filesystem>
#include <string>

namespace stemd::jobs {

// The destination of a link: {output_dir}/{safe_dir(task)}/{subdir}/{name}.{ext},
// ext from the URL's path; without one the downloader picks it later.
std::filesystem::path destination(const std::filesystem::path& output_dir,
                                  const std::string& task_id, const musicgpt::stem_link& link);

} // namespace stemd::jobs
