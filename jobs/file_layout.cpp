#include "jobs/file_layout.hpp"

#include "client/media_type.hpp"
#include "common/file_names.hpp"

namespace stemd::jobs {

std::filesystem::path destination(const std::filesystem::path& output_dir,
                                  const std::string& task_id, const musicgpt::stem_link& link) {
    auto dir = output_dir / safe_dir(task_id);
    if (!link.subdir.empty())
        dir /= link.subdir;
    auto ext = client::extension_from_url(link.url);
    return dir / (ext.empty() ? link.name : link.name + "." + ext);
}

} // namespace stemd::jobs
