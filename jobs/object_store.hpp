#pragma once

// Stems kept in S3-compatible storage (storage.output = "s3://..."): where
// a file's object goes, how its recorded path "s3://bucket/key" reads back,
// and removing objects when their jobs are pruned. Included only by .cpp
// files (it pulls in Asio).

#include "client/s3_client.hpp"
#include "jobs/options.hpp"
#include "jobs/stem_removal.hpp"

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

    // The key a file planned at `planned` (beneath output_dir, as
    // file_layout gives it) is uploaded to, without its extension:
    // {prefix}/{the path below output_dir}/{name}.
    std::string key_base(const std::filesystem::path& output_dir,
                         const std::filesystem::path& planned, const std::string& name) const;
    // What store::file_done records: "s3://bucket/key".
    std::string path_of(const std::string& key) const;
    // The key of a recorded path of this bucket; nullopt for a local path
    // (or another bucket's).
    std::optional<std::string> key_of(std::string_view path) const;

    // Deletes the objects of `paths` that are this bucket's; an object
    // already gone is no error, a failure is reported in `kept`.
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
