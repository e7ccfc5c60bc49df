#pragma once

// Work too long for the io thread (hashing a resumed .part, scanning an
// uploaded form: GiBs of disk reads) run on a worker thread while the io
// thread goes on serving webhooks and the local API; the awaiting
// coroutine resumes on its own executor. Included only by .cpp files.

#include <boost/asio/awaitable.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <utility>

namespace boost::asio {
class thread_pool;
} // namespace boost::asio

namespace stemd::client {

// Runs `work` on `pool` and resumes the caller on its executor once it has
// returned: true then. False when the wait was cut short from outside (the
// work may still be running; its results must not be read). Should the
// caller go away first (a shutdown), `abandoned` is set, `work` may stop
// early, and nothing touches the caller's io_context afterwards.
boost::asio::awaitable<bool>
run_on_worker(boost::asio::thread_pool& pool,
              std::function<void(const std::atomic<bool>& abandoned)> work);

// The value `work(abandoned)` returns, computed on `pool`; none when the
// wait was cut short from outside.
template <class T, class F>
boost::asio::awaitable<std::optional<T>> on_worker(boost::asio::thread_pool& pool, F work) {
    // Both live until the worker is done with them, even past the caller.
    auto outcome = std::make_shared<std::optional<T>>();
    auto task = std::make_shared<F>(std::move(work));
    // Named, not a temporary of the co_await: GCC 12 destroys such
    // temporaries twice.
    std::function<void(const std::atomic<bool>&)> job = [outcome,
                                                         task](const std::atomic<bool>& abandoned) {
        outcome->emplace((*task)(abandoned));
    };
    if (!co_await run_on_worker(pool, std::move(job)))
        co_return std::nullopt;
    co_return std::move(*outcome);
}

} // namespace stemd::client
