#include "server/object_files.hpp"

#include "client/media_type.hpp"
#include "common/crypto.hpp"
#include "jobs/object_store.hpp"
#include "server/error.hpp"
#include "server/reply.hpp"

#include <boost/beast/http/field.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

namespace stemd::server {

namespace net = boost::asio;
namespace http = boost::beast::http;
namespace fs = std::filesystem;

listener::reply object_redirect(jobs::object_store& objects, const storage::file_record& record,
                                http::verb method) {
    listener::response r{http::status::found, 11};
    const auto key = objects.key_of(record.path);
    if (!key)
        return {error_response(make_error(error::file_withheld,
                                          "the file " + storage::file_label(record) + " of job " +
                                              record.job_id + " is the object " + record.path +
                                              ", not in the configured bucket")),
                {}};
    const std::string_view signed_for = method == http::verb::head ? "HEAD" : "GET";
    r.set(http::field::location, objects.client().presigned(signed_for, *key, presigned_lifetime));
    r.set(http::field::cache_control, "no-store");
    r.content_length(0);
    return {std::move(r), {}};
}

net::awaitable<result<stem_file>> fetch_object(jobs::object_store& objects,
                                               const storage::file_record& record) {
    const auto key = objects.key_of(record.path);
    if (!key)
        co_return make_error(error::file_withheld, "the file " + storage::file_label(record) +
                                                       " of job " + record.job_id +
                                                       " is the object " + record.path +
                                                       ", not in the configured bucket");
    std::error_code ec;
    fs::create_directories(objects.scratch_dir(), ec);
    const fs::path temporary = objects.scratch_dir() / ("fetch-" + random_token_hex(12));
    // Named, not a temporary of the co_await: GCC 12 destroys such
    // temporaries twice.
    const std::string target = temporary.string();
    auto fetched = co_await objects.client().fetch_to(*key, target);
    if (!fetched) {
        fs::remove(temporary, ec);
        if (fetched.error().code == condition::not_found)
            co_return make_error(error::no_such_file,
                                 "the object " + record.path + " of job " + record.job_id +
                                     " is gone from the bucket; retry the job to download it "
                                     "again");
        co_return fetched.error();
    }
    unique_fd fd(::open(temporary.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    fs::remove(temporary, ec); // the descriptor keeps the bytes while they are read
    if (!fd)
        co_return make_error(error::file_withheld, "cannot open the fetched copy of " +
                                                       record.path + " in " +
                                                       objects.scratch_dir().string());
    if (*fetched != static_cast<std::uint64_t>(record.bytes))
        co_return make_error(error::file_withheld,
                             "the object " + record.path + " has " + std::to_string(*fetched) +
                                 " bytes, not the " + std::to_string(record.bytes) +
                                 " recorded; it was changed after the upload");
    co_return stem_file{record, std::move(fd), *fetched, client::audio_content_type(record.path)};
}

} // namespace stemd::server
