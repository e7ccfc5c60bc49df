#include "jobs/retention.hpp"

#include "client/worker.hpp"
#include "common/log.hpp"
#include "jobs/object_store.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>

namespace stemd::jobs {

namespace net = boost::asio;

namespace {

constexpr millis day = 24LL * 3600 * 1000;
// Free pages given back after each batch (16 MiB at SQLite's default page
// size): bounded, so one step never holds the database long.
constexpr int vacuum_pages = 4096;

// Unlinking and fsyncing folders may block on a busy disk; they wait here,
// not on the io thread.
net::thread_pool& removal_pool() {
    static net::thread_pool pool(1);
    return pool;
}

// The recorded paths of files (objects: `objects` true) of the jobs.
std::vector<std::string> paths_of(const std::vector<storage::job_record>& jobs, bool objects) {
    std::vector<std::string> paths;
    for (const auto& j : jobs)
        for (const auto& f : j.files)
            if (!f.path.empty() && is_object_path(f.path) == objects)
                paths.push_back(f.path);
    return paths;
}

void add(stem_removal& into, stem_removal&& more) {
    into.files += more.files;
    into.bytes += more.bytes;
    into.directories += more.directories;
    for (auto& k : more.kept)
        into.kept.push_back(std::move(k));
}

} // namespace

pruner::pruner(net::any_io_executor ex, storage::store& store, retention_options options)
    : ex_(ex), store_(store), options_(std::move(options)), timer_(ex) {}

void pruner::stop() {
    stopping_ = true;
    timer_.cancel();
}

void pruner::set_policy(int keep_days, bool delete_files) {
    options_.keep_days = keep_days;
    options_.delete_files = delete_files;
    timer_.cancel();
}

void pruner::count(prune_summary& s, const std::vector<storage::job_record>& jobs) const {
    for (const auto& j : jobs) {
        pruned_job p{j.id, j.task_id, j.status, j.updated_at, 0, 0};
        for (const auto& f : j.files) {
            ++p.files;
            p.bytes += f.bytes;
        }
        ++s.jobs;
        s.files += p.files;
        s.bytes += p.bytes;
        if (s.listed.size() < max_listed)
            s.listed.push_back(std::move(p));
    }
}

// Reads the next batch a dry run would delete; false once there is none.
result<bool> pruner::list_batch(prune_summary& s, std::string& after) {
    auto jobs = store_.prunable_jobs(s.order.cutoff, after, prune_batch_size);
    if (!jobs)
        return jobs.error();
    if (jobs->empty())
        return false;
    count(s, *jobs);
    after = jobs->back().id;
    return jobs->size() == static_cast<std::size_t>(prune_batch_size);
}

// Deletes the next batch (rows first: a crash before the files are gone
// leaves files, never rows naming missing files), then its files when
// asked, then gives pages back. False once nothing is left.
net::awaitable<result<bool>> pruner::delete_batch(prune_summary& s) {
    auto batch = store_.prune_final_jobs(s.order.cutoff, now_millis(), prune_batch_size);
    if (!batch)
        co_return batch.error();
    count(s, batch->jobs);
    s.deliveries += batch->deliveries;
    if (s.order.delete_files && !batch->jobs.empty()) {
        // Named, not a temporary of the co_await: GCC 12 destroys such
        // temporaries twice.
        auto remove = [dir = options_.output_dir,
                       paths = paths_of(batch->jobs, false)](const std::atomic<bool>&) {
            return remove_stems(dir, paths);
        };
        auto removed = co_await client::on_worker<stem_removal>(removal_pool(), std::move(remove));
        if (removed)
            add(s.removed, std::move(*removed));
        if (auto objects = paths_of(batch->jobs, true); !objects.empty()) {
            if (options_.objects) {
                auto gone = co_await options_.objects->remove(objects);
                add(s.removed, std::move(gone));
            } else
                for (auto& p : objects)
                    s.removed.kept.push_back(p + ": an object, and storage.output is not S3 now");
        }
    }
    if (auto c = store_.compact(vacuum_pages); c) {
        s.pages_freed += c->pages_before - c->pages_after;
        s.bytes_freed += (c->pages_before - c->pages_after) * c->page_size;
    } else {
        log_warning("", "cannot compact the job database: " + c.error().message);
    }
    co_return batch->jobs.size() == static_cast<std::size_t>(prune_batch_size);
}

net::awaitable<result<prune_summary>> pruner::prune(prune_order order) {
    prune_summary s;
    s.order = order;
    s.order.delete_files = order.delete_files && !order.dry_run;
    std::string after;
    // Each batch removes (or, dry, moves past) at least one job, so this
    // ends; the cap only guards against a store that misbehaves.
    for (int round = 0; round < 10'000'000 && !stopping_; ++round) {
        result<bool> more = false;
        if (s.order.dry_run)
            more = list_batch(s, after);
        else
            more = co_await delete_batch(s);
        if (!more)
            co_return more.error();
        if (!*more)
            break;
        // Let webhooks and API requests waiting on the loop go first.
        co_await net::post(ex_, net::use_awaitable);
    }
    co_return s;
}

net::awaitable<void> pruner::run() {
    if (options_.keep_days == 0)
        log_info("", "retention.keep_days = 0: finished jobs are kept for ever");
    while (!stopping_) {
        // Read each round: a reload may have changed the policy.
        if (options_.keep_days > 0) {
            const prune_order order{now_millis() - options_.keep_days * day, false,
                                    options_.delete_files};
            auto done = co_await prune(order);
            if (!done)
                log_error("", "cannot prune old jobs: " + done.error().message);
            else if (done->jobs > 0)
                log_info("", describe(*done));
            if (done)
                for (const auto& k : done->removed.kept)
                    log_warning("", "retention left in place " + k);
        }
        timer_.expires_after(options_.every);
        co_await timer_.async_wait(net::as_tuple(net::use_awaitable));
    }
}

std::string describe(const prune_summary& s) {
    const bool dry = s.order.dry_run;
    std::string text = std::string(dry ? "would prune " : "pruned ") + std::to_string(s.jobs) +
                       " finished jobs (" + std::to_string(s.files) + " files, " +
                       std::to_string(s.bytes) + " bytes recorded) last changed before " +
                       rfc3339(s.order.cutoff);
    if (s.order.delete_files)
        text += "; removed " + std::to_string(s.removed.files) + " files (" +
                std::to_string(s.removed.bytes) + " bytes) and " +
                std::to_string(s.removed.directories) + " empty folders";
    else
        text += dry ? "; no file is removed on a dry run" : "; their files were kept on disk";
    if (!s.removed.kept.empty())
        text += "; " + std::to_string(s.removed.kept.size()) + " entries left in place";
    if (s.pages_freed > 0)
        text += "; the database gave back " + std::to_string(s.bytes_freed) + " bytes";
    return text;
}

} // namespace stemd::jobs
