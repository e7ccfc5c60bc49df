#include "server/job_service.hpp"

#include "client/sha256.hpp"
#include "client/url.hpp"
#include "server/file_names.hpp"
#include "server/log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <random>

namespace stemd::server {

namespace net = boost::asio;
using boost::system::result;
using namespace std::chrono_literals;

namespace {

constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

std::string describe(const client::api_failure& f) {
    std::string s = f.http_status ? "MusicGPT answered HTTP " + std::to_string(f.http_status)
                                  : std::string("MusicGPT could not be reached");
    if (!f.error_code.empty())
        s += " " + f.error_code;
    if (!f.message.empty())
        s += ": " + f.message;
    return s;
}

void log_exception(std::string_view what, std::exception_ptr e) {
    if (!e)
        return;
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& ex) {
        log_error("", std::string(what) + " ended by an exception: " + ex.what());
    }
}

} // namespace

std::filesystem::path destination(const std::filesystem::path& output_dir,
                                  const std::string& task_id, const stem_link& link) {
    auto dir = output_dir / safe_dir(task_id);
    if (!link.subdir.empty())
        dir /= link.subdir;
    auto ext = extension_from_url(link.url);
    return dir / (ext.empty() ? link.name : link.name + "." + ext);
}

job_service::job_service(net::any_io_executor ex, storage::job_store& store,
                         service_options options, net::ssl::context& api_tls,
                         net::ssl::context& download_tls)
    : ex_(ex), store_(store), options_(std::move(options)),
      musicgpt_(options_.musicgpt, api_tls), download_tls_(download_tls), timer_(ex) {}

net::awaitable<result<submit_result>> job_service::submit(const job_request& r) {
    // The token goes to MusicGPT only; the store keeps its hash.
    std::string token = client::random_token_hex(32);
    auto created = store_.create_job({.audio_url = r.audio_url,
                                      .audio_file = r.audio_file,
                                      .stems_json = r.stems_json,
                                      .preprocessing_options_json = r.preprocessing_options_json,
                                      .eco_mode = r.eco_mode,
                                      .token_hash = client::sha256_hex(token)});
    if (!created)
        co_return created.error();
    const std::string id = created->id;
    log_info(id, "submitting " + (r.audio_file.empty() ? client::redact(r.audio_url)
                                                       : "file " + r.audio_file) +
                     " to MusicGPT " + options_.musicgpt.api_version);

    client::submit_request req{
        .audio_url = r.audio_url,
        .audio_file = r.audio_file,
        .stems_json = r.stems_json,
        .preprocessing_options_json = r.preprocessing_options_json,
        .eco_mode = r.eco_mode,
        .webhook_url = options_.public_url.empty() ? "" : options_.public_url + "/webhook/" + token,
    };
    auto answer = co_await musicgpt_.submit(req);
    submit_result out;
    if (!answer) {
        std::string reason = describe(answer.error());
        log_warning(id, "submission refused: " + reason);
        if (auto failed = store_.mark_failed(id, reason); !failed)
            co_return failed.error();
        out.refused = answer.error();
    } else {
        auto marked = store_.mark_submitted(id, answer->task_id, answer->conversion_id,
                                            answer->eta, answer->credit_estimate,
                                            answer->status);
        // A webhook may already have moved the job on (it carries the ids
        // too); anything else is a real failure.
        if (!marked && marked.error() != storage::error::invalid_transition)
            co_return marked.error();
        log_info(id, "submitted: task " + answer->task_id + ", conversion " +
                         answer->conversion_id);
    }
    auto job = store_.find(id);
    if (!job)
        co_return job.error();
    out.job = std::move(*job);
    co_return out;
}

result<storage::job_record> job_service::record(const std::string& job_id, const payload& p) {
    storage::outcome o;
    o.what = p.what == payload::state::succeeded ? storage::outcome::kind::succeeded
             : p.what == payload::state::failed  ? storage::outcome::kind::failed
                                                 : storage::outcome::kind::pending;
    o.task_id = p.task_id;
    o.conversion_id = p.conversion_id;
    o.upstream_status = p.upstream_status;
    o.message = p.message;
    o.conversion_cost = p.conversion_cost;
    o.conversion_duration = p.conversion_duration;
    for (const auto& link : p.links)
        o.files.push_back({.name = link.name,
                           .subdir = link.subdir,
                           .url = link.url,
                           .path = destination(options_.output_dir, p.task_id, link).string()});
    auto job = store_.apply(job_id, o);
    if (job)
        wake();
    return job;
}

void job_service::start() {
    if (running_)
        return;
    running_ = true;
    net::co_spawn(ex_, schedule(), [](std::exception_ptr e) { log_exception("download scheduler", e); });
}

void job_service::stop() {
    stopping_ = true;
    timer_.cancel();
}

void job_service::wake() {
    woken_ = true;
    timer_.cancel();
}

std::chrono::milliseconds job_service::backoff(int attempts) {
    // Exponential with jitter in [d/2, d], so many files failing together
    // do not retry in lockstep.
    std::chrono::milliseconds d = options_.retry_base * (1LL << std::clamp(attempts - 1, 0, 20));
    d = std::min(d, options_.retry_cap);
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    std::uniform_int_distribution<long long> jitter(d.count() / 2, d.count());
    return std::chrono::milliseconds(jitter(rng));
}

net::awaitable<void> job_service::schedule() {
    while (!stopping_) {
        woken_ = false;
        int free = options_.concurrency - static_cast<int>(in_flight_.size());
        bool spawned = false;
        if (free > 0) {
            auto files = store_.runnable_files(storage::now_millis(),
                                               options_.concurrency + static_cast<int>(in_flight_.size()));
            if (!files) {
                log_error("", "cannot read pending downloads from the database; retrying in 5 s");
            } else {
                for (auto& f : *files) {
                    if (free == 0)
                        break;
                    if (in_flight_.contains(f.id))
                        continue;
                    in_flight_.insert(f.id);
                    --free;
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
        // A due file that could not be started (database error, or only
        // files already in flight) must not turn this into a busy loop.
        if (!spawned)
            wait = std::max(wait, 50ms);
        timer_.expires_after(wait);
        co_await timer_.async_wait(use_tuple);
    }
}

net::awaitable<void> job_service::download_one(storage::file_record f) {
    struct done_guard {
        job_service& self;
        std::int64_t id;
        ~done_guard() {
            self.in_flight_.erase(id);
            self.wake();
        }
    } guard{*this, f.id};

    auto started = store_.file_started(f.id);
    if (!started) {
        log_error(f.job_id, "cannot mark " + f.name + " as downloading: " + started.error().message());
        co_return;
    }
    const int attempts = started->attempts;
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
        co_return; // interrupted by shutdown: left `downloading`, resumed at next start

    if (got) {
        auto job = store_.file_done(f.id, got->path.string(), static_cast<std::int64_t>(got->bytes),
                                    got->sha256);
        if (!job) {
            log_error(f.job_id, "downloaded " + got->path.string() +
                                    " but could not record it: " + job.error().message());
            co_return;
        }
        log_info(f.job_id, "saved " + got->path.string() + " (" + std::to_string(got->bytes) +
                               " bytes, sha256 " + got->sha256 + ")");
        if (job->status == storage::job_status::completed)
            log_info(f.job_id, "completed: " + std::to_string(job->files.size()) + " files");
        co_return;
    }

    const auto& why = got.error();
    if (!why.retryable || attempts >= options_.max_attempts) {
        log_error(f.job_id, "giving up on " + f.name + " after " + std::to_string(attempts) +
                                " attempts: " + why.message);
        if (auto r = store_.file_failed(f.id, why.message); !r)
            log_error(f.job_id, "cannot record the failure: " + r.error().message());
        co_return;
    }
    auto delay = backoff(attempts);
    log_warning(f.job_id, "download of " + f.name + " failed: " + why.message + "; retrying in " +
                              std::to_string(delay.count()) + " ms");
    if (auto r = store_.file_retry(f.id, why.message, storage::now_millis() + delay.count()); !r)
        log_error(f.job_id, "cannot record the retry: " + r.error().message());
}

} // namespace stemd::server
