#include "jobs/downloads.hpp"

#include "client/error.hpp"
#include "client/s3_download.hpp"
#include "client/url.hpp"
#include "common/log.hpp"
#include "jobs/backoff.hpp"
#include "jobs/claims.hpp"
#include "jobs/closing_write.hpp"
#include "jobs/events.hpp"
#include "jobs/metrics.hpp"
#include "jobs/object_store.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

namespace stemd::jobs {

namespace net = boost::asio;
using namespace std::chrono_literals;

download_scheduler::download_scheduler(net::any_io_executor ex, storage::store& store,
                                       const service_options& options, std::string owner,
                                       net::ssl::context& tls, std::function<void()> wake_poller,
                                       object_store* objects)
    : ex_(ex), store_(store), options_(options), owner_(std::move(owner)), tls_(tls),
      wake_poller_(std::move(wake_poller)), objects_(objects), timer_(ex) {}

void download_scheduler::wake() {
    woken_ = true;
    timer_.cancel();
}

void download_scheduler::stop() {
    stopping_ = true;
    timer_.cancel();
}

net::awaitable<void> download_scheduler::run() {
    while (!stopping_) {
        woken_ = false;
        const bool spawned = claim_and_spawn() > 0;
        if (woken_)
            continue;
        timer_.expires_after(idle_wait(spawned));
        co_await timer_.async_wait(net::as_tuple(net::use_awaitable));
    }
}

// Claims as many due files as there are free slots and starts each;
// returns how many started.
int download_scheduler::claim_and_spawn() {
    const int free = options_.concurrency - running_;
    if (free <= 0)
        return 0;
    auto files = store_.claim_files(owner_, now_millis(), options_.lease.count(), free);
    if (!files) {
        log_error("", "cannot claim pending downloads from the database (" + files.error().message +
                          "); retrying");
        return 0;
    }
    for (auto& f : *files) {
        ++running_;
        net::co_spawn(ex_, download_one(std::move(f)),
                      [](std::exception_ptr e) { log_exception("download", e); });
    }
    return static_cast<int>(files->size());
}

// Until the next file may be due (at most a minute).
std::chrono::milliseconds download_scheduler::idle_wait(bool spawned) {
    auto next = store_.next_wakeup();
    auto wait = 60'000ms;
    // Another process sharing the store may make a file runnable any time.
    if (options_.shared_poll > 0ms)
        wait = std::min(wait, options_.shared_poll);
    if (next && *next)
        wait = std::clamp(std::chrono::milliseconds(**next - now_millis()), 0ms, wait);
    // A due file that could not be claimed (database error, or its
    // destination is being written) must not turn this into a busy loop.
    if (!spawned)
        wait = std::max(wait, 50ms);
    return wait;
}

net::awaitable<void> download_scheduler::download_one(storage::file_record f) {
    struct done_guard {
        download_scheduler& self;
        std::int64_t file_id;
        ~done_guard() {
            self.progress_.erase(file_id);
            --self.running_;
            self.wake();
        }
    } guard{*this, f.id};

    // Claimed: already downloading, this attempt counted.
    std::filesystem::path planned(f.path);
    // Below output_dir nothing is followed through a link (a path planned
    // under an earlier output_dir is taken as it is).
    const auto below = planned.parent_path().lexically_relative(options_.output_dir);
    const bool under_output = !below.empty() && *below.begin() != "..";
    auto& entry = progress_[f.id]; // std::map: the entry stays put while others come and go
    entry.job_id = f.job_id;
    entry.file = storage::file_label(f);
    client::download_request req{
        .url = f.url,
        .directory = planned.parent_path(),
        .root = under_output ? options_.output_dir : std::filesystem::path(),
        .name = f.name,
        .progress = &entry.progress,
    };
    log_info(f.job_id, "downloading " + storage::file_label(f) + " from " + client::redact(f.url) +
                           " (attempt " + std::to_string(f.attempts) + ")");
    const auto started = std::chrono::steady_clock::now();
    // Not a conditional of two co_awaits: GCC 12 miscompiles those.
    result<client::download_result> got = stemd::error{};
    if (objects_)
        got = co_await upload_one(f, entry.progress);
    else
        got = co_await client::download(req, options_.download, tls_);
    // Interrupted by shutdown: left `downloading`, to be resumed; its claim
    // is released once the loop has stopped (service::release_claims).
    if (stopping_ && !got)
        co_return;
    // Named, not temporaries in the co_await'ed calls (GCC 12).
    if (got) {
        const auto took = std::chrono::steady_clock::now() - started;
        co_await finished(f, *got, took);
    } else {
        const stemd::error why = got.error();
        co_await failed(f, why);
    }
}

// The file streamed into its object instead of a .part: each attempt
// starts over (see client/s3_download.hpp), and the claim on the file is
// what makes aborting an earlier process's upload of the key safe.
net::awaitable<result<client::download_result>>
download_scheduler::upload_one(const storage::file_record& f, client::download_progress& progress) {
    // The key is built from the job's task_id, not from the planned path:
    // a path planned under an earlier output_dir would otherwise lose its
    // task folder, and two jobs' files would share a key.
    auto job = store_.find(f.job_id);
    if (!job)
        co_return stemd::error{job.error().code,
                               "cannot look up job " + f.job_id + " to name the object of " +
                                   storage::file_label(f) + ": " + job.error().message};
    const client::s3_download_request req{
        .url = f.url,
        .key_base = objects_->key_base(job->task_id, f),
        .progress = &progress,
        .job_id = f.job_id,
    };
    auto stored = co_await client::download_to_s3(req, options_.download, tls_, objects_->client());
    if (!stored)
        co_return stored.error();
    co_return client::download_result{objects_->path_of(stored->key), stored->bytes,
                                      std::move(stored->sha256), 0, false};
}

net::awaitable<void> download_scheduler::finished(const storage::file_record& f,
                                                  const client::download_result& got,
                                                  std::chrono::steady_clock::duration took) {
    const std::string path = got.path.string();
    const auto done = [&] {
        return store_.file_done(f.id, owner_, path, static_cast<std::int64_t>(got.bytes),
                                got.sha256);
    };
    const std::string what = "record the download of " + storage::file_label(f) + " into " + path;
    auto job = co_await close_claim(done, stopping_, f.job_id, what);
    if (!job) {
        log_error(f.job_id,
                  "downloaded " + path + " but could not record it: " + job.error().message);
        co_return;
    }
    // A file found complete on disk was not downloaded: nothing to count.
    if (!got.already_complete) {
        auto& m = meters();
        m.files_downloaded.add();
        m.download_seconds.observe(std::chrono::duration<double>(took).count());
    }
    log_info(f.job_id, "saved " + got.path.string() + " (" + std::to_string(got.bytes) +
                           " bytes, sha256 " + got.sha256 + ")");
    note_event(
        store_, f.job_id, event_kind::download_done, storage::file_label(f),
        "attempt " + std::to_string(f.attempts) + ": " + std::to_string(got.bytes) + " bytes" +
            (got.resumed_from > 0 ? " (resumed at " + std::to_string(got.resumed_from) + ")" : ""));
    note_if_final(store_, storage::job_status::downloading, *job);
    if (job->status == storage::job_status::completed)
        log_info(f.job_id, "completed: " + std::to_string(job->files.size()) + " files");
}

// Waits for a fresh link, tries again later, or gives up.
net::awaitable<void> download_scheduler::failed(const storage::file_record& f,
                                                const stemd::error& why) {
    const int attempts = f.attempts;
    const bool refused = why.code == client::error::link_expired;
    if (refused && f.link_refreshes >= options_.max_link_refreshes) {
        // The same link, or fresh ones, refused again and again: asking
        // MusicGPT once more would only loop.
        const std::string reason = why.message + " (refused again after " +
                                   std::to_string(f.link_refreshes) +
                                   " fresh links from MusicGPT; `stemd retry` tries again)";
        co_await give_up(f, why, reason);
        co_return;
    }
    // Not a co_await inside the condition: GCC 12 miscompiles those.
    if (refused && attempts < options_.max_attempts) {
        const bool waiting = co_await link_refreshed(f, why);
        if (waiting) {
            meters().download_retries.add(download_cause(why));
            co_return;
        }
    }
    if (!why.transient() || attempts >= options_.max_attempts) {
        co_await give_up(f, why, why.message);
        co_return;
    }
    const auto delay = backoff(options_.retry_base, options_.retry_cap, attempts, rng_());
    log_warning(f.job_id, "download of " + f.name + " failed: " + why.message + "; retrying in " +
                              std::to_string(delay.count()) + " ms");
    const auto next_attempt_at = now_millis() + delay.count();
    const auto retry = [&] {
        return store_.file_retry(f.id, owner_, why.message, next_attempt_at);
    };
    const std::string what = "record the retry of " + storage::file_label(f);
    auto r = co_await close_claim(retry, stopping_, f.job_id, what);
    if (!r) {
        log_error(f.job_id, "cannot record the retry: " + r.error().message);
        co_return;
    }
    meters().download_retries.add(download_cause(why));
    note_event(store_, f.job_id, event_kind::download_retry, storage::file_label(f),
               "attempt " + std::to_string(attempts) + ": " + why.message + "; retrying in " +
                   std::to_string(delay.count()) + " ms");
}

net::awaitable<void> download_scheduler::give_up(const storage::file_record& f,
                                                 const stemd::error& why,
                                                 const std::string& reason) {
    log_error(f.job_id, "giving up on " + f.name + " after " + std::to_string(f.attempts) +
                            " attempts: " + reason);
    const auto fail = [&] {
        return store_.file_failed(f.id, owner_, reason);
    };
    const std::string what = "record the failure of " + storage::file_label(f);
    auto job = co_await close_claim(fail, stopping_, f.job_id, what);
    if (!job) {
        log_error(f.job_id, "cannot record the failure: " + job.error().message);
        co_return;
    }
    meters().download_failures.add(download_cause(why));
    note_event(store_, f.job_id, event_kind::download_failed, storage::file_label(f),
               "attempt " + std::to_string(f.attempts) + ": " + reason);
    note_if_final(store_, storage::job_status::downloading, *job);
}

// A refused link (401/403/404/410) has most likely expired: fresh links
// come from a status look-up, so the file waits for one instead of trying
// the same link again. False when that cannot work (no task_id to look up).
net::awaitable<bool> download_scheduler::link_refreshed(const storage::file_record& f,
                                                        const stemd::error& why) {
    auto job = store_.find(f.job_id);
    if (!job || job->task_id.empty())
        co_return false;
    // `now` of the first try: the look-up is planned for when the link was refused.
    const millis refused_at = now_millis();
    const auto expired = [&] {
        return store_.file_link_expired(f.id, owner_, why.message, refused_at);
    };
    const std::string what = "record that " + storage::file_label(f) + " needs a fresh link";
    auto waiting = co_await close_claim(expired, stopping_, f.job_id, what);
    if (!waiting) {
        log_error(f.job_id, "cannot record that " + f.name +
                                " needs a fresh link: " + waiting.error().message);
        co_return false;
    }
    log_warning(f.job_id, "download of " + f.name + " refused (" + why.message +
                              "); asking MusicGPT for fresh links");
    note_event(store_, f.job_id, event_kind::link_expired, storage::file_label(f),
               "attempt " + std::to_string(f.attempts) + ": " + why.message +
                   "; asking MusicGPT for fresh links");
    wake_poller_();
    co_return true;
}

} // namespace stemd::jobs
