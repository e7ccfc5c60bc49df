#pragma once

// The download scheduler: claims due files from the store, runs up to
// `concurrency` downloads at once, retries with back-off, and sends a file
// whose signed link was refused to wait for a fresh one from a status
// look-up. Included only by .cpp files (it pulls in Asio).

#include "jobs/options.hpp"
#include "jobs/progress.hpp"
#include "storage/store.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <random>
#include <string>

namespace stemd::jobs {

class object_store;

class download_scheduler {
public:
    // `options` must outlive the scheduler; `wake_poller` is called when a
    // file needs fresh links.
    download_scheduler(boost::asio::any_io_executor ex, storage::store& store,
                       const service_options& options, std::string owner,
                       boost::asio::ssl::context& tls, std::function<void()> wake_poller,
                       object_store* objects = nullptr);

    // Runs until stop(); downloads in flight at stop keep their .part.
    boost::asio::awaitable<void> run();
    // Something may be runnable now.
    void wake();
    void stop();
    // The downloads running now and how far each has come.
    const progress_table& progress() const { return progress_; }

private:
    int claim_and_spawn();
    std::chrono::milliseconds idle_wait(bool spawned);
    boost::asio::awaitable<void> download_one(storage::file_record f);
    boost::asio::awaitable<result<client::download_result>>
    upload_one(const storage::file_record& f, client::download_progress& progress);
    // The ends of a download: each records it in the store, trying again
    // while the store is down (closing_write.hpp).
    boost::asio::awaitable<void> finished(const storage::file_record& f,
                                          const client::download_result& got,
                                          std::chrono::steady_clock::duration took);
    boost::asio::awaitable<void> failed(const storage::file_record& f, const stemd::error& why);
    boost::asio::awaitable<void> give_up(const storage::file_record& f, const stemd::error& why,
                                         const std::string& reason);
    boost::asio::awaitable<bool> link_refreshed(const storage::file_record& f,
                                                const stemd::error& why);

    boost::asio::any_io_executor ex_;
    storage::store& store_;
    const service_options& options_;
    std::string owner_;
    boost::asio::ssl::context& tls_;
    std::function<void()> wake_poller_;
    object_store* objects_; // null: files go beneath output_dir
    boost::asio::steady_timer timer_;
    std::mt19937_64 rng_{std::random_device{}()};
    progress_table progress_; // an entry per download_one in flight
    int running_ = 0;
    bool woken_ = false;
    bool stopping_ = false;
};

} // namespace stemd::jobs
