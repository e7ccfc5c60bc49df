#include "jobs/claims.hpp"

#include "common/crypto.hpp"
#include "common/log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <unistd.h>

namespace stemd::jobs {

namespace net = boost::asio;

std::string new_owner_id() {
    return "stemd-" + std::to_string(::getpid()) + "-" + random_token_hex(4);
}

heartbeat::heartbeat(net::any_io_executor ex, storage::store& store, std::string owner,
                     std::chrono::milliseconds lease)
    : store_(store), owner_(std::move(owner)), lease_(lease), timer_(ex) {}

net::awaitable<void> heartbeat::run() {
    while (!stopping_) {
        timer_.expires_after(lease_ / 3);
        co_await timer_.async_wait(net::as_tuple(net::use_awaitable));
        if (stopping_)
            co_return;
        if (auto r = store_.renew_claims(owner_, now_millis(), lease_.count()); !r)
            log_error("", "cannot renew this process's claims: " + r.error().message);
    }
}

void heartbeat::stop() {
    stopping_ = true;
    timer_.cancel();
}

} // namespace stemd::jobs
