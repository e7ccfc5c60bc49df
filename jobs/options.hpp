#pragma once

// What the job service is configured with (from config::settings, by the
// daemon). Pulls in the client headers, hence Asio: .cpp files only.

#include "client/downloader.hpp"
#include "client/musicgpt_client.hpp"

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace stemd::jobs {

// Telling the user's app when a job completes or fails ([notify]).
struct notify_options {
    std::string url;                // "" = no webhook
    std::vector<unsigned char> key; // the signing secret's key bytes
    bool allow_http = false;
    std::string ca_file;
    std::chrono::milliseconds timeout{10'000};
    std::vector<std::string> command; // argv; empty = none
    std::chrono::milliseconds command_timeout{60'000};

    // The outbox channels these enable ("url", "command").
    std::vector<std::string> channels() const {
        std::vector<std::string> out;
        if (!url.empty())
            out.emplace_back("url");
        if (!command.empty())
            out.emplace_back("command");
        return out;
    }
};

struct service_options {
    std::string public_url;           // "" = MusicGPT is given no webhook_url
    std::filesystem::path output_dir; // {output_dir}/{task_id}/...
    int concurrency = 4;
    int max_attempts = 8;
    // A refused link is sent for a fresh one at most this often, and a file
    // waiting for one outlasts at most this many unsettled look-ups.
    int max_link_refreshes = 3;
    std::chrono::milliseconds retry_base{1000}; // first back-off; doubles per attempt
    std::chrono::milliseconds retry_cap{300'000};
    client::download_options download;
    client::musicgpt_options musicgpt;

    // Catching up through MusicGPT's status endpoint (byId). A job is
    // overdue max(overdue_factor * eta, overdue_floor) after submission.
    int overdue_factor = 3;
    std::chrono::seconds overdue_floor{300};
    int status_per_minute = 20;                        // look-ups across all jobs
    std::chrono::milliseconds poll_retry_base{15'000}; // after an unsettled look-up; doubles
    std::chrono::milliseconds poll_retry_cap{30 * 60'000};
    // A job without files whose task byId keeps answering 404 fails once
    // it is this old: MusicGPT may take a moment to know a new task, but
    // one it still does not know after this will not come back by itself.
    std::chrono::milliseconds unknown_task_after{3'600'000};
    // How long a job left `submitting` by an earlier process may wait for
    // its webhook before it is failed (see stale_submissions.hpp).
    std::chrono::milliseconds submitting_grace{3'600'000};

    // Retention (see retention.hpp): days a final job is kept after its
    // last change (0: for ever), and whether its files go with it.
    int keep_days = 90;
    bool delete_files = false;

    notify_options notify;

    // A store other processes share (PostgreSQL): another process may make
    // work runnable at any time, so each background loop (downloads, status
    // look-ups, notifications, jobs left submitting) looks again at least
    // this often instead of sleeping until the next time it computed from
    // what it saw. 0: the store is this process's alone (SQLite).
    std::chrono::milliseconds shared_poll{0};
    // How long a claim on a download or look-up lasts without renewal (see
    // claims.hpp): a process that dies leaves its work to others after this.
    std::chrono::milliseconds lease{60'000};
};

} // namespace stemd::jobs
