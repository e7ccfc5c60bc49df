#include "client/prefix_hash.hpp"

#include "client/error.hpp"
#include "client/partial_file.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
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

// Between the waiting coroutine (io thread) and the worker. `waiter` is
// null once the coroutine is gone; both sides change it under `mutex`.
struct hashing_state {
    std::mutex mutex;
    std::optional<result<sha256>> outcome;
    net::steady_timer* waiter = nullptr;
    std::atomic<bool> abandoned{false};
};

// Runs on the worker; wakes the waiter through its own executor.
void hash_and_wake(const std::shared_ptr<hashing_state>& state, unique_fd fd, std::uint64_t keep,
                   const fs::path& shown) {
    run_before_hash_hook();
    auto hashed = partial_file::hash_prefix(std::move(fd), keep, shown, &state->abandoned);
    const std::lock_guard lock(state->mutex);
    state->outcome = std::move(hashed);
    if (state->waiter != nullptr)
        net::post(state->waiter->get_executor(), [state] {
            const std::lock_guard relock(state->mutex);
            if (state->waiter != nullptr)
                state->waiter->cancel();
        });
}

} // namespace

void set_before_hash_hook(std::function<void()> hook) {
    const std::lock_guard lock(hook_mutex);
    before_hash_hook = std::move(hook);
}

net::awaitable<result<sha256>> hash_prefix_on_worker(unique_fd fd, std::uint64_t keep,
                                                     fs::path shown) {
    net::steady_timer waiter(co_await net::this_coro::executor,
                             net::steady_timer::time_point::max());
    auto state = std::make_shared<hashing_state>();
    state->waiter = &waiter;
    // Also runs when this frame is destroyed unfinished (a shutdown).
    struct detach {
        hashing_state& state;
        ~detach() {
            const std::lock_guard lock(state.mutex);
            state.waiter = nullptr;
            state.abandoned = true;
        }
    } detached{*state};
    net::post(hashing_pool(), [state, fd = std::move(fd), keep, shown]() mutable {
        hash_and_wake(state, std::move(fd), keep, shown);
    });
    boost::system::error_code ec;
    {
        // Woken by cancel() once the outcome is there (posted after it is
        // set); it may be there already.
        const std::lock_guard lock(state->mutex);
        if (state->outcome)
            co_return std::move(*state->outcome);
    }
    co_await waiter.async_wait(net::redirect_error(net::use_awaitable, ec));
    const std::lock_guard lock(state->mutex);
    // Woken by anything else (a cancel from outside): no answer to give.
    if (!state->outcome)
        co_return stemd::error{make_error_code(error::file_io),
                               "hashing " + shown.string() +
                                   ": the wait for the hash was cancelled before it finished; "
                                   "retry the download"};
    co_return std::move(*state->outcome);
}

} // namespace stemd::client
