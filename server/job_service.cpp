#include "server/job_service.hpp"

#include "common/crypto.hpp"
#include "client/error.hpp"
#include "client/media_type.hpp"
#include "client/url.hpp"
#include "common/file_names.hpp"
#include "storage/error.hpp"
#include "common/log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <cmath>
#include <random>

#include <unistd.h>

namespace stemd::server {

namespace net = boost::asio;
using namespace std::chrono_literals;

namespace {

constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

// How long a claim on a download or look-up lasts without renewal: a
// process that dies leaves its work to others (or its successor) after this.
constexpr std::chrono::milliseconds lease = 60s;

std::string describe(const musicgpt::refusal& f) {
    std::string s = f.http_status ? "MusicGPT answered HTTP " + std::to_string(f.http_status)
                                  : std::string("MusicGPT could not be reached");
    if (!f.error_code.empty())
        s += " " + f.error_code;
    if (!f.message.empty())
        s += ": " + f.message;
    return s;
}

using steady = std::chrono::steady_clock;

// Look-ups handed out per database read; each is then paced by the bucket.
constexpr int poll_batch = 32;
// A 429 or 503 without a usable Retry-After pauses look-ups this long.
constexpr auto default_pause = 60s;
constexpr auto longest_pause = 3600s;
// In poll-only mode the first look-up waits for the eta, but at least this
// (or overdue_floor, if shorter), so a zero eta does not mean a look-up
// the instant MusicGPT accepted the job.
constexpr auto poll_only_floor = 10s;
// The longest eta taken at its word; anything beyond is treated as a day.
constexpr double longest_eta_seconds = 86'400;

constexpr std::string_view stale_submission_reason =
    "stemd stopped while submitting this job; MusicGPT may or may not have it: check your "
    "MusicGPT dashboard, then submit again";

// A duration in [d/2, d], so many jobs or files failing together do not
// retry in lockstep.
std::chrono::milliseconds jittered(std::chrono::milliseconds d) {
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    std::uniform_int_distribution<long long> pick(d.count() / 2, d.count());
    return std::chrono::milliseconds(pick(rng));
}

// base * 2^(attempts-1), at most cap.
std::chrono::milliseconds doubled(std::chrono::milliseconds base, std::chrono::milliseconds cap,
                                  int attempts) {
    const std::chrono::milliseconds d = base * (1LL << std::clamp(attempts - 1, 0, 20));
    return std::min(d, cap);
}

std::string seconds_text(std::chrono::milliseconds d) {
    return std::to_string((d.count() + 999) / 1000) + " s";
}


} // namespace

std::filesystem::path destination(const std::filesystem::path& output_dir,
                                  const std::string& task_id, const musicgpt::stem_link& link) {
    auto dir = output_dir / safe_dir(task_id);
    if (!link.subdir.empty())
        dir /= link.subdir;
    auto ext = client::extension_from_url(link.url);
    return dir / (ext.empty() ? link.name : link.name + "." + ext);
}

token_bucket::token_bucket(double capacity, double per_second, clock::time_point now)
    : capacity_(std::max(capacity, 1.0)), per_second_(std::max(per_second, 1e-6)),
      tokens_(capacity_), updated_(now) {}

token_bucket token_bucket::per_minute(int per_minute, clock::time_point now) {
    // A burst of a tenth of the allowance (at least one call), and a refill
    // that with the burst adds up to the allowance in any 60 s.
    const int n = std::max(per_minute, 1);
    const int burst = std::max(n / 10, 1);
    return token_bucket(burst, std::max(n - burst, 1) / 60.0, now);
}

void token_bucket::refill(clock::time_point now) {
    if (now <= updated_)
        return;
    const std::chrono::duration<double> elapsed = now - updated_;
    tokens_ = std::min(capacity_, tokens_ + elapsed.count() * per_second_);
    updated_ = now;
}

token_bucket::clock::duration token_bucket::take(clock::time_point now) {
    if (now < updated_)
        return updated_ - now; // paused
    refill(now);
    if (tokens_ >= 1) {
        tokens_ -= 1;
        return clock::duration::zero();
    }
    const std::chrono::duration<double> wait((1 - tokens_) / per_second_);
    return std::max<clock::duration>(std::chrono::duration_cast<clock::duration>(wait),
                                     std::chrono::milliseconds(1));
}

void token_bucket::pause_until(clock::time_point until) {
    if (until <= updated_)
        return;
    // One call when the server said calls may resume, then the steady
    // rate: a full burst right away would likely be refused again.
    tokens_ = 1;
    updated_ = until;
}

job_service::job_service(net::any_io_executor ex, storage::store& store,
                         service_options options, net::ssl::context& api_tls,
                         net::ssl::context& download_tls)
    : ex_(ex), store_(store), options_(std::move(options)),
      musicgpt_(options_.musicgpt, api_tls), download_tls_(download_tls),
      // Unique per process: a claim names the process that took it.
      owner_("stemd-" + std::to_string(::getpid()) + "-" + random_token_hex(4)), timer_(ex),
      poll_timer_(ex), stale_timer_(ex), lease_timer_(ex),
      status_bucket_(token_bucket::per_minute(options_.status_per_minute, steady::now())) {}

std::chrono::milliseconds job_service::first_poll_delay(std::optional<double> eta) const {
    using std::chrono::milliseconds;
    const auto floor = std::chrono::duration_cast<milliseconds>(options_.overdue_floor);
    if (!eta || !std::isfinite(*eta) || *eta < 0)
        return floor;
    const milliseconds expected(std::llround(std::min(*eta, longest_eta_seconds) * 1000));
    if (options_.public_url.empty()) {
        // Poll-only: no webhook will come, so the first look-up is when
        // MusicGPT expects to be done rather than when a webhook is late.
        return std::max(expected, std::min<milliseconds>(poll_only_floor, floor));
    }
    return std::max(expected * std::max(options_.overdue_factor, 1), floor);
}

net::awaitable<result<submit_result>> job_service::submit(const job_request& r) {
    // The token goes to MusicGPT only; the store keeps its hash.
    std::string token = random_token_hex(32);
    auto created = store_.create_job({.audio_url = r.audio_url,
                                      .audio_file = r.audio_file,
                                      .stems_json = r.stems_json,
                                      .preprocessing_options_json = r.preprocessing_options_json,
                                      .eco_mode = r.eco_mode,
                                      .token_hash = sha256_hex(token)});
    if (!created)
        co_return created.error();
    const std::string id = created->id;
    log_info(id, "submitting " + (r.audio_file.empty() ? client::redact(r.audio_url)
                                                       : "file " + r.audio_file) +
                     " to MusicGPT " + options_.musicgpt.api_version);

    musicgpt::submission req{
        .audio_url = r.audio_url,
        .audio_file = r.audio_file,
        .stems_json = r.stems_json,
        .preprocessing_options_json = r.preprocessing_options_json,
        .eco_mode = r.eco_mode,
        .webhook_url = options_.public_url.empty() ? "" : options_.public_url + "/webhook/" + token,
    };
    auto reply = co_await musicgpt_.submit(req);
    submit_result out;
    if (!reply || reply->refused) {
        // Not reaching MusicGPT is reported to the caller like a refusal.
        out.refused = reply ? *reply->refused : musicgpt::refusal{.message = reply.error().message};
        std::string reason = describe(*out.refused);
        log_warning(id, "submission refused: " + reason);
        if (auto failed = store_.mark_failed(id, reason); !failed)
            co_return failed.error();
    } else {
        const auto* answer = &reply->accepted;
        const auto poll_at = storage::now_millis() + first_poll_delay(answer->eta).count();
        auto marked = store_.mark_submitted(id, answer->task_id, answer->conversion_id,
                                            answer->eta, answer->credit_estimate,
                                            answer->status, poll_at);
        // A webhook may already have moved the job on (it carries the ids
        // too); anything else is a real failure.
        if (!marked && marked.error().code != storage::error::invalid_transition)
            co_return marked.error();
        wake_poller(); // its look-up may come before any the poller waits for
        log_info(id, "submitted: task " + answer->task_id + ", conversion " +
                         answer->conversion_id);
    }
    auto job = store_.find(id);
    if (!job)
        co_return job.error();
    out.job = std::move(*job);
    co_return out;
}

result<storage::job_record> job_service::record(const std::string& job_id,
                                                const musicgpt::report& p) {
    std::vector<std::string> paths;
    for (const auto& link : p.links)
        paths.push_back(destination(options_.output_dir, p.task_id, link).string());
    auto job = store_.apply(job_id, p, paths);
    if (!job)
        return job;
    // A job stemd did not submit (adopted through webhook.secret) has no
    // look-up planned yet; without one a lost final webhook would leave it
    // waiting for ever.
    if (job->status == storage::job_status::submitted && !job->task_id.empty() &&
        !job->next_poll_at) {
        const auto at = storage::now_millis() + first_poll_delay(job->eta).count();
        if (store_.schedule_poll(job->id, at))
            job->next_poll_at = at;
        wake_poller();
    }
    wake();
    return job;
}

result<storage::job_record> job_service::retry(const std::string& key) {
    auto job = store_.retry(key, storage::now_millis());
    if (!job)
        return job;
    log_info(job->id, "retry requested: the job is " +
                          std::string(storage::to_string(job->status)) + " again");
    wake();
    wake_poller();
    return job;
}

void job_service::start() {
    if (running_)
        return;
    running_ = true;
    // Jobs created from now on belong to this process.
    const storage::millis started_at = storage::now_millis();
    net::co_spawn(ex_, schedule(), [](std::exception_ptr e) { log_exception("download scheduler", e); });
    net::co_spawn(ex_, poll(), [](std::exception_ptr e) { log_exception("status poller", e); });
    net::co_spawn(ex_, settle_stale_submissions(started_at),
                  [](std::exception_ptr e) { log_exception("stale submissions", e); });
    net::co_spawn(ex_, keep_claims(), [](std::exception_ptr e) { log_exception("claims", e); });
}

void job_service::stop() {
    stopping_ = true;
    timer_.cancel();
    poll_timer_.cancel();
    stale_timer_.cancel();
    lease_timer_.cancel();
}

void job_service::wake_poller() {
    poll_woken_ = true;
    poll_timer_.cancel();
}

void job_service::wake() {
    woken_ = true;
    timer_.cancel();
}

std::chrono::milliseconds job_service::backoff(int attempts) {
    return jittered(doubled(options_.retry_base, options_.retry_cap, attempts));
}

net::awaitable<void> job_service::schedule() {
    while (!stopping_) {
        woken_ = false;
        const int free = options_.concurrency - downloads_running_;
        bool spawned = false;
        if (free > 0) {
            auto files = store_.claim_files(owner_, storage::now_millis(), lease.count(), free);
            if (!files) {
                log_error("", "cannot claim pending downloads from the database (" +
                                  files.error().message + "); retrying");
            } else {
                for (auto& f : *files) {
                    ++downloads_running_;
                    spawned = true;
                    net::co_spawn(ex_, download_one(std::move(f)),
                                  [](std::exception_ptr e) { log_exception("download", e); });
                }
            }
        }
        if (woken_)
            continue;
        auto next = store_.next_wakeup();
        auto wait = 60'000ms;
        if (next && *next) {
            auto until = **next - storage::now_millis();
            wait = std::clamp(std::chrono::milliseconds(until), 0ms, wait);
        }
        // A due file that could not be claimed (database error, or its
        // destination is being written) must not turn this into a busy loop.
        if (!spawned)
            wait = std::max(wait, 50ms);
        timer_.expires_after(wait);
        co_await timer_.async_wait(use_tuple);
    }
}

net::awaitable<void> job_service::download_one(storage::file_record f) {
    struct done_guard {
        job_service& self;
        ~done_guard() {
            --self.downloads_running_;
            self.wake();
        }
    } guard{*this};

    // Claimed: already downloading, this attempt counted.
    const int attempts = f.attempts;
    std::filesystem::path planned(f.path);
    client::download_request req{
        .url = f.url,
        .directory = planned.parent_path(),
        .name = f.name,
    };
    log_info(f.job_id, "downloading " + (f.subdir.empty() ? f.name : f.subdir + "/" + f.name) +
                           " from " + client::redact(f.url) + " (attempt " +
                           std::to_string(attempts) + ")");
    auto got = co_await client::download(req, options_.download, download_tls_);
    if (stopping_ && !got)
        co_return; // interrupted by shutdown: left `downloading` and claimed, resumed at next start

    if (got) {
        auto job = store_.file_done(f.id, owner_, got->path.string(),
                                    static_cast<std::int64_t>(got->bytes), got->sha256);
        if (!job) {
            log_error(f.job_id, "downloaded " + got->path.string() +
                                    " but could not record it: " + job.error().message);
            co_return;
        }
        log_info(f.job_id, "saved " + got->path.string() + " (" + std::to_string(got->bytes) +
                               " bytes, sha256 " + got->sha256 + ")");
        if (job->status == storage::job_status::completed)
            log_info(f.job_id, "completed: " + std::to_string(job->files.size()) + " files");
        co_return;
    }

    const auto& why = got.error();
    if (why.code == client::error::link_expired && attempts < options_.max_attempts &&
        link_refreshed(f, why))
        co_return;
    if (!why.transient() || attempts >= options_.max_attempts) {
        log_error(f.job_id, "giving up on " + f.name + " after " + std::to_string(attempts) +
                                " attempts: " + why.message);
        if (auto r = store_.file_failed(f.id, owner_, why.message); !r)
            log_error(f.job_id, "cannot record the failure: " + r.error().message);
        co_return;
    }
    auto delay = backoff(attempts);
    log_warning(f.job_id, "download of " + f.name + " failed: " + why.message + "; retrying in " +
                              std::to_string(delay.count()) + " ms");
    const auto next_attempt_at = storage::now_millis() + delay.count();
    if (auto r = store_.file_retry(f.id, owner_, why.message, next_attempt_at); !r)
        log_error(f.job_id, "cannot record the retry: " + r.error().message);
}

// A refused link (401/403/404/410) has most likely expired: fresh links
// come from a status look-up, so the file waits for one instead of trying
// the same link again. False when that cannot work (no task_id to look up).
bool job_service::link_refreshed(const storage::file_record& f,
                                 const stemd::error& why) {
    auto job = store_.find(f.job_id);
    if (!job || job->task_id.empty())
        return false;
    auto waiting = store_.file_link_expired(f.id, owner_, why.message, storage::now_millis());
    if (!waiting) {
        log_error(f.job_id, "cannot record that " + f.name + " needs a fresh link: " +
                                waiting.error().message);
        return false;
    }
    log_warning(f.job_id, "download of " + f.name + " refused (" + why.message +
                              "); asking MusicGPT for fresh links");
    wake_poller();
    return true;
}

// ---------------------------------------------------------------------------
// Status look-ups (byId).

net::awaitable<void> job_service::poll() {
    while (!stopping_) {
        poll_woken_ = false;
        auto next = store_.next_poll_due();
        if (next && *next && **next <= storage::now_millis()) {
            if (!co_await take_token())
                co_return;
            // Claimed after the token: a claim never waits for the bucket.
            auto claimed = store_.claim_polls(owner_, storage::now_millis(), lease.count(), 1);
            if (claimed) {
                for (const auto& job : *claimed)
                    co_await poll_one(job.id);
                continue;
            }
            next = claimed.error();
        }
        if (!next) {
            log_error("", "cannot read due status look-ups from the database (" +
                              next.error().message + "); retrying in 5 s");
            poll_timer_.expires_after(5s);
            co_await poll_timer_.async_wait(use_tuple);
            continue;
        }
        if (poll_woken_)
            continue;
        auto wait = std::chrono::milliseconds(60s);
        if (*next)
            wait = std::clamp(std::chrono::milliseconds(**next - storage::now_millis()), 0ms, wait);
        // Never a busy loop, even if the clock and the database disagree.
        poll_timer_.expires_after(std::max(wait, std::chrono::milliseconds(20)));
        co_await poll_timer_.async_wait(use_tuple);
    }
}

// Waits until the global bucket gives a token (the one pacing every
// look-up, so that many overdue jobs never add up to a 429 storm); false
// when the service is stopping.
net::awaitable<bool> job_service::take_token() {
    for (;;) {
        if (stopping_)
            co_return false;
        const auto wait = status_bucket_.take(steady::now());
        if (wait == steady::duration::zero())
            co_return true;
        poll_timer_.expires_after(wait);
        co_await poll_timer_.async_wait(use_tuple);
    }
}

net::awaitable<void> job_service::poll_one(const std::string& job_id) {
    // Read again: while this look-up waited for its token a webhook may
    // have settled the job, or the plan changed.
    auto job = store_.find(job_id);
    if (!job || job->task_id.empty() || !job->next_poll_at ||
        *job->next_poll_at > storage::now_millis() || storage::is_final(job->status)) {
        release_poll(job_id);
        co_return;
    }

    auto answer = co_await musicgpt_.by_id(job->task_id);
    if (stopping_)
        co_return; // the plan stays; the next start looks it up
    if (!answer) {
        poll_later(*job, answer.error().message, true);
        co_return;
    }
    if (answer->refused) {
        const auto& f = *answer->refused;
        if (f.http_status == 429 || f.http_status == 503) {
            const auto pause = f.retry_after_seconds
                                   ? std::chrono::seconds(std::llround(std::clamp(
                                         *f.retry_after_seconds, 1.0,
                                         static_cast<double>(longest_pause.count()))))
                                   : std::chrono::seconds(default_pause);
            // Every look-up waits, not just this job's: the limit is the
            // account's.
            status_bucket_.pause_until(steady::now() + pause);
            const auto at = storage::now_millis() +
                            std::chrono::duration_cast<std::chrono::milliseconds>(pause).count();
            release_poll(job->id, at);
            log_warning(job->id, "status look-up refused with HTTP " +
                                     std::to_string(f.http_status) +
                                     "; pausing all look-ups for " + seconds_text(pause));
            co_return;
        }
        poll_later(*job, describe(f), true);
        co_return;
    }

    const auto* parsed = &answer->conversion;
    if (parsed->task_id != job->task_id) {
        poll_later(*job,
                   "MusicGPT's status answer is about task " + parsed->task_id + ", not " +
                       job->task_id,
                   true);
        co_return;
    }
    auto recorded = record(job->id, *parsed);
    if (!recorded) {
        poll_later(*job, "cannot record MusicGPT's status answer: " + recorded.error().message,
                   true);
        co_return;
    }
    log_info(job->id, "status look-up: " + parsed->upstream_status + ", " +
                          std::to_string(parsed->links.size()) + " links; job is now " +
                          std::string(storage::to_string(recorded->status)));
    // Still in queue, or links that did not include a file waiting for a
    // fresh one: the plan has not moved, so ask again later.
    if (!storage::is_final(recorded->status) && recorded->next_poll_at &&
        *recorded->next_poll_at <= storage::now_millis())
        poll_later(*recorded, "MusicGPT says " + parsed->upstream_status, false);
    else
        release_poll(job->id);
}

// Ends a claimed look-up that poll_later does not end.
void job_service::release_poll(const std::string& job_id, std::optional<storage::millis> replan) {
    if (auto r = store_.release_poll(job_id, owner_, replan); !r)
        log_error(job_id, "cannot end the status look-up: " + r.error().message);
}

// The heartbeat of this process's claims (downloads and look-ups), so that
// none expires while its work runs and none outlives the process by more
// than a lease.
net::awaitable<void> job_service::keep_claims() {
    while (!stopping_) {
        lease_timer_.expires_after(lease / 3);
        co_await lease_timer_.async_wait(use_tuple);
        if (stopping_)
            co_return;
        if (auto r = store_.renew_claims(owner_, storage::now_millis(), lease.count()); !r)
            log_error("", "cannot renew this process's claims: " + r.error().message);
    }
}

// Plans the next look-up of a job this one did not settle, backing off
// with each one in a row.
void job_service::poll_later(const storage::job_record& job, std::string_view why, bool trouble) {
    const auto delay =
        jittered(doubled(options_.poll_retry_base, options_.poll_retry_cap, job.poll_attempts + 1));
    if (auto r = store_.poll_again(job.id, owner_, storage::now_millis() + delay.count()); !r) {
        log_error(job.id, "cannot plan the next status look-up: " + r.error().message);
        return;
    }
    const std::string text =
        "status look-up: " + std::string(why) + "; asking again in " + seconds_text(delay);
    if (trouble)
        log_warning(job.id, text);
    else
        log_info(job.id, text);
}

net::awaitable<void> job_service::settle_stale_submissions(storage::millis started_at) {
    auto stale = store_.stale_submitting(started_at);
    if (!stale) {
        log_error("", "cannot read jobs left submitting from the database: " +
                          stale.error().message);
        co_return;
    }
    if (stale->empty())
        co_return;
    log_warning("", std::to_string(stale->size()) +
                        " jobs were left submitting by an earlier stemd; each waits for its "
                        "webhook until " + seconds_text(options_.submitting_grace) +
                        " after its creation, then fails (none is submitted again "
                        "automatically)");
    for (const auto& job : *stale) {
        const storage::millis deadline = job.created_at + options_.submitting_grace.count();
        while (!stopping_ && storage::now_millis() < deadline) {
            stale_timer_.expires_after(
                std::chrono::milliseconds(deadline - storage::now_millis()));
            co_await stale_timer_.async_wait(use_tuple);
        }
        if (stopping_)
            co_return;
        auto failed = store_.give_up_submitting(job.id, stale_submission_reason);
        if (failed)
            log_warning(job.id, std::string(stale_submission_reason));
        else if (failed.error().code != storage::error::invalid_transition)
            log_error(job.id, "cannot fail the job left submitting: " + failed.error().message);
    }
}

} // namespace stemd::server
