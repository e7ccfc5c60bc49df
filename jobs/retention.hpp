#pragma once

// Retention: final jobs (completed, failed) unchanged for
// retention.keep_days are deleted from the store in small batches, their
// stem files too when retention.delete_files says so, and the pages they
// held are given back to the file system (incremental vacuum). The same
// pruning runs by hand through the API (`stemd prune`). Included only by
// .cpp files (it pulls in Asio).

#include "common/time.hpp"
#include "jobs/stem_removal.hpp"
#include "storage/store.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace stemd::jobs {

class object_store;

struct retention_options {
    int keep_days = 90; // 0: keep for ever, the background loop does nothing
    bool delete_files = false;
    std::filesystem::path output_dir; // the only tree files are removed from
    std::chrono::milliseconds every{3'600'000};
    // Where recorded "s3://" paths are deleted from; null when stems are
    // kept on disk only.
    object_store* objects = nullptr;
};

struct prune_order {
    millis cutoff = 0; // jobs last changed before this go
    bool dry_run = false;
    bool delete_files = false; // never on a dry run
};

// One pruned (or, on a dry run, prunable) job as people are shown it:
// nothing of its links.
struct pruned_job {
    std::string id;
    std::string task_id;
    storage::job_status status = storage::job_status::completed;
    millis updated_at = 0;
    std::int64_t files = 0;
    std::int64_t bytes = 0;
};

struct prune_summary {
    prune_order order;
    std::int64_t jobs = 0;
    std::int64_t files = 0;         // rows
    std::int64_t bytes = 0;         // their recorded sizes
    std::vector<pruned_job> listed; // the first max_listed jobs
    stem_removal removed;           // on disk, when delete_files
    std::int64_t deliveries = 0;    // webhook-ids forgotten
    std::int64_t pages_freed = 0;   // given back to the file system
    std::int64_t bytes_freed = 0;
};

// Jobs a summary lists by name; the counts cover them all.
inline constexpr std::size_t max_listed = 1000;
// Jobs per transaction, so that no request waits long for the database.
inline constexpr int prune_batch_size = 100;

class pruner {
public:
    pruner(boost::asio::any_io_executor ex, storage::store& store, retention_options options);

    // Prunes jobs older than keep_days at once, then every `every`, until
    // stop(); while keep_days is 0 it only waits.
    boost::asio::awaitable<void> run();
    void stop();
    // A new policy (SIGHUP): the waiting loop prunes by it at once; a pass
    // under way ends by the order it started with.
    void set_policy(int keep_days, bool delete_files);

    // One pass over every job the order covers, a batch per transaction,
    // yielding to other work between batches; files are removed on a
    // worker thread. A storage failure ends the pass with the error (what
    // was pruned before it stays pruned).
    boost::asio::awaitable<result<prune_summary>> prune(prune_order order);

private:
    boost::asio::awaitable<result<bool>> delete_batch(prune_summary& summary);
    result<bool> list_batch(prune_summary& summary, std::string& after);
    void count(prune_summary& summary, const std::vector<storage::job_record>& jobs) const;

    boost::asio::any_io_executor ex_;
    storage::store& store_;
    retention_options options_;
    boost::asio::steady_timer timer_;
    bool stopping_ = false;
};

// "pruned 3 jobs (5 files, 1.2 MB recorded) last changed before ...; ..."
std::string describe(const prune_summary& s);

} // namespace stemd::jobs
