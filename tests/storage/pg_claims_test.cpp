#include "storage/pg_store.hpp"

#include "store_fixture.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

// Several pg_store objects on one database, each in its own thread as if
// in its own process, sharing out the work by claims: files, status
// look-ups and notifications. What the threads saw is checked afterwards
// on the main thread (doctest's checks are not thread-safe).

namespace storage = stemd::storage;
using namespace stemd::storage::testing;
using storage::file_status;
using storage::job_status;

namespace {

constexpr storage::millis short_lease = 1'500;
constexpr int workers = 3;
constexpr auto run_for = std::chrono::seconds(45);

// Who holds what right now, as the workers saw their claims, and what
// went wrong. A worker marks a claim after the store granted it and
// unmarks it before it ends it, so a second mark of the same thing can only
// mean that the store handed it out twice.
struct ledger {
    std::mutex m;
    std::map<std::int64_t, std::string> files; // file id -> owner
    std::map<std::string, std::string> paths;  // destination -> owner
    std::map<std::string, std::string> polls;  // job id -> owner
    std::set<std::string> notifications_held;  // notification ids
    std::map<std::int64_t, int> done;          // file id -> file_done calls that worked
    std::map<std::string, int> delivered;      // notification id -> end calls that worked
    std::vector<std::string> violations;
    std::atomic<int> errors{0};

    void violation(std::string what) {
        std::lock_guard lock(m);
        violations.push_back(std::move(what));
    }
};

// What one worker does each round: renew its claims (the heartbeat),
// then take a few files, look-ups and notifications and end each.
class worker {
public:
    worker(std::unique_ptr<storage::store> s, std::string name, ledger& l)
        : store_(std::move(s)), name_(std::move(name)), ledger_(l) {
        store_->set_outbox_channels({"url"});
    }

    void round() {
        const auto now = storage::now_millis();
        count(store_->renew_claims(name_, now, short_lease));
        if (auto files = store_->claim_files(name_, now, short_lease, 2)) {
            for (const auto& f : *files)
                download(f);
        } else {
            failed(files.error());
        }
        if (auto jobs = store_->claim_polls(name_, now, short_lease, 2)) {
            for (const auto& j : *jobs)
                look_up(j);
        } else {
            failed(jobs.error());
        }
        if (auto events = store_->claim_notifications(name_, now, short_lease, 2)) {
            for (const auto& n : *events)
                deliver(n);
        } else {
            failed(events.error());
        }
    }

private:
    template <class T> void count(const stemd::result<T>& r) {
        if (!r)
            failed(r.error());
    }
    void failed(const stemd::error& e) {
        ++ledger_.errors;
        ledger_.violation(name_ + ": " + e.message);
    }

    void download(const storage::file_record& f) {
        {
            std::lock_guard lock(ledger_.m);
            auto [held, fresh] = ledger_.files.emplace(f.id, name_);
            auto [path, free_path] = ledger_.paths.emplace(f.path, name_);
            if (!fresh || !free_path) {
                ledger_.violations.push_back("file " + std::to_string(f.id) + " (" + f.path +
                                             ") claimed by " + name_ + " while " +
                                             (fresh ? path->second : held->second) + " holds it");
                return;
            }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2)); // the download
        {
            std::lock_guard lock(ledger_.m);
            ledger_.files.erase(f.id);
            ledger_.paths.erase(f.path);
        }
        // Every fifth file fails once first and is taken again.
        if (f.id % 5 == 0 && f.attempts == 1) {
            count(store_->file_retry(f.id, name_, "reset", storage::now_millis()));
            return;
        }
        auto done = store_->file_done(f.id, name_, f.path, 10, "ab");
        count(done);
        if (done) {
            std::lock_guard lock(ledger_.m);
            ++ledger_.done[f.id];
        }
    }

    void look_up(const storage::job_record& j) {
        {
            std::lock_guard lock(ledger_.m);
            if (!ledger_.polls.emplace(j.id, name_).second) {
                ledger_.violations.push_back("look-up of " + j.id + " claimed by " + name_ +
                                             " while " + ledger_.polls[j.id] + " holds it");
                return;
            }
        }
        {
            std::lock_guard lock(ledger_.m);
            ledger_.polls.erase(j.id);
        }
        // Three look-ups that do not settle it, then MusicGPT says failed.
        if (j.poll_attempts < 3) {
            count(store_->poll_again(j.id, name_, storage::now_millis()));
            return;
        }
        count(store_->mark_failed(j.id, "gone"));
        count(store_->release_poll(j.id, name_));
    }

    void deliver(const storage::notification_record& n) {
        {
            std::lock_guard lock(ledger_.m);
            if (!ledger_.notifications_held.insert(n.id).second) {
                ledger_.violations.push_back("notification " + n.id + " claimed twice at once");
                return;
            }
            ledger_.notifications_held.erase(n.id);
        }
        storage::notification_end e{storage::notification_status::delivered, "", 0};
        auto ended = store_->end_notification(n.id, name_, e, storage::now_millis());
        count(ended);
        if (ended) {
            std::lock_guard lock(ledger_.m);
            ++ledger_.delivered[n.id];
        }
    }

    std::unique_ptr<storage::store> store_;
    std::string name_;
    ledger& ledger_;
};

// Jobs with two files each (four of them writing to the same two paths),
// and jobs waiting only for their status look-ups.
struct workload {
    std::vector<std::string> downloading;
    std::vector<std::string> polled;
    int files = 0;
};

workload make_work(storage::store& s) {
    workload w;
    for (int i = 0; i < 16; ++i) {
        const auto task = "task-" + std::to_string(i);
        auto job = submitted_job(s, task);
        const auto dir = i < 4 ? std::string("shared") : "j" + std::to_string(i);
        auto links = success({stem_link("vocals", dir), stem_link("drums", dir)}, task);
        job = ok(apply(s, job.id, links));
        w.files += static_cast<int>(job.files.size());
        w.downloading.push_back(job.id);
    }
    for (int i = 0; i < 6; ++i) {
        const auto task = "poll-" + std::to_string(i);
        auto job = ok(s.create_job(request()));
        ok(s.mark_submitted(job.id, task, "conv-" + task, 1.0, 1.0, "IN_QUEUE",
                            storage::now_millis()));
        w.polled.push_back(job.id);
    }
    return w;
}

// What is not finished yet, one line each ("" when all is).
std::string unfinished(storage::store& s, const workload& w) {
    std::string out;
    for (const auto& ids : {w.downloading, w.polled}) {
        for (const auto& id : ids) {
            auto job = s.find(id);
            if (!job) {
                out += id + ": " + job.error().message + "\n";
                continue;
            }
            if (storage::is_final(job->status))
                continue;
            out += id + " " + std::string(to_string(job->status)) + " polls " +
                   std::to_string(job->poll_attempts) + " by '" + job->poll_owner + "':";
            for (const auto& f : job->files)
                out += " " + std::to_string(f.id) + "=" + std::string(to_string(f.status)) + "/" +
                       f.claim_owner + "/" + std::to_string(f.attempts);
            out += "\n";
        }
    }
    auto pending = s.notifications(std::string_view("pending"), 1000);
    if (!pending)
        out += pending.error().message + "\n";
    else
        for (const auto& n : *pending)
            out += n.id + " pending, attempts " + std::to_string(n.attempts) + " by '" +
                   n.claim_owner + "'\n";
    return out;
}

bool finished(storage::store& s, const workload& w) {
    for (const auto& ids : {w.downloading, w.polled}) {
        for (const auto& id : ids) {
            auto job = s.find(id);
            if (!job || !storage::is_final(job->status))
                return false;
        }
    }
    auto pending = s.notifications(std::string_view("pending"), 1000);
    return pending && pending->empty();
}

} // namespace

TEST_CASE("pg claims: processes share files, look-ups and notifications, each done once") {
    fixture<pg_engine> fx;
    auto& observer = fx.store();
    observer.set_outbox_channels({"url"});
    const auto work = make_work(observer);

    // A process that claims two files and dies: it never renews or ends them.
    auto dead = pg_engine::open(fx.dir());
    const auto abandoned = ok(dead->claim_files("dead", storage::now_millis(), short_lease, 2));
    REQUIRE(abandoned.size() == 2);

    ledger l;
    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    for (int i = 0; i < workers; ++i) {
        threads.emplace_back([&, i] {
            worker w(pg_engine::open(fx.dir()), "worker-" + std::to_string(i), l);
            while (!stop)
                w.round();
        });
    }
    const auto deadline = std::chrono::steady_clock::now() + run_for;
    while (!finished(observer, work) && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    stop = true;
    for (auto& t : threads)
        t.join();

    std::string seen;
    for (const auto& v : l.violations)
        seen += v + "\n";
    INFO("errors: " << l.errors.load() << "\n" << seen);
    CHECK(l.violations.empty());
    INFO("unfinished:\n" << unfinished(observer, work));
    REQUIRE(finished(observer, work));

    for (const auto& id : work.downloading) {
        const auto job = ok(observer.find(id));
        CHECK(job.status == job_status::completed);
        for (const auto& f : job.files) {
            INFO("file " << f.id << " of " << id);
            CHECK(f.status == file_status::done);
            CHECK(l.done[f.id] == 1);
            // Taken over once, or retried once by its worker.
            const bool was_abandoned = f.id == abandoned[0].id || f.id == abandoned[1].id;
            CHECK(f.attempts == (was_abandoned || f.id % 5 == 0 ? 2 : 1));
        }
    }
    CHECK(static_cast<int>(l.done.size()) == work.files);
    for (const auto& id : work.polled) {
        const auto job = ok(observer.find(id));
        CHECK(job.status == job_status::failed);
        CHECK(job.poll_attempts == 3);
    }
    // One event per job, each delivered once.
    const auto events = ok(observer.notifications(std::nullopt, 1000));
    CHECK(events.size() == work.downloading.size() + work.polled.size());
    for (const auto& n : events) {
        INFO("notification " << n.id);
        CHECK(n.status == "delivered");
        CHECK(n.attempts == 1);
        CHECK(l.delivered[n.id] == 1);
    }
    // The dead process's claims were taken over and finished: its late
    // outcome is refused.
    fails_with(dead->file_done(abandoned[0].id, "dead", abandoned[0].path, 1, "x"),
               storage::error::invalid_transition);
}

TEST_CASE("pg claims: a claim whose owner stops renewing is taken over after its lease") {
    fixture<pg_engine> fx;
    auto& store = fx.store();
    auto job = submitted_job(store, "task-1");
    ok(apply(store, job.id, success({stem_link("vocals")})));
    auto other = pg_engine::open(fx.dir());
    const auto t = storage::now_millis();
    const auto taken = ok(store.claim_files(owner, t, short_lease, 10));
    REQUIRE(taken.size() == 1);
    // Renewed, it holds past its first lease; not renewed, it runs out.
    CHECK(ok(store.renew_claims(owner, t + 1'000, short_lease)) == 1);
    CHECK(ok(other->claim_files(other_owner, t + short_lease + 1, short_lease, 10)).empty());
    const auto later = t + 1'000 + short_lease + 1;
    const auto over = ok(other->claim_files(other_owner, later, short_lease, 10));
    REQUIRE(over.size() == 1);
    CHECK(over[0].id == taken[0].id);
    CHECK(over[0].claim_owner == other_owner);
    CHECK(over[0].attempts == 2);
    // The old owner's heartbeat no longer renews it, and its end is refused.
    CHECK(ok(store.renew_claims(owner, later, short_lease)) == 0);
    fails_with(store.file_done(taken[0].id, owner, taken[0].path, 1, "x"),
               storage::error::claim_lost);
    ok(other->file_done(over[0].id, other_owner, over[0].path, 1, "x"));
}

TEST_CASE("pg claims: processes drawing from one budget at once never get more than it holds") {
    fixture<pg_engine> fx;
    fx.store();
    const auto t = storage::now_millis();
    std::atomic<int> granted{0};
    std::atomic<int> errors{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < workers; ++i) {
        threads.emplace_back([&] {
            auto s = pg_engine::open(fx.dir());
            for (int n = 0; n < 10; ++n) {
                auto r = s->take_budget("byId", t, 10, 0.001);
                if (!r)
                    ++errors;
                else if (r->granted)
                    ++granted;
            }
        });
    }
    for (auto& th : threads)
        th.join();
    CHECK(errors == 0);
    CHECK(granted == 10);
}
