#include "client/worker.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <mutex>

namespace stemd::client {

namespace net = boost::asio;

namespace {

// Between the waiting coroutine (io thread) and the worker. `waiter` is
// null once the coroutine is gone; both sides change it under `mutex`.
struct worker_state {
    std::mutex mutex;
    net::steady_timer* waiter = nullptr;
    bool done = false;
    std::atomic<bool> abandoned{false};
};

// Runs on the worker; wakes the waiter through its own executor.
void work_and_wake(const std::shared_ptr<worker_state>& state,
                   const std::function<void(const std::atomic<bool>&)>& work) {
    work(state->abandoned);
    const std::lock_guard lock(state->mutex);
    state->done = true;
    if (state->waiter != nullptr)
        net::post(state->waiter->get_executor(), [state] {
            const std::lock_guard relock(state->mutex);
            if (state->waiter != nullptr)
                state->waiter->cancel();
        });
}

} // namespace

net::awaitable<bool> run_on_worker(net::thread_pool& pool,
                                   std::function<void(const std::atomic<bool>&)> work) {
    net::steady_timer waiter(co_await net::this_coro::executor,
                             net::steady_timer::time_point::max());
    auto state = std::make_shared<worker_state>();
    state->waiter = &waiter;
    // Also runs when this frame is destroyed unfinished (a shutdown).
    struct detach {
        worker_state& state;
        ~detach() {
            const std::lock_guard lock(state.mutex);
            state.waiter = nullptr;
            state.abandoned = true;
        }
    } detached{*state};
    net::post(pool, [state, work = std::move(work)] { work_and_wake(state, work); });
    // Woken by cancel() once the work has returned; the mutex, taken by the
    // worker after the work and by the wake-up after it, orders the work's
    // writes before whatever the caller reads next.
    boost::system::error_code ec;
    co_await waiter.async_wait(net::redirect_error(net::use_awaitable, ec));
    const std::lock_guard lock(state->mutex);
    co_return state->done;
}

} // namespace stemd::client
