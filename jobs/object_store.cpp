#include "jobs/object_store.hpp"

#include "client/tls.hpp"

namespace stemd::jobs {

namespace net = boost::asio;
namespace fs = std::filesystem;

object_store::object_store(const s3_output_options& options)
    : options_(options), tls_(client::make_tls_client_context(options.ca_file)),
      client_(std::make_unique<client::s3_client>(options.client, *tls_)) {}

std::string object_store::key_base(const fs::path& output_dir, const fs::path& planned,
                                   const std::string& name) const {
    fs::path below =
        planned.parent_path().lexically_normal().lexically_relative(output_dir.lexically_normal());
    // Planned under an earlier output_dir: the task folder is still the
    // planned path's own.
    if (below.empty() || *below.begin() == ".." || below.is_absolute())
        below = planned.parent_path().filename();
    std::string relative = (below / name).lexically_normal().generic_string();
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

net::awaitable<stem_removal> object_store::remove(const std::vector<std::string>& paths) {
    stem_removal out;
    for (const auto& path : paths) {
        auto key = key_of(path);
        if (!key) {
            out.kept.push_back(path + ": not an object of bucket " + options_.client.bucket);
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
