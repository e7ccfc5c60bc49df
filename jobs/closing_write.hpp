#pragma once

// The write that ends a claim (a download recorded done, retried, failed
// or waiting for a fresh link; a status look-up planned again, failed or
// released), tried again while the store is down. Given up after one
// failure, the claim would stay held and, the heartbeat renewing every
// claim of the process, held for as long as the process lives: nobody
// would ever do that work again. So while the store answers unavailable
// (condition::unavailable: PostgreSQL cannot be reached now), the same
// write is tried again after 0.5 s, then twice as long each time up to
// 5 s, until it succeeds, fails for another reason, or the process is
// stopping (the claim is then released with the others at shutdown, or
// expires after its lease). Included only by .cpp files (it pulls in
// Asio).

#include "common/error.hpp"
#include "common/log.hpp"
#include "storage/error.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <chrono>
#include <string>
#include <type_traits>
#include <utility>

namespace stemd::jobs {

inline constexpr std::chrono::milliseconds closing_retry_first{500};
inline constexpr std::chrono::milliseconds closing_retry_cap{5'000};

// Runs `write` (a callable returning a stemd::result, the store call that
// ends the claim) and, while it fails with condition::unavailable and
// `stopping` is false, waits and runs it again. Returns the last result;
// the caller reports a failure as it did before. `what` says what the
// write does ("record the download of ..."), for the log, under `job_id`.
//
// A write whose COMMIT was cut off may have been recorded after all (the
// store says so, with condition::unavailable): its retry is then refused
// with claim_lost or invalid_transition, since the claim is already
// released, and that ends the loop, logged as such.
//
// The arguments are references that must outlive the co_await (name them
// in the caller's frame: GCC 12 mishandles temporaries in co_await'ed
// calls).
template <class Write>
boost::asio::awaitable<std::invoke_result_t<Write&>>
close_claim(Write write, const bool& stopping, const std::string& job_id, const std::string& what) {
    auto r = write();
    if (r || !r.error().is(condition::unavailable))
        co_return r;
    const auto ex = co_await boost::asio::this_coro::executor;
    boost::asio::steady_timer timer(ex);
    auto pause = closing_retry_first;
    int tries = 1;
    log_warning(job_id, "cannot " + what + " (" + r.error().message +
                            "); the claim stays held and this is tried again every " +
                            std::to_string(closing_retry_first.count()) + " ms to " +
                            std::to_string(closing_retry_cap.count()) +
                            " ms until the database answers");
    while (!r && r.error().is(condition::unavailable) && !stopping) {
        timer.expires_after(pause);
        co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
        if (stopping)
            break;
        r = write();
        ++tries;
        pause = std::min(pause * 2, closing_retry_cap);
    }
    if (r) {
        log_info(job_id, "could " + what + " at try " + std::to_string(tries) +
                             ", once the database answered again");
    } else if (r.error().is(condition::unavailable)) {
        log_warning(job_id, "stopping before the database answered: could not " + what + " (" +
                                r.error().message +
                                "); the claim is released at shutdown if the database answers "
                                "by then, else it expires after its lease, and the work is "
                                "taken up again");
    } else if (r.error().code == storage::error::claim_lost ||
               r.error().code == storage::error::invalid_transition) {
        log_warning(job_id, "the try " + std::to_string(tries) + " to " + what + " was refused (" +
                                r.error().message +
                                "): an earlier try cut off while it was committed was most "
                                "likely recorded, or another process has taken the work over");
    }
    co_return r;
}

} // namespace stemd::jobs
