#pragma once

// The job lifecycle: submit to MusicGPT, record outcomes, download files.
// Included only by .cpp files (it pulls in Asio).

#include "client/downloader.hpp"
#include "client/musicgpt_client.hpp"
#include "server/webhook_payload.hpp"
#include "storage/job_store.hpp"

#include <boost/asio/steady_timer.hpp>

#include <filesystem>
#include <memory>
#include <set>
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
    std::optional<client::api_failure> refused; // MusicGPT said no (or could not be reached)
};

class job_service {
public:
    job_service(boost::asio::any_io_executor ex, storage::job_store& store, service_options options,
                boost::asio::ssl::context& api_tls, boost::asio::ssl::context& download_tls);

    storage::job_store& store() { return store_; }
    const service_options& options() const { return options_; }

    // Records the job (committed), then submits it with a fresh webhook
    // token. Storage failures come back as the error.
    boost::asio::awaitable<boost::system::result<submit_result>> submit(const job_request& r);

    // Records a parsed delivery for a job (committed before returning), then
    // wakes the downloader.
    boost::system::result<storage::job_record> record(const std::string& job_id,
                                                      const payload& p);

    // Starts the download scheduler; files left unfinished by an earlier
    // process are picked up at once.
    void start();
    // Starts no new downloads; those in flight keep their .part for resume.
    void stop();
    // Something may be runnable now.
    void wake();

private:
    boost::asio::awaitable<void> schedule();
    boost::asio::awaitable<void> download_one(storage::file_record f);
    std::chrono::milliseconds backoff(int attempts);

    boost::asio::any_io_executor ex_;
    storage::job_store& store_;
    service_options options_;
    client::musicgpt_client musicgpt_;
    boost::asio::ssl::context& download_tls_;
    boost::asio::steady_timer timer_;
    std::set<std::int64_t> in_flight_;
    bool woken_ = false;
    bool stopping_ = false;
    bool running_ = false;
};

// The destination of a link: {output_dir}/{task}/{subdir}/{name}.{ext},
// ext from the URL's path; without one the downloader picks it later.
std::filesystem::path destination(const std::filesystem::path& output_dir,
                                  const std::string& task_id, const stem_link& link);

} // namespace stemd::server
