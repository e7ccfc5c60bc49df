#pragma once

// Delivers the outbox: claims due events from the store, sends each as a
// Standard Webhooks POST (or runs the command), and records the end:
// delivered, refused, or tried again later on notify_retry_delay's
// schedule until it fails. Everything it knows is in the store, so a
// restart picks up where a killed process left off: an event is delivered
// at least once. Included only by .cpp files (Asio).

#include "jobs/options.hpp"
#include "storage/store.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <memory>
#include <optional>
#include <random>
#include <string>

namespace stemd::jobs {

class notifier {
public:
    // Throws std::runtime_error (a start-up failure) when notify.ca_file
    // cannot be used or the URL cannot be read. `options` must outlive it.
    notifier(boost::asio::any_io_executor ex, storage::store& store, const notify_options& options,
             std::string owner);
    ~notifier();

    boost::asio::awaitable<void> run();
    void stop();

private:
    // How one attempt went: the receiver's verdict, and what to say about it.
    struct attempt {
        bool delivered = false;
        bool refused = false; // ends it; neither: try again
        std::string what;     // "HTTP 500", "exited with status 3", ...
    };
    boost::asio::awaitable<void> deliver(const storage::notification_record& n);
    boost::asio::awaitable<attempt> post(const storage::notification_record& n);
    boost::asio::awaitable<attempt> run_command(const storage::notification_record& n);
    void record(const storage::notification_record& n, const attempt& a);
    boost::asio::awaitable<void> wait(std::chrono::milliseconds d);

    boost::asio::any_io_executor ex_;
    storage::store& store_;
    const notify_options& options_;
    std::string owner_;
    struct transport;
    std::unique_ptr<transport> transport_; // set when a URL is configured
    boost::asio::steady_timer timer_;
    std::mt19937_64 rng_{std::random_device{}()};
    bool stopping_ = false;
};

} // namespace stemd::jobs
