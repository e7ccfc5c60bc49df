#pragma once

// Webhook delivery, as MusicGPT does it: one POST of the JSON body when the
// task is ready, retried on network failures and 5xx with doubling
// back-off, up to five attempts.

#include "client/url.hpp"
#include "simulator/counters.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace boost::asio::ssl {
class context;
} // namespace boost::asio::ssl

namespace stemd::simulator {

// A webhook the simulator delivered, as MusicGPT would know it: tests use
// it to redeliver exactly the same request.
struct delivered_webhook {
    std::string url;
    std::string body;
};

class webhook_sender : public std::enable_shared_from_this<webhook_sender> {
public:
    // `tls` verifies https webhook URLs; `stats` counts attempts and outcomes.
    webhook_sender(std::shared_ptr<boost::asio::ssl::context> tls, std::shared_ptr<counters> stats);

    // Posts `body` to `url` at `when`, on `ex`, in the background;
    // `first_attempt_done` (when given) runs once the first attempt has its
    // answer or failed.
    void send(const boost::asio::any_io_executor& ex, std::string task_id,
              std::chrono::steady_clock::time_point when, client::http_url url, std::string body,
              std::function<void()> first_attempt_done = {});

    const std::vector<delivered_webhook>& deliveries() const { return deliveries_; }

private:
    enum class delivery { delivered, retry, give_up };

    static boost::asio::awaitable<void> deliver(std::shared_ptr<webhook_sender> self,
                                                std::string task_id,
                                                std::chrono::steady_clock::time_point when,
                                                client::http_url url, std::string body,
                                                std::function<void()> first_attempt_done);
    boost::asio::awaitable<delivery> post_once(const std::string& task_id,
                                               const client::http_url& url, const std::string& body,
                                               int attempt);

    std::shared_ptr<boost::asio::ssl::context> tls_;
    std::shared_ptr<counters> stats_;
    std::vector<delivered_webhook> deliveries_;
};

} // namespace stemd::simulator
