#include "jobs/service.hpp"

#include "client/url.hpp"
#include "common/crypto.hpp"
#include "common/log.hpp"
#include "common/text.hpp"
#include "jobs/claims.hpp"
#include "jobs/describe.hpp"
#include "jobs/downloads.hpp"
#include "jobs/error.hpp"
#include "jobs/event_hub.hpp"
#include "jobs/event_tail.hpp"
#include "jobs/events.hpp"
#include "jobs/file_layout.hpp"
#include "jobs/metrics.hpp"
#include "jobs/notifier.hpp"
#include "jobs/object_store.hpp"
#include "jobs/poll_plan.hpp"
#include "jobs/poller.hpp"
#include "jobs/retention.hpp"
#include "jobs/stale_submissions.hpp"
#include "musicgpt/stem_map.hpp"
#include "storage/error.hpp"

#include <boost/asio/co_spawn.hpp>

namespace stemd::jobs {

namespace net = boost::asio;

namespace {

// Keeps a job id in the set of submissions in flight for as long as the
// submit coroutine runs, however it ends.
class in_flight {
public:
    in_flight(std::set<std::string, std::less<>>& set, std::string id)
        : set_(set), id_(std::move(id)) {
        set_.insert(id_);
    }
    ~in_flight() { set_.erase(id_); }
    in_flight(const in_flight&) = delete;
    in_flight& operator=(const in_flight&) = delete;

private:
    std::set<std::string, std::less<>>& set_;
    std::string id_;
};

result<void> within_link_cap(const musicgpt::report& p) {
    if (p.links.size() <= musicgpt::max_links_per_report)
        return {};
    return make_error(error::too_many_links,
                      "the report for task " + p.task_id + " carries " +
                          std::to_string(p.links.size()) + " links, more than the " +
                          std::to_string(musicgpt::max_links_per_report) +
                          " a stem separation can have; nothing was recorded");
}

// Scheme, host and port: where a request to either URL would go.
bool same_origin(const client::http_url& a, const client::http_url& b) {
    return a.https == b.https && a.port == b.port && iequals(a.host, b.host);
}

} // namespace

service::service(net::any_io_executor ex, storage::store& store, service_options options,
                 net::ssl::context& api_tls, net::ssl::context& download_tls)
    : ex_(ex), store_(store), options_(std::move(options)), owner_(new_owner_id()),
      musicgpt_(options_.musicgpt, api_tls),
      objects_(options_.s3 ? std::make_unique<object_store>(*options_.s3) : nullptr),
      downloads_(std::make_unique<download_scheduler>(
          ex, store, options_, owner_, download_tls, [this] { wake_poller(); }, objects_.get())),
      poller_(
          std::make_unique<status_poller>(ex, store, options_, owner_, musicgpt_,
                                          [this](const std::string& id, const musicgpt::report& p) {
                                              return record(id, p, report_source::lookup);
                                          })),
      stale_(std::make_unique<stale_submissions>(ex, store, options_.submitting_grace,
                                                 options_.shared_poll)),
      heartbeat_(std::make_unique<heartbeat>(ex, store, owner_, options_.lease)),
      pruner_(std::make_unique<pruner>(
          ex, store,
          retention_options{options_.keep_days, options_.delete_files, options_.output_dir,
                            std::chrono::milliseconds{3'600'000}, objects_.get()})) {
    // The scheduler reads options_ by reference: downloads it starts count
    // each chunk as it is written, so that a rate over the counter is the
    // rate of the network, and bytes kept in a .part count too.
    options_.download.on_bytes = [](std::uint64_t n) {
        meters().bytes_downloaded.add(n);
    };
    // From here on, a job that becomes completed or failed gets its outbox
    // events in the same transaction.
    store_.set_outbox_channels(options_.notify.channels());
    if (!options_.notify.channels().empty())
        notifier_ = std::make_unique<notifier>(ex, store, options_.notify, owner_);
    // Other processes' job events reach this one's readers by reading the
    // store; once a second keeps a live page live.
    if (options_.shared_poll.count() > 0) {
        event_tail_ = std::make_unique<event_tail>(ex, std::chrono::seconds(1));
        hub().read_store_always(true);
    }
}

service::~service() {
    if (event_tail_)
        hub().read_store_always(false);
}

std::chrono::milliseconds service::first_poll_delay(std::optional<double> eta) const {
    return jobs::first_poll_delay({.webhooks = !options_.public_url.empty(),
                                   .overdue_factor = options_.overdue_factor,
                                   .overdue_floor = options_.overdue_floor},
                                  eta);
}

musicgpt::submission service::submission_for(const job_request& r, const std::string& token) const {
    return {
        .audio_url = r.audio_url,
        .audio_file = r.upload,
        .stems_json = r.stems_json,
        .preprocessing_options_json = r.preprocessing_options_json,
        .eco_mode = r.eco_mode,
        .webhook_url = options_.public_url.empty() ? "" : options_.public_url + "/webhook/" + token,
    };
}

net::awaitable<result<submit_result>> service::submit(const job_request& r) {
    // The token goes to MusicGPT only; the store keeps its hash.
    const std::string token = random_token_hex(32);
    auto created = store_.create_job({.audio_url = r.audio_url,
                                      .audio_file = r.audio_file,
                                      .stems_json = r.stems_json,
                                      .preprocessing_options_json = r.preprocessing_options_json,
                                      .eco_mode = r.eco_mode,
                                      .token_hash = sha256_hex(token)});
    if (!created)
        co_return created.error();
    const std::string id = created->id;
    const in_flight guard(submitting_, id);
    note_event(store_, id, event_kind::created, "",
               r.audio_file.empty() ? client::redact(r.audio_url) : "file " + r.audio_file);
    log_info(id, "submitting " +
                     (r.audio_file.empty() ? client::redact(r.audio_url) : "file " + r.audio_file) +
                     " to MusicGPT " + options_.musicgpt.api_version);

    auto reply = co_await musicgpt_.submit(submission_for(r, token));
    submit_result out;
    if (!reply || reply->refused) {
        // Not reaching MusicGPT is reported to the caller like a refusal.
        out.refused = reply ? *reply->refused : musicgpt::refusal{.message = reply.error().message};
        if (auto failed = refused(id, *out.refused); !failed)
            co_return failed.error();
    } else if (auto marked = accepted(id, reply->accepted); !marked) {
        co_return marked.error();
    }
    auto job = store_.find(id);
    if (!job)
        co_return job.error();
    out.job = std::move(*job);
    co_return out;
}

result<void> service::refused(const std::string& job_id, const musicgpt::refusal& f) {
    if (f.http_status == 429)
        meters().rate_limited.add("submit");
    const std::string reason = describe(f);
    log_warning(job_id, "submission refused: " + reason);
    auto marked = store_.mark_failed(job_id, reason);
    if (marked)
        note_event(store_, job_id, event_kind::refused, "", reason);
    return marked;
}

result<void> service::accepted(const std::string& job_id, const musicgpt::submit_answer& a) {
    const auto poll_at = now_millis() + first_poll_delay(a.eta).count();
    auto marked = store_.mark_submitted(job_id, a.task_id, a.conversion_id, a.eta,
                                        a.credit_estimate, a.status, poll_at);
    // A webhook may already have moved the job on (it carries the ids too);
    // anything else is a real failure.
    if (!marked && marked.error().code != storage::error::invalid_transition)
        return marked.error();
    wake_poller(); // its look-up may come before any the poller waits for
    log_info(job_id, "submitted: task " + a.task_id + ", conversion " + a.conversion_id);
    note_event(store_, job_id, event_kind::submitted, "",
               "task " + a.task_id + ", conversion " + a.conversion_id +
                   (a.status.empty() ? "" : ", MusicGPT says " + a.status));
    return {};
}

musicgpt::report service::without_own_links(const std::string& job_id,
                                            const musicgpt::report& p) const {
    const auto own = client::parse_http_url(options_.public_url);
    if (!own)
        return p;
    musicgpt::report kept = p;
    kept.links.clear();
    for (const auto& link : p.links) {
        if (auto to = client::parse_http_url(link.url); to && same_origin(*to, *own)) {
            log_warning(job_id, "link for " + link.name + " dropped: " + client::redact(link.url) +
                                    " points at stemd's own webhook.public_url");
            continue;
        }
        kept.links.push_back(link);
    }
    return kept;
}

result<storage::job_record>
service::record(const std::string& job_id, const musicgpt::report& reported, report_source source) {
    if (auto capped = within_link_cap(reported); !capped)
        return capped.error();
    const auto p = without_own_links(job_id, reported);
    std::vector<std::string> paths;
    for (const auto& link : p.links)
        paths.push_back(destination(options_.output_dir, p.task_id, link).string());
    const auto before = store_.find(job_id);
    auto job = store_.apply(job_id, p, paths);
    if (!job)
        return job;
    if (before)
        note_report(*before, *job, p, source);
    // A job stemd did not submit (adopted through webhook.secret) has no
    // look-up planned yet; without one a lost final webhook would leave it
    // waiting for ever.
    if (job->status == storage::job_status::submitted && !job->task_id.empty() &&
        !job->next_poll_at) {
        const auto at = now_millis() + first_poll_delay(job->eta).count();
        if (store_.schedule_poll(job->id, at))
            job->next_poll_at = at;
        wake_poller();
    }
    wake();
    return job;
}

result<storage::job_record> service::retry(const std::string& key) {
    auto job = store_.retry(key, now_millis());
    if (!job)
        return job;
    log_info(job->id, "retry requested: the job is " +
                          std::string(storage::to_string(job->status)) + " again");
    note_event(store_, job->id, event_kind::retry, "",
               "by the user: the job is " + std::string(storage::to_string(job->status)) +
                   " again");
    wake();
    wake_poller();
    return job;
}

// A webhook is always worth a line; a look-up only when it changed
// something (most say "still in queue").
void service::note_report(const storage::job_record& before, const storage::job_record& after,
                          const musicgpt::report& p, report_source source) {
    const bool changed = before.status != after.status ||
                         before.files.size() != after.files.size() ||
                         before.upstream_status != after.upstream_status;
    if (source == report_source::lookup && !changed)
        return;
    const std::string detail = (p.upstream_status.empty() ? "?" : p.upstream_status) + ", " +
                               std::to_string(p.links.size()) + " links; job " +
                               std::string(storage::to_string(after.status));
    note_event(store_, after.id,
               source == report_source::webhook ? event_kind::webhook : event_kind::lookup, "",
               detail);
    note_if_final(store_, before.status, after);
}

result<std::vector<storage::event_record>> service::events(std::string_view key, int limit) {
    auto job = store_.find(key);
    if (!job)
        return job.error();
    return store_.events(job->id, limit);
}

void service::note(const std::string& job_id, std::string_view kind, std::string detail) {
    note_event(store_, job_id, kind, "", std::move(detail));
}

const progress_table& service::progress() const {
    return downloads_->progress();
}

result<storage::job_record> service::find(std::string_view key) {
    return store_.find(key);
}

result<std::vector<storage::job_record>> service::list(std::optional<storage::job_status> status,
                                                       int limit,
                                                       std::optional<millis> created_since) {
    return store_.list(status, limit, created_since);
}

result<storage::job_record> service::find_by_token(std::string_view token) {
    const std::string hash = sha256_hex(token);
    auto found = store_.find_by_token_hash(hash);
    if (!found && !found.error().is(condition::not_found))
        return found.error();
    if (found) {
        auto stored = store_.token_hash(found->id);
        if (stored && constant_time_equal(*stored, hash))
            return found;
        if (!stored)
            return stored.error();
    }
    return make_error(error::unknown_token, "no job has this webhook token");
}

result<storage::job_record> service::job_for_delivery(std::optional<storage::job_record> by_token,
                                                      const musicgpt::report& p) {
    if (auto capped = within_link_cap(p); !capped)
        return capped.error();
    if (!by_token) {
        if (auto free = no_submission_racing(p); !free)
            return free.error();
        return adopt(p);
    }
    const auto& job = *by_token;
    if (still_submitting(job))
        return make_error(error::still_submitting,
                          "job " + job.id +
                              " is still being submitted: MusicGPT's answer with its task_id is "
                              "not recorded yet, and that answer's ids are the ones kept; nothing "
                              "was changed, send the delivery again in a few seconds");
    if (!job.task_id.empty() && p.task_id != job.task_id)
        return make_error(error::foreign_ids,
                          "task_id " + p.task_id + " does not belong to this webhook URL");
    if (!job.conversion_id.empty() && !p.conversion_id.empty() &&
        p.conversion_id != job.conversion_id)
        return make_error(error::foreign_ids, "conversion_id " + p.conversion_id +
                                                  " does not belong to this webhook URL");
    return std::move(*by_token);
}

// Whether MusicGPT's answer to submitting `job` (as the store has it now)
// may still be on its way to the process that submitted it. The store
// this process has alone (SQLite) holds only its own submissions, and
// whether one is in flight is known exactly: in `submitting_`; a job
// left submitting by an earlier process takes its webhook, which is all
// that can settle it. On a store other processes share, any instance may
// get the webhook of any job, and all must answer it alike: only the
// store is seen by all, and there, as in no_submission_racing, only the
// grace tells a submission in flight from one a dead process left.
bool service::still_submitting(const storage::job_record& job) const {
    if (job.status != storage::job_status::submitting)
        return false;
    if (options_.shared_poll.count() == 0)
        return submitting_.contains(job.id);
    return job.created_at > now_millis() - options_.submitting_grace.count();
}

// The job of a task stemd did not submit; a `created` event when it is new.
result<storage::job_record> service::adopt(const musicgpt::report& p) {
    const auto has = [this](const std::string& key) {
        return !key.empty() && store_.find(key).has_value();
    };
    const bool known = has(p.task_id) || has(p.conversion_id);
    auto job = store_.adopt(p.task_id, p.conversion_id);
    if (job && !known)
        note_event(store_, job->id, event_kind::created, "",
                   "adopted from a webhook for task " + p.task_id);
    return job;
}

// A shared-secret delivery may be for the very task a submission in flight
// is about to be told about: adopting it would make a second job for that
// task, and the submission's answer (whose ids win) would then find them
// taken. So while a submission is unanswered, one for a task no job has
// yet waits (the sender is asked to send it again). In flight means: in
// this process, or a job in `submitting` younger than submitting_grace
// (another process's, or one a dead process left, whose webhook may still
// come). A task some job has already is not held back.
result<void> service::no_submission_racing(const musicgpt::report& p) {
    for (const auto& id : {p.task_id, p.conversion_id}) {
        if (id.empty())
            continue;
        auto known = store_.find(id);
        if (known && (known->task_id == id || known->conversion_id == id))
            return {};
        if (!known && !known.error().is(condition::not_found))
            return known.error();
    }
    bool in_flight = !submitting_.empty();
    if (!in_flight) {
        auto newest = store_.list(storage::job_status::submitting, 1);
        if (!newest)
            return newest.error();
        in_flight = !newest->empty() &&
                    newest->front().created_at > now_millis() - options_.submitting_grace.count();
    }
    if (!in_flight)
        return {};
    return make_error(error::submission_in_flight,
                      "a submission is in flight and task " +
                          (p.task_id.empty() ? p.conversion_id : p.task_id) +
                          " may be the one it creates; nothing was recorded, send the delivery "
                          "again in a few seconds");
}

result<bool> service::seen_delivery(std::string_view webhook_id) {
    return store_.seen_delivery(webhook_id);
}

result<void> service::remember_delivery(std::string_view webhook_id) {
    auto fresh = store_.remember_delivery(webhook_id, now_millis());
    if (!fresh)
        return fresh.error();
    return {};
}

void service::start() {
    if (running_)
        return;
    running_ = true;
    // Jobs created from now on belong to this process.
    const millis started_at = now_millis();
    net::co_spawn(ex_, downloads_->run(),
                  [](std::exception_ptr e) { log_exception("download scheduler", e); });
    net::co_spawn(ex_, poller_->run(),
                  [](std::exception_ptr e) { log_exception("status poller", e); });
    net::co_spawn(ex_, stale_->run(started_at),
                  [](std::exception_ptr e) { log_exception("stale submissions", e); });
    net::co_spawn(ex_, heartbeat_->run(), [](std::exception_ptr e) { log_exception("claims", e); });
    net::co_spawn(ex_, pruner_->run(), [](std::exception_ptr e) { log_exception("retention", e); });
    if (notifier_)
        net::co_spawn(ex_, notifier_->run(),
                      [](std::exception_ptr e) { log_exception("notifier", e); });
    if (event_tail_)
        net::co_spawn(ex_, event_tail_->run(),
                      [](std::exception_ptr e) { log_exception("event tail", e); });
}

net::awaitable<result<prune_summary>> service::prune(const prune_order& order) {
    co_return co_await pruner_->prune(order);
}

void service::stop() {
    downloads_->stop();
    poller_->stop();
    stale_->stop();
    heartbeat_->stop();
    pruner_->stop();
    if (notifier_)
        notifier_->stop();
    if (event_tail_)
        event_tail_->stop();
}

void service::release_claims() {
    auto released = store_.release_claims(owner_);
    if (!released) {
        log_warning("", "cannot release this process's claims at shutdown (" +
                            released.error().message + "); they expire after their lease of " +
                            seconds_text(options_.lease) +
                            ", then other processes (or the next start) take the work up");
        return;
    }
    if (*released > 0)
        log_info("", "released the " + std::to_string(*released) +
                         " claims this process held: other processes can take that work up now");
}

void service::wake() {
    downloads_->wake();
}

void service::wake_poller() {
    poller_->wake();
}

// The notifier looks at the outbox every second anyway.
void service::wake_all() {
    downloads_->wake();
    poller_->wake();
    if (hub().has_subscribers())
        hub().resync_all();
}

result<storage::activity> service::activity_since(storage::millis since) {
    return store_.activity_since(since);
}

void service::set_api_key(std::string key) {
    options_.musicgpt.api_key = key;
    musicgpt_.set_api_key(std::move(key));
}

void service::set_retention(int keep_days, bool delete_files) {
    options_.keep_days = keep_days;
    options_.delete_files = delete_files;
    pruner_->set_policy(keep_days, delete_files);
}

} // namespace stemd::jobs
