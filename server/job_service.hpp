#pragma once

// The job lifecycle: submit to MusicGPT, record outcomes, download files.
// Included only by .cpp files (it pulls in Asio).

#include "client/downloader.hpp"
#include "client/musicgpt_client.hpp"
#include "musicgpt/report.hpp"
#include "storage/store.hpp"

#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

namespace stemd::server {

struct service_options {
    std::string public_url;           // "" = MusicGPT is given no webhook_url
    std::filesystem::path output_dir; // {output_dir}/{task_id}/...
    int concurrency = 4;
    int max_attempts = 8;
    std::chrono::milliseconds retry_base{1000}; // first back-off; doubles per attempt
    std::chrono::milliseconds retry_cap{300'000};
    client::download_options download;
    client::musicgpt_options musicgpt;

    // Catching up through MusicGPT's status endpoint (byId). A job is
    // overdue max(overdue_factor * eta, overdue_floor) after submission.
    int overdue_factor = 3;
    std::chrono::seconds overdue_floor{300};
    int status_per_minute = 20; // look-ups across all jobs
    std::chrono::milliseconds poll_retry_base{15'000}; // after an unsettled look-up; doubles
    std::chrono::milliseconds poll_retry_cap{30 * 60'000};
    // How long a job left `submitting` by an earlier process may wait for
    // its webhook before it is failed (see job_service::start).
    std::chrono::milliseconds submitting_grace{3'600'000};
};

// Spreads calls to a rate-limited endpoint over time: up to `capacity` at
// once, then `per_second` on average. Pure (time is passed in), one thread.
class token_bucket {
public:
    using clock = std::chrono::steady_clock;

    token_bucket(double capacity, double per_second, clock::time_point now);
    // For an endpoint allowed `per_minute` calls a minute: sized so that no
    // window of 60 s ever holds more than that many calls, since a server
    // counting per sliding minute would refuse a full burst followed by a
    // full refill.
    static token_bucket per_minute(int per_minute, clock::time_point now);

    // Takes a token and returns zero when one is there at `now`; otherwise
    // takes nothing and returns how long until one will be.
    clock::duration take(clock::time_point now);
    // No token before `until` (a server's Retry-After), then one.
    void pause_until(clock::time_point until);

private:
    void refill(clock::time_point now);

    double capacity_;
    double per_second_;
    double tokens_;
    clock::time_point updated_;
};

// What a client asked the local API for (already validated).
struct job_request {
    std::string audio_url;
    std::string audio_file;
    std::string stems_json;
    std::string preprocessing_options_json;
    bool eco_mode = false;
};

struct submit_result {
    storage::job_record job;
    std::optional<musicgpt::refusal> refused; // MusicGPT said no (or could not be reached)
};

class job_service {
public:
    job_service(boost::asio::any_io_executor ex, storage::store& store, service_options options,
                boost::asio::ssl::context& api_tls, boost::asio::ssl::context& download_tls);

    storage::store& store() { return store_; }
    const service_options& options() const { return options_; }

    // Records the job (committed), then submits it with a fresh webhook
    // token. Storage failures come back as the error.
    boost::asio::awaitable<stemd::result<submit_result>> submit(const job_request& r);

    // Records a parsed delivery for a job (committed before returning), then
    // wakes the downloader.
    stemd::result<storage::job_record> record(const std::string& job_id,
                                              const musicgpt::report& p);

    // Another go for a failed job (see store::retry); wakes the
    // downloader and the poller. The error's message says why not.
    stemd::result<storage::job_record> retry(const std::string& key);

    // Starts the download scheduler, the status poller and the heartbeat of
    // their claims (downloads and look-ups are claimed through the store,
    // under this process's owner id, for a lease renewed while they run).
    // Whatever an earlier process left unfinished is picked up: files as
    // soon as their claims are released or expire, planned
    // status look-ups when due, and jobs left `submitting` (the process
    // died between MusicGPT's answer and recording it) get
    // submitting_grace from their creation for their webhook, then fail
    // with advice; they are never submitted again blindly.
    void start();
    // Starts no new downloads or look-ups; downloads in flight keep their
    // .part for resume.
    void stop();
    // Something may be runnable now.
    void wake();
    // A status look-up may be due now.
    void wake_poller();

private:
    boost::asio::awaitable<void> schedule();
    boost::asio::awaitable<void> download_one(storage::file_record f);
    std::chrono::milliseconds backoff(int attempts);

    boost::asio::awaitable<void> poll();
    boost::asio::awaitable<bool> take_token();
    boost::asio::awaitable<void> poll_one(const std::string& job_id);
    void poll_later(const storage::job_record& job, std::string_view why, bool trouble);
    std::chrono::milliseconds first_poll_delay(std::optional<double> eta) const;
    boost::asio::awaitable<void> settle_stale_submissions(storage::millis started_at);
    bool link_refreshed(const storage::file_record& f, const stemd::error& why);
    void release_poll(const std::string& job_id, std::optional<storage::millis> replan = {});
    boost::asio::awaitable<void> keep_claims();

    boost::asio::any_io_executor ex_;
    storage::store& store_;
    service_options options_;
    client::musicgpt_client musicgpt_;
    boost::asio::ssl::context& download_tls_;
    std::string owner_; // names this process in the claims it takes
    boost::asio::steady_timer timer_;
    boost::asio::steady_timer poll_timer_;
    boost::asio::steady_timer stale_timer_;
    boost::asio::steady_timer lease_timer_;
    token_bucket status_bucket_;
    int downloads_running_ = 0;
    bool woken_ = false;
    bool poll_woken_ = false;
    bool stopping_ = false;
    bool running_ = false;
};

// The destination of a link: {output_dir}/{task}/{subdir}/{name}.{ext},
// ext from the URL's path; without one the downloader picks it later.
std::filesystem::path destination(const std::filesystem::path& output_dir,
                                  const std::string& task_id, const musicgpt::stem_link& link);

} // namespace stemd::server
