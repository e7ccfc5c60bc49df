#include "server/stem_files.hpp"

#include "client/media_type.hpp"
#include "common/text.hpp"
#include "jobs/object_store.hpp"
#include "jobs/service.hpp"
#include "server/error.hpp"
#include "server/rooted_file.hpp"

#include <boost/url/pct_string_view.hpp>

#include <array>
#include <filesystem>
#include <vector>

namespace stemd::server {

namespace fs = std::filesystem;
namespace urls = boost::urls;

namespace {

std::optional<std::string> decode_segment(std::string_view segment) {
    auto decoded = urls::make_pct_string_view(segment);
    if (!decoded || segment.empty())
        return std::nullopt;
    return decoded->decode();
}

std::string names_of(const storage::job_record& job) {
    std::string out;
    for (const auto& f : job.files)
        out += (out.empty() ? "" : ", ") + storage::file_label(f);
    return out.empty() ? std::string("none yet") : out;
}

// The refusal of a path open_beneath would not open, as the API says it: a
// file gone (removed by hand) is 404, anything else is withheld.
stemd::error withheld(const storage::file_record& f, const stemd::error& why) {
    std::error_code ec;
    if (!fs::exists(fs::symlink_status(f.path, ec)))
        return make_error(error::no_such_file, "the file " + storage::file_label(f) + " of job " +
                                                   f.job_id + " is no longer on disk (" + f.path +
                                                   "); retry the job to download it again");
    return make_error(error::file_withheld, "the file " + storage::file_label(f) + " of job " +
                                                f.job_id + " is not served: " + why.message);
}

} // namespace

std::string file_href(const storage::file_record& f) {
    return "/v1/jobs/" + percent_encode(f.job_id) + "/files/" +
           percent_encode(storage::file_label(f));
}

std::optional<file_target> parse_file_target(std::string_view path) {
    constexpr std::string_view prefix = "/v1/jobs/";
    if (!path.starts_with(prefix))
        return std::nullopt;
    path.remove_prefix(prefix.size());
    std::vector<std::string_view> segments;
    while (segments.size() < 5) {
        const auto slash = path.find('/');
        segments.push_back(path.substr(0, slash));
        if (slash == std::string_view::npos)
            break;
        path.remove_prefix(slash + 1);
    }
    if (segments.size() < 3 || segments.size() > 4 || segments[1] != "files")
        return std::nullopt;
    auto key = decode_segment(segments[0]);
    auto file = decode_segment(segments[2]);
    if (!key || !file)
        return std::nullopt;
    file_target t{std::move(*key), std::move(*file), {}};
    if (segments.size() == 4) {
        auto rest = decode_segment(segments[3]);
        if (!rest)
            return std::nullopt;
        t.rest = std::move(*rest);
    }
    return t;
}

result<stem_file> open_stem(jobs::service& service, std::string_view key, std::string_view file) {
    auto record = done_file(service, key, file);
    if (!record)
        return record.error();
    return open_record(service, *record);
}

result<storage::file_record> done_file(jobs::service& service, std::string_view key,
                                       std::string_view file) {
    auto job = service.find(key);
    if (!job && job.error().code == condition::not_found)
        return make_error(error::no_such_file, storage::no_job_with_key(key));
    if (!job)
        return job.error();
    const storage::file_record* found = nullptr;
    for (const auto& f : job->files)
        if (storage::file_label(f) == file)
            found = &f;
    if (found == nullptr)
        return make_error(error::no_such_file, "job " + job->id + " has no file \"" +
                                                   std::string(file) +
                                                   "\"; its files: " + names_of(*job));
    if (found->status != storage::file_status::done)
        return make_error(error::file_not_ready,
                          "the file " + storage::file_label(*found) + " of job " + job->id +
                              " is " + std::string(storage::to_string(found->status)) +
                              ", not downloaded yet; fetch it once its status is done");
    return *found;
}

result<stem_file> open_record(jobs::service& service, const storage::file_record& record) {
    const auto* found = &record;
    const std::string& job_id = record.job_id;
    if (jobs::is_object_path(record.path))
        return make_error(error::file_withheld, "the file " + storage::file_label(record) +
                                                    " of job " + job_id + " is the object " +
                                                    record.path + ", not a file on disk");
    // Both made absolute against the same working directory, as the
    // downloader wrote the path from output_dir.
    const std::array<fs::path, 1> roots{fs::absolute(service.options().output_dir)};
    auto opened = open_beneath(roots, fs::absolute(found->path).string(),
                               {.what = "file", .roots = "storage.output_dir"});
    if (!opened)
        return withheld(*found, opened.error());
    if (opened->size != static_cast<std::uint64_t>(found->bytes))
        return make_error(error::file_withheld,
                          "the file " + storage::file_label(*found) + " of job " + job_id + " at " +
                              found->path + " has " + std::to_string(opened->size) +
                              " bytes, not the " + std::to_string(found->bytes) +
                              " recorded; it was changed after the download, so it is not "
                              "served (retry the job to download it again)");
    return stem_file{*found, std::move(opened->fd), opened->size,
                     client::audio_content_type(found->path)};
}

} // namespace stemd::server
