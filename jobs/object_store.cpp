#include "jobs/object_store.hpp"

#include "client/tls.hpp"
#include "jobs/file_layout.hpp"

namespace stemd::jobs {

namespace net = boost::asio;
namespace fs = std::filesystem;

object_store::object_store(const s3_output_options& options)
    : options_(options), tls_(client::make_tls_client_context(options.ca_file)),
      client_(std::make_unique<client::s3_client>(options.client, *tls_)) {}

std::string object_store::key_base(const std::string& task_id,
                                   const storage::file_record& f) const {
    // The local layout itself (destination() with no output_dir and a link
    // without extension), so an object's key and a local file's path name
    // the task folder the same way: safe_dir(task_id), one per task.
    const musicgpt::stem_link link{f.name, f.subdir, ""};
    const std::string relative =
        destination(fs::path(), task_id, link).lexically_normal().generic_string();
    return options_.prefix.empty() ? relative : options_.prefix + "/" + relative;
}

std::string object_store::path_of(const std::string& key) const {
    return "s3://" + options_.client.bucket + "/" + key;
}

std::optional<std::string> object_store::key_of(std::string_view path) const {
    const std::string head = "s3://" + options_.client.bucket + "/";
    if (!path.starts_with(head) || path.size() == head.size())
        return std::nullopt;
    return std::string(path.substr(head.size()));
}

bool object_store::within_prefix(std::string_view key) const {
    if (options_.prefix.empty())
        return true;
    const std::string head = options_.prefix + "/";
    return key.size() > head.size() && key.starts_with(head);
}

net::awaitable<stem_removal> object_store::remove(const std::vector<std::string>& paths) {
    stem_removal out;
    for (const auto& path : paths) {
        auto key = key_of(path);
        if (!key) {
            out.kept.push_back(path + ": not an object of bucket " + options_.client.bucket);
            continue;
        }
        // Like a local path outside output_dir: not stemd's to delete.
        if (!within_prefix(*key)) {
            out.kept.push_back(path + ": not below the prefix \"" + options_.prefix +
                               "/\" of storage.output; delete it by hand if it is no longer "
                               "needed");
            continue;
        }
        auto gone = co_await client_->remove(*key);
        if (!gone)
            out.kept.push_back(path + ": " + gone.error().message);
        else
            ++out.files;
    }
    co_return out;
}

} // namespace stemd::jobs
