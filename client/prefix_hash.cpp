#include "client/prefix_hash.hpp"

#include "client/partial_file.hpp"
#include "client/worker.hpp"

#include <boost/asio/thread_pool.hpp>

#include <utility>

namespace stemd::client {

namespace net = boost::asio;
namespace fs = std::filesystem;

namespace {

// One worker, whatever the number of downloads: hashing is bound by the
// disk, and a second one would only compete with the first.
net::thread_pool& hashing_pool() {
    static net::thread_pool pool(1);
    return pool;
}

} // namespace

net::awaitable<result<sha256>> hash_prefix_on_worker(unique_fd fd, std::uint64_t keep,
                                                     fs::path shown) {
    // The descriptor is shared with the worker: it closes it when done,
    // whether or not this coroutine is still there to take the answer.
    auto owned = std::make_shared<unique_fd>(std::move(fd));
    auto hash = [owned, keep, shown = std::move(shown)](const std::atomic<bool>& stop) {
        return partial_file::hash_prefix(std::move(*owned), keep, shown, &stop);
    };
    return on_worker<result<sha256>>(hashing_pool(), std::move(hash));
}

} // namespace stemd::client
