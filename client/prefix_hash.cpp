#include "client/prefix_hash.hpp"

#include "client/error.hpp"
#include "client/partial_file.hpp"
#include "client/worker.hpp"

#include <boost/asio/thread_pool.hpp>

#include <functional>
#include <memory>
#include <mutex>
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

std::mutex hook_mutex;
std::function<void()> before_hash_hook;

void run_before_hash_hook() {
    std::function<void()> hook;
    {
        const std::lock_guard lock(hook_mutex);
        hook = before_hash_hook;
    }
    if (hook)
        hook();
}

} // namespace

void set_before_hash_hook(std::function<void()> hook) {
    const std::lock_guard lock(hook_mutex);
    before_hash_hook = std::move(hook);
}

net::awaitable<result<sha256>> hash_prefix_on_worker(unique_fd fd, std::uint64_t keep,
                                                     fs::path shown) {
    // The descriptor is shared with the worker: it closes it when done,
    // whether or not this coroutine is still there to take the answer.
    auto owned = std::make_shared<unique_fd>(std::move(fd));
    auto hash = [owned, keep, shown](const std::atomic<bool>& stop) {
        run_before_hash_hook();
        return partial_file::hash_prefix(std::move(*owned), keep, shown, &stop);
    };
    auto hashed = co_await on_worker<result<sha256>>(hashing_pool(), std::move(hash));
    if (!hashed)
        co_return stemd::error{make_error_code(error::file_io),
                               "hashing " + shown.string() +
                                   ": the wait for the hash was cancelled before it finished; "
                                   "retry the download"};
    co_return std::move(*hashed);
}

} // namespace stemd::client
