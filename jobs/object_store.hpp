#pragma once

// Stems kept in S3-compatible storage (storage.output = "s3://..."): where
// a file's object goes, how its recorded path "s3://bucket/key" reads back,
// and removing objects when their jobs are pruned. Included only by .cpp
// files (it pulls in Asio).

#include "client/s3_client.hpp"
#include "jobs/options.hpp"
#include "jobs/stem_removal.hpp"
#include "storage/records.hpp"

#include <boost/asio/awaitable.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stemd::jobs {

class object_store {
public:
    // Throws std::runtime_error when s3.ca_file cannot be used (a start-up
    // failure).
    explicit object_store(const s3_output_options& options);

    client::s3_client& client() { return *client_; }
    const std::filesystem::path& scratch_dir() const { return options_.scratch_dir; }

    // The key the file `f` of the job with `task_id` is uploaded to,
    // without its extension: {prefix}/{safe_dir(task_id)}/{subdir}/{name},
    // the local layout (file_layout.hpp) below output_dir. Built from the
    // job and the record alone, never from output_dir or the planned path,
    // so two jobs' files never share a key whatever output_dir was.
    std::string key_base(const std::string& task_id, const storage::file_record& f) const;
    // What store::file_done records: "s3://bucket/key".
    std::string path_of(const std::string& key) const;
    // The key of a recorded path of this bucket; nullopt for a local path
    // (or another bucket's). Any key of the bucket, also one outside the
    // prefix: an object stored under an earlier prefix can still be served.
    std::optional<std::string> key_of(std::string_view path) const;
    // Whether `key` lies below the configured prefix (prefix + "/"); every
    // key when there is no prefix.
    bool within_prefix(std::string_view key) const;

    // Deletes the objects of `paths` that are this bucket's and below the
    // prefix (anything else in the bucket is not stemd's to delete, and is
    // reported in `kept`); an object already gone is no error, a failure is
    // reported in `kept`.
    boost::asio::awaitable<stem_removal> remove(const std::vector<std::string>& paths);

private:
    s3_output_options options_;
    std::shared_ptr<boost::asio::ssl::context> tls_;
    std::unique_ptr<client::s3_client> client_;
};

// Whether a recorded path names an object ("s3://...") rather than a file.
inline bool is_object_path(std::string_view path) {
    return path.starts_with("s3://");
}

} // namespace stemd::jobs
