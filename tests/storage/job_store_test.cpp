#include "storage/job_store.hpp"

#include "storage/database.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>

namespace fs = std::filesystem;
namespace storage = stemd::storage;
using storage::file_status;
using storage::job_status;
using storage::job_store;
using storage::outcome;

namespace {

class temp_dir {
public:
    temp_dir() {
        std::string pattern = (fs::temp_directory_path() / "stemd-job-store-test-XXXXXX").string();
        REQUIRE(::mkdtemp(pattern.data()) != nullptr);
        path_ = pattern;
    }
    ~temp_dir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;

    const fs::path& path() const { return path_; }
    fs::path db_file() const { return path_ / "state" / "jobs.db"; }

private:
    fs::path path_;
};

job_store open_store(const fs::path& file) {
    std::string why;
    auto store = job_store::open(file, why);
    INFO(why);
    REQUIRE(store.has_value());
    return std::move(*store);
}

// Unwraps a result, showing the store's explanation when it failed.
template <class T> T ok(const job_store& store, boost::system::result<T> r) {
    INFO(store.last_error());
    REQUIRE(r.has_value());
    return std::move(*r);
}

void ok(const job_store& store, boost::system::result<void> r) {
    INFO(store.last_error());
    REQUIRE(r.has_value());
}

template <class T> void fails_with(const boost::system::result<T>& r, storage::error e) {
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error() == e);
}

storage::new_job request(std::string token_hash = "") {
    storage::new_job j;
    j.audio_url = "https://example.com/song.mp3";
    j.stems_json = R"(["vocals","drums"])";
    j.preprocessing_options_json = R"(["Denoise"])";
    j.eco_mode = true;
    j.token_hash = std::move(token_hash);
    return j;
}

storage::file_link stem_link(std::string name, std::string subdir = "", std::string url = "") {
    storage::file_link l;
    l.name = name;
    l.subdir = subdir;
    l.url = url.empty() ? "https://cdn.example.com/" + name + "?sig=1" : url;
    l.path = "/srv/stems/" + (subdir.empty() ? name : subdir + "/" + name) + ".mp3";
    return l;
}

outcome success(std::vector<storage::file_link> files, std::string task_id = "task-1") {
    outcome o;
    o.what = outcome::kind::succeeded;
    o.task_id = std::move(task_id);
    o.upstream_status = "COMPLETED";
    o.conversion_cost = 0.157;
    o.conversion_duration = 170.69;
    o.files = std::move(files);
    return o;
}

outcome failure(std::string message) {
    outcome o;
    o.what = outcome::kind::failed;
    o.upstream_status = "FAILED";
    o.message = std::move(message);
    return o;
}

outcome pending(std::string upstream_status) {
    outcome o;
    o.what = outcome::kind::pending;
    o.upstream_status = std::move(upstream_status);
    return o;
}

// A job MusicGPT has accepted, under the given task_id.
storage::job_record submitted_job(job_store& store, const std::string& task_id,
                                  const std::string& token_hash = "") {
    auto job = ok(store, store.create_job(request(token_hash)));
    ok(store, store.mark_submitted(job.id, task_id, "conv-" + task_id, 147.0, 5.55, "IN_QUEUE"));
    return ok(store, store.find(job.id));
}

const storage::file_record& file_named(const storage::job_record& job, const std::string& name) {
    for (const auto& f : job.files) {
        if (f.name == name) {
            return f;
        }
    }
    FAIL("the job has no file " << name);
    throw std::logic_error("unreachable");
}

} // namespace

TEST_CASE("job_store: statuses print and parse") {
    for (auto s : {job_status::submitting, job_status::submitted, job_status::downloading,
                   job_status::completed, job_status::failed}) {
        CHECK(storage::parse_job_status(storage::to_string(s)) == s);
    }
    for (auto s :
         {file_status::pending, file_status::downloading, file_status::done, file_status::failed}) {
        CHECK(storage::parse_file_status(storage::to_string(s)) == s);
    }
    CHECK(storage::to_string(job_status::downloading) == "downloading");
    CHECK_FALSE(storage::parse_job_status("Completed").has_value());
    CHECK_FALSE(storage::parse_job_status("").has_value());
}

TEST_CASE("job_store: errors have their own category") {
    const boost::system::error_code ec = storage::error::conflict;
    CHECK(std::string(ec.category().name()) == "stemd.storage");
    CHECK(ec.message().find("another job") != std::string::npos);
    CHECK(ec != boost::system::error_code(storage::error::not_found));
}

TEST_CASE("job_store: opening creates the schema at version 2") {
    temp_dir dir;
    { auto store = open_store(dir.db_file()); }
    CHECK(fs::exists(dir.db_file()));
    storage::database db(dir.db_file());
    CHECK(db.user_version() == 2);
}

TEST_CASE("job_store: a version 1 database is migrated and keeps its jobs") {
    temp_dir dir;
    const storage::millis then = storage::now_millis() - 60'000;
    {
        // The schema stemd 0.1 wrote, with a job waiting for its webhook and
        // one downloading.
        storage::database db(dir.db_file());
        db.execute(R"sql(
CREATE TABLE jobs (
    id TEXT PRIMARY KEY NOT NULL, task_id TEXT UNIQUE, conversion_id TEXT UNIQUE,
    token_hash TEXT UNIQUE,
    status TEXT NOT NULL
        CHECK (status IN ('submitting', 'submitted', 'downloading', 'completed', 'failed')),
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, eta REAL, credit_estimate REAL,
    conversion_cost REAL, conversion_duration REAL, error TEXT NOT NULL DEFAULT '',
    upstream_status TEXT NOT NULL DEFAULT '', audio_url TEXT NOT NULL DEFAULT '',
    audio_file TEXT NOT NULL DEFAULT '', stems_json TEXT NOT NULL DEFAULT '',
    preprocessing_options_json TEXT NOT NULL DEFAULT '',
    eco_mode INTEGER NOT NULL DEFAULT 0 CHECK (eco_mode IN (0, 1))
);
CREATE INDEX jobs_by_created ON jobs (created_at);
CREATE INDEX jobs_by_status ON jobs (status, created_at);
CREATE TABLE files (
    id INTEGER PRIMARY KEY, job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    name TEXT NOT NULL, subdir TEXT NOT NULL DEFAULT '', url TEXT NOT NULL, path TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'downloading', 'done', 'failed')),
    bytes INTEGER NOT NULL DEFAULT 0, sha256 TEXT NOT NULL DEFAULT '',
    attempts INTEGER NOT NULL DEFAULT 0, error TEXT NOT NULL DEFAULT '',
    next_attempt_at INTEGER NOT NULL DEFAULT 0, UNIQUE (job_id, subdir, name)
);
CREATE INDEX files_runnable ON files (status, next_attempt_at);
)sql");
        const auto t = std::to_string(then);
        db.execute("INSERT INTO jobs (id, task_id, status, created_at, updated_at) VALUES "
                   "('jwaiting', 'task-w', 'submitted', " + t + ", " + t + "), "
                   "('jloading', 'task-l', 'downloading', " + t + ", " + t + ")");
        db.execute("INSERT INTO files (job_id, name, url, path, status) VALUES "
                   "('jloading', 'vocals', 'https://cdn.example.com/v', '/srv/v.wav', "
                   "'pending')");
        db.set_user_version(1);
    }
    auto store = open_store(dir.db_file());
    {
        storage::database db(dir.db_file());
        CHECK(db.user_version() == 2);
    }
    auto waiting = ok(store, store.find("task-w"));
    CHECK(waiting.status == job_status::submitted);
    // Looked up at the first start: its webhook may have been lost.
    CHECK(waiting.next_poll_at == std::optional<storage::millis>(then));
    CHECK(waiting.poll_attempts == 0);
    auto loading = ok(store, store.find("jloading"));
    CHECK_FALSE(loading.next_poll_at.has_value());
    REQUIRE(loading.files.size() == 1);
    CHECK(loading.files[0].url == "https://cdn.example.com/v");

    auto due = ok(store, store.jobs_due_for_poll(storage::now_millis(), 10));
    REQUIRE(due.size() == 1);
    CHECK(due[0].id == "jwaiting");
    CHECK(ok(store, store.remember_delivery("msg-1", storage::now_millis())));
    // Reopening does not migrate again.
    { auto again = open_store(dir.db_file()); }
    CHECK(ok(store, store.find("jwaiting")).next_poll_at == std::optional<storage::millis>(then));
}

TEST_CASE("job_store: a database from a newer stemd is refused") {
    temp_dir dir;
    {
        storage::database db(dir.db_file());
        db.set_user_version(99);
    }
    std::string why;
    auto store = job_store::open(dir.db_file(), why);
    fails_with(store, storage::error::newer_schema);
    CHECK(why.find("99") != std::string::npos);
    CHECK(why.find("upgrade stemd") != std::string::npos);
}

TEST_CASE("job_store: a file that is not a database is reported as an SQLite error") {
    temp_dir dir;
    fs::create_directories(dir.path() / "state");
    {
        std::ofstream out(dir.db_file(), std::ios::binary);
        out << std::string(4096, 'z');
    }
    std::string why;
    fails_with(job_store::open(dir.db_file(), why), storage::error::sqlite);
    CHECK(why.find("not a database") != std::string::npos);
}

TEST_CASE("job_store: jobs and files survive closing and reopening") {
    temp_dir dir;
    std::string id;
    {
        auto store = open_store(dir.db_file());
        auto job = submitted_job(store, "task-1");
        id = job.id;
        ok(store, store.apply(id, success({stem_link("vocals"), stem_link("drums")})));
    }
    auto store = open_store(dir.db_file());
    auto job = ok(store, store.find(id));
    CHECK(job.status == job_status::downloading);
    CHECK(job.task_id == "task-1");
    CHECK(job.conversion_id == "conv-task-1");
    REQUIRE(job.files.size() == 2);
    // Ordered by subdir, then name.
    CHECK(job.files[0].name == "drums");
    CHECK(job.files[1].name == "vocals");
    CHECK(job.files[1].url == "https://cdn.example.com/vocals?sig=1");
    CHECK(job.files[1].status == file_status::pending);
}

TEST_CASE("job_store: create_job stores the request and starts in submitting") {
    temp_dir dir;
    auto store = open_store(dir.db_file());
    const auto before = storage::now_millis();
    auto job = ok(store, store.create_job(request("aa11")));
    CHECK(job.id.size() == 17);
    CHECK(job.id.front() == 'j');
    CHECK(job.id.find_first_not_of("0123456789abcdef", 1) == std::string::npos);
    CHECK(job.status == job_status::submitting);
    CHECK(job.created_at >= before);
    CHECK(job.updated_at == job.created_at);
    CHECK(job.audio_url == "https://example.com/song.mp3");
    CHECK(job.stems_json == R"(["vocals","drums"])");
    CHECK(job.preprocessing_options_json == R"(["Denoise"])");
    CHECK(job.eco_mode);
    CHECK(job.task_id.empty());
    CHECK(job.files.empty());
    CHECK(ok(store, store.token_hash(job.id)) == "aa11");

    auto other = ok(store, store.create_job(request("bb22")));
    CHECK(other.id != job.id);
    fails_with(store.token_hash("j0000000000000000"), storage::error::not_found);
}

TEST_CASE("job_store: a job goes from submitting to completed") {
    temp_dir dir;
    auto store = open_store(dir.db_file());
    auto job = ok(store, store.create_job(request("hash-1")));

    ok(store, store.mark_submitted(job.id, "task-1", "conv-1", 147.0, 5.55, "IN_QUEUE"));
    job = ok(store, store.find(job.id));
    CHECK(job.status == job_status::submitted);
    CHECK(job.eta == std::optional(147.0));
    CHECK(job.credit_estimate == std::optional(5.55));
    CHECK(job.upstream_status == "IN_QUEUE");

    job =
        ok(store, store.apply(job.id, success({stem_link("vocals"), stem_link("vocals", "wav")})));
    CHECK(job.status == job_status::downloading);
    CHECK(job.upstream_status == "COMPLETED");
    CHECK(job.conversion_cost == std::optional(0.157));
    CHECK(job.conversion_duration == std::optional(170.69));
    REQUIRE(job.files.size() == 2);
    CHECK(job.files[0].subdir.empty());
    CHECK(job.files[1].subdir == "wav");

    auto first = ok(store, store.file_started(job.files[0].id));
    CHECK(first.status == file_status::downloading);
    CHECK(first.attempts == 1);
    auto second = ok(store, store.file_started(job.files[1].id));

    job = ok(store, store.file_done(first.id, "/final/vocals.mp3", 1234, "ab12"));
    CHECK(job.status == job_status::downloading);
    CHECK(job.files[0].status == file_status::done);
    CHECK(job.files[0].path == "/final/vocals.mp3");
    CHECK(job.files[0].bytes == 1234);
    CHECK(job.files[0].sha256 == "ab12");

    job = ok(store, store.file_done(second.id, "/final/wav/vocals.mp3", 99, "cd34"));
    CHECK(job.status == job_status::completed);
    CHECK(job.error.empty());
    CHECK(job.updated_at >= job.created_at);
    CHECK(ok(store, store.runnable_files(storage::now_millis() + 1000, 10)).empty());
    CHECK_FALSE(ok(store, store.next_wakeup()).has_value());
}

TEST_CASE("job_store: a repeated success delivery neither duplicates nor resets files") {
    temp_dir dir;
    auto store = open_store(dir.db_file());
    auto job = submitted_job(store, "task-1");
    job = ok(store, store.apply(job.id, success({stem_link("vocals"), stem_link("drums")})));
    const auto vocals = file_named(job, "vocals");
    ok(store, store.file_started(vocals.id));
    ok(store, store.file_done(vocals.id, "/final/vocals.mp3", 10, "ff00"));

    auto again = success({stem_link("vocals", "", "https://cdn.example.com/vocals?sig=2"),
                          stem_link("drums", "", "https://cdn.example.com/drums?sig=2")});
    job = ok(store, store.apply(job.id, again));
    REQUIRE(job.files.size() == 2);
    CHECK(job.status == job_status::downloading);

    const auto& done = file_named(job, "vocals");
    CHECK(done.id == vocals.id);
    CHECK(done.status == file_status::done);
    CHECK(done.url == "https://cdn.example.com/vocals?sig=1");
    CHECK(done.path == "/final/vocals.mp3");
    CHECK(done.sha256 == "ff00");
    // The unfinished file takes the fresher link.
    CHECK(file_named(job, "drums").url == "https://cdn.example.com/drums?sig=2");
    CHECK(file_named(job, "drums").status == file_status::pending);
}

TEST_CASE("job_store: a success for a job whose files are all done completes it") {
    temp_dir dir;
    auto store = open_store(dir.db_file());
    auto job = submitted_job(store, "task-1");
    job = ok(store, store.apply(job.id, success({stem_link("vocals")})));
    ok(store, store.file_started(job.files[0].id));
    job = ok(store, store.file_done(job.files[0].id, "/v.mp3", 1, "aa"));
    REQUIRE(job.status == job_status::completed);

    // A completed job is left as it is, whatever arrives.
    job = ok(store, store.apply(job.id, success({stem_link("vocals"), stem_link("bass")})));
    CHECK(job.status == job_status::completed);
    CHECK(job.files.size() == 1);
    job = ok(store, store.apply(job.id, failure("late failure")));
    CHECK(job.status == job_status::completed);
    CHECK(job.error.empty());
}

TEST_CASE("job_store: a failure report fails the job with its message") {
    temp_dir dir;
    auto store = open_store(dir.db_file());

    auto job = submitted_job(store, "task-1");
    job = ok(store, store.apply(job.id, failure("Audio too long")));
    CHECK(job.status == job_status::failed);
    CHECK(job.error == "Audio too long");
    CHECK(job.upstream_status == "FAILED");

    // A later pending report does not bring an upstream failure back.
    job = ok(store, store.apply(job.id, pending("IN_QUEUE")));
    CHECK(job.status == job_status::failed);
    CHECK(job.error == "Audio too long");

    auto other = submitted_job(store, "task-2");
    other = ok(store, store.apply(other.id, failure("")));
    CHECK(other.status == job_status::failed);
    CHECK(other.error == "MusicGPT reported the job failed");
}

TEST_CASE("job_store: a pending report records the upstream status only") {
    temp_dir dir;
    auto store = open_store(dir.db_file());
    auto job = submitted_job(store, "task-1");
    auto report = pending("PROCESSING");
    report.conversion_cost = 1.25;
    job = ok(store, store.apply(job.id, report));
    CHECK(job.status == job_status::submitted);
    CHECK(job.upstream_status == "PROCESSING");
    CHECK(job.conversion_cost == std::optional(1.25));
    CHECK(job.files.empty());

    // An empty upstream status does not erase the one known.
    job = ok(store, store.apply(job.id, pending("")));
    CHECK(job.upstream_status == "PROCESSING");
}

TEST_CASE("job_store: a success without links fails the job") {
    temp_dir dir;
    auto store = open_store(dir.db_file());
    auto job = submitted_job(store, "task-1");
    job = ok(store, store.apply(job.id, success({})));
    CHECK(job.status == job_status::failed);
    CHECK(job.error == "MusicGPT reported success but sent no stem links");
    CHECK(job.files.empty());

    // A later delivery with links revives it.
    job = ok(store, store.apply(job.id, success({stem_link("vocals")})));
    CHECK(job.status == job_status::downloading);
    CHECK(job.error.empty());
}

TEST_CASE("job_store: jobs are found by id, task_id, conversion_id and token hash") {
    temp_dir dir;
    auto store = open_store(dir.db_file());
    auto job = submitted_job(store, "task-1", "hash-1");
    submitted_job(store, "task-2", "hash-2");

    CHECK(ok(store, store.find(job.id)).id == job.id);
    CHECK(ok(store, store.find("task-1")).id == job.id);
    CHECK(ok(store, store.find("conv-task-1")).id == job.id);
    CHECK(ok(store, store.find_by_token_hash("hash-1")).id == job.id);
    CHECK(ok(store, store.find_by_token_hash("hash-2")).task_id == "task-2");

    fails_with(store.find("task-3"), storage::error::not_found);
    CHECK(store.last_error().find("task-3") != std::string::npos);
    fails_with(store.find(""), storage::error::not_found);
    fails_with(store.find_by_token_hash("hash-3"), storage::error::not_found);
    fails_with(store.find_by_token_hash(""), storage::error::not_found);
}

TEST_CASE("job_store: adopt creates a job for an unknown task and then finds it") {
    temp_dir dir;
    auto store = open_store(dir.db_file());
    auto adopted = ok(store, store.adopt("task-9", "conv-9"));
    CHECK(adopted.status == job_status::submitted);
    CHECK(adopted.task_id == "task-9");
    CHECK(adopted.conversion_id == "conv-9");
    CHECK(ok(store, store.token_hash(adopted.id)).empty());

    CHECK(ok(store, store.adopt("task-9", "")).id == adopted.id);
    CHECK(ok(store, store.adopt("task-9", "conv-9")).id == adopted.id);
    CHECK(ok(store, store.adopt("", "conv-9")).id == adopted.id);
    CHECK(ok(store, store.list(std::nullopt, 10)).size() == 1);

    // A job known only by conversion_id learns its task_id.
    auto partial = ok(store, store.adopt("", "conv-10"));
    CHECK(partial.task_id.empty());
    auto completed = ok(store, store.adopt("task-10", "conv-10"));
    CHECK(completed.id == partial.id);
    CHECK(completed.task_id == "task-10");

    fails_with(store.adopt("", ""), storage::error::not_found);
}

TEST_CASE("job_store: one task_id cannot belong to two jobs") {
    temp_dir dir;
    auto store = open_store(dir.db_file());
    auto first = submitted_job(store, "task-1");
    auto second = ok(store, store.create_job(request()));

    fails_with(store.mark_submitted(second.id, "task-1", "conv-x", std::nullopt, std::nullopt, ""),
               storage::error::conflict);
    CHECK(store.last_error().find(first.id) != std::string::npos);
    // The task_id is free, the conversion_id is not: nothing of the refused
    // change may be kept.
    fails_with(
        store.mark_submitted(second.id, "task-new", "conv-task-1", std::nullopt, std::nullopt, ""),
        storage::error::conflict);
    auto unchanged = ok(store, store.find(second.id));
    CHECK(unchanged.status == job_status::submitting);
    CHECK(unchanged.task_id.empty());
    CHECK(unchanged.conversion_id.empty());
    fails_with(store.find("task-new"), storage::error::not_found);

    fails_with(store.apply(second.id, success({stem_link("vocals")}, "task-1")),
               storage::error::conflict);
    CHECK(ok(store, store.find(second.id)).files.empty());
    // A report naming another task than the job's own is refused as well.
    fails_with(store.apply(first.id, success({stem_link("vocals")}, "task-other")),
               storage::error::conflict);
    // An adopted task whose conversion_id belongs to another job.
    fails_with(store.adopt("task-new", "conv-task-1"), storage::error::conflict);
}

TEST_CASE("job_store: jobs without upstream ids do not collide") {
    temp_dir dir;
    auto store = open_store(dir.db_file());
    auto a = ok(store, store.create_job(request()));
    auto b = ok(store, store.create_job(request()));
    ok(store, store.mark_submitted(a.id, "", "", std::nullopt, std::nullopt, ""));
    ok(store, store.mark_submitted(b.id, "", "", std::nullopt, std::nullopt, ""));
    CHECK(ok(store, store.list(job_status::submitted, 10)).size() == 2);
}

TEST_CASE("job_store: changes a job's state does not allow are refused") {
    temp_dir dir;
    auto store = open_store(dir.db_file());
    auto job = submitted_job(store, "task-1");

    fails_with(store.mark_submitted(job.id, "task-1", "", std::nullopt, std::nullopt, ""),
               storage::error::invalid_transition);
    CHECK(store.last_error().find("submitted") != std::string::npos);

    job = ok(store, store.apply(job.id, success({stem_link("vocals")})));
    const auto file_id = job.files[0].id;
    fails_with(store.file_done(file_id, "/p", 1, "aa"), storage::error::invalid_transition);
    fails_with(store.file_retry(file_id, "x", 0), storage::error::invalid_transition);
    fails_with(store.file_failed(file_id, "x"), storage::error::invalid_transition);
    CHECK(ok(store, store.find(job.id)).files[0].status == file_status::pending);

    ok(store, store.mark_failed(job.id, "gave up"));
    fails_with(store.mark_failed(job.id, "again"), storage::error::invalid_transition);
    CHECK(ok(store, store.find(job.id)).error == "gave up");
    // The files of a failed job are not downloaded.
    fails_with(store.file_started(file_id), storage::error::invalid_transition);

    fails_with(store.mark_submitted("jnope", "t", "", std::nullopt, std::nullopt, ""),
               storage::error::not_found);
    fails_with(store.mark_failed("jnope", "x"), storage::error::not_found);
    fails_with(store.apply("jnope", pending("IN_QUEUE")), storage::error::not_found);
    fails_with(store.file_started(file_id + 100), storage::error::not_found);
    fails_with(store.file_done(file_id + 100, "/p", 1, "aa"), storage::error::not_found);
    fails_with(store.file_retry(file_id + 100, "x", 0), storage::error::not_found);
    fails_with(store.file_failed(file_id + 100, "x"), storage::error::not_found);
}

TEST_CASE("job_store: retries wait for their time") {
    temp_dir dir;
    auto store = open_store(dir.db_file());
    CHECK_FALSE(ok(store, store.next_wakeup()).has_value());

    auto job = submitted_job(store, "task-1");
    job = ok(store, store.apply(job.id, success({stem_link("vocals"), stem_link("drums")})));
    const auto t = storage::now_millis();
    const auto drums = file_named(job, "drums").id;
    const auto vocals = file_named(job, "vocals").id;

    // New files are due at once, and not before they were created.
    CHECK(ok(store, store.runnable_files(t, 10)).size() == 2);
    CHECK(ok(store, store.runnable_files(0, 10)).empty());
    CHECK(ok(store, store.runnable_files(t, 1)).size() == 1);

    ok(store, store.file_started(drums));
    ok(store, store.file_started(vocals));
    ok(store, store.file_retry(drums, "connection reset", t + 60'000));
    ok(store, store.file_retry(vocals, "HTTP 503", t + 30'000));

    CHECK(ok(store, store.runnable_files(t + 29'999, 10)).empty());
    CHECK(ok(store, store.next_wakeup()) == std::optional<storage::millis>(t + 30'000));

    auto due = ok(store, store.runnable_files(t + 30'000, 10));
    REQUIRE(due.size() == 1);
    CHECK(due[0].id == vocals);
    CHECK(due[0].status == file_status::pending);
    CHECK(due[0].attempts == 1);
    CHECK(due[0].error == "HTTP 503");

    due = ok(store, store.runnable_files(t + 60'000, 10));
    REQUIRE(due.size() == 2);
    CHECK(due[0].id < due[1].id);

    auto again = ok(store, store.file_started(vocals));
    CHECK(again.attempts == 2);
    CHECK(ok(store, store.next_wakeup()) == std::optional<storage::millis>(t + 60'000));
}

TEST_CASE("job_store: a file left downloading by a crash is handed out again") {
    temp_dir dir;
    std::int64_t file_id = 0;
    {
        auto store = open_store(dir.db_file());
        auto job = submitted_job(store, "task-1");
        job = ok(store, store.apply(job.id, success({stem_link("vocals")})));
        file_id = job.files[0].id;
        ok(store, store.file_started(file_id));
    }
    auto store = open_store(dir.db_file());
    auto due = ok(store, store.runnable_files(storage::now_millis(), 10));
    REQUIRE(due.size() == 1);
    CHECK(due[0].id == file_id);
    CHECK(due[0].status == file_status::downloading);
    auto resumed = ok(store, store.file_started(file_id));
    CHECK(resumed.attempts == 2);
    auto job = ok(store, store.file_done(file_id, "/v.mp3", 5, "ee"));
    CHECK(job.status == job_status::completed);
}

TEST_CASE("job_store: a failed file fails its job, and a new delivery revives it") {
    temp_dir dir;
    auto store = open_store(dir.db_file());
    auto job = submitted_job(store, "task-1");
    job = ok(store, store.apply(job.id, success({stem_link("vocals", "wav"), stem_link("drums")})));
    const auto vocals = file_named(job, "vocals").id;

    ok(store, store.file_started(vocals));
    job = ok(store, store.file_failed(vocals, "HTTP 403"));
    CHECK(job.status == job_status::failed);
    CHECK(job.error == "file wav/vocals: HTTP 403");
    CHECK(file_named(job, "vocals").status == file_status::failed);
    // Nothing of a failed job is handed out or waited for.
    CHECK(ok(store, store.runnable_files(storage::now_millis() + 1000, 10)).empty());
    CHECK_FALSE(ok(store, store.next_wakeup()).has_value());

    job = ok(store, store.apply(job.id, success({stem_link("vocals", "wav"), stem_link("drums")})));
    CHECK(job.status == job_status::downloading);
    CHECK(job.error.empty());
    const auto& revived = file_named(job, "vocals");
    CHECK(revived.status == file_status::pending);
    CHECK(revived.attempts == 0);
    CHECK(revived.error.empty());
    CHECK(ok(store, store.runnable_files(storage::now_millis(), 10)).size() == 2);
}

TEST_CASE("job_store: a delivery that misses a failed file leaves the job failed") {
    temp_dir dir;
    auto store = open_store(dir.db_file());
    auto job = submitted_job(store, "task-1");
    job = ok(store, store.apply(job.id, success({stem_link("vocals"), stem_link("drums")})));
    const auto drums = file_named(job, "drums").id;
    ok(store, store.file_started(drums));
    ok(store, store.file_failed(drums, "too large"));

    job = ok(store, store.apply(job.id, success({stem_link("vocals")})));
    CHECK(job.status == job_status::failed);
    CHECK(job.error == "file drums: too large");
}

TEST_CASE("job_store: list is newest first, filtered and limited") {
    temp_dir dir;
    auto store = open_store(dir.db_file());
    std::vector<std::string> ids;
    for (int i = 0; i < 5; ++i) {
        ids.push_back(submitted_job(store, "task-" + std::to_string(i)).id);
    }
    ok(store, store.mark_failed(ids[1], "x"));
    ok(store, store.mark_failed(ids[3], "y"));
    ok(store, store.apply(ids[4], success({stem_link("vocals")}, "task-4")));

    auto all = ok(store, store.list(std::nullopt, 100));
    REQUIRE(all.size() == 5);
    for (std::size_t i = 0; i < all.size(); ++i) {
        CHECK(all[i].id == ids[ids.size() - 1 - i]);
    }
    CHECK(all[0].files.size() == 1);

    auto failed = ok(store, store.list(job_status::failed, 100));
    REQUIRE(failed.size() == 2);
    CHECK(failed[0].id == ids[3]);
    CHECK(failed[1].id == ids[1]);

    auto limited = ok(store, store.list(std::nullopt, 2));
    REQUIRE(limited.size() == 2);
    CHECK(limited[0].id == ids[4]);
    CHECK(limited[1].id == ids[3]);

    // The limit is clamped, never zero or negative.
    CHECK(ok(store, store.list(std::nullopt, 0)).size() == 1);
    CHECK(ok(store, store.list(std::nullopt, -5)).size() == 1);
    CHECK(ok(store, store.list(job_status::completed, 10)).empty());
}

TEST_CASE("job_store: a moved store keeps working") {
    temp_dir dir;
    auto store = open_store(dir.db_file());
    auto job = ok(store, store.create_job(request()));
    job_store moved = std::move(store);
    CHECK(ok(moved, moved.find(job.id)).id == job.id);
}

TEST_CASE("job_store: a submitted job is due for a status look-up at its planned time") {
    temp_dir dir;
    auto store = open_store(dir.db_file());
    const auto t = storage::now_millis();
    CHECK_FALSE(ok(store, store.next_poll_due()).has_value());

    auto a = ok(store, store.create_job(request()));
    ok(store, store.mark_submitted(a.id, "task-a", "conv-a", 10.0, 1.0, "IN_QUEUE", t + 30'000));
    auto b = ok(store, store.create_job(request()));
    ok(store, store.mark_submitted(b.id, "task-b", "conv-b", 10.0, 1.0, "IN_QUEUE", t + 10'000));
    // Without a planned time a job is never looked up.
    auto c = ok(store, store.create_job(request()));
    ok(store, store.mark_submitted(c.id, "task-c", "conv-c", 10.0, 1.0, "IN_QUEUE"));

    CHECK(ok(store, store.find(a.id)).next_poll_at == std::optional<storage::millis>(t + 30'000));
    CHECK_FALSE(ok(store, store.find(c.id)).next_poll_at.has_value());
    CHECK(ok(store, store.next_poll_due()) == std::optional<storage::millis>(t + 10'000));
    CHECK(ok(store, store.jobs_due_for_poll(t + 9'999, 10)).empty());
    auto due = ok(store, store.jobs_due_for_poll(t + 30'000, 10));
    REQUIRE(due.size() == 2);
    CHECK(due[0].id == b.id); // earliest first
    CHECK(due[1].id == a.id);
    CHECK(ok(store, store.jobs_due_for_poll(t + 30'000, 1)).size() == 1);

    // Still in queue: counted, planned later.
    ok(store, store.poll_again(b.id, t + 40'000));
    ok(store, store.poll_again(b.id, t + 50'000));
    auto polled = ok(store, store.find(b.id));
    CHECK(polled.poll_attempts == 2);
    CHECK(polled.next_poll_at == std::optional<storage::millis>(t + 50'000));
    // A pending report changes nothing about the plan.
    polled = ok(store, store.apply(b.id, pending("PROCESSING")));
    CHECK(polled.upstream_status == "PROCESSING");
    CHECK(polled.next_poll_at == std::optional<storage::millis>(t + 50'000));
    CHECK(polled.poll_attempts == 2);

    // schedule_poll moves the plan without counting; nullopt cancels it.
    ok(store, store.schedule_poll(b.id, t + 1'000));
    CHECK(ok(store, store.find(b.id)).poll_attempts == 2);
    CHECK(ok(store, store.next_poll_due()) == std::optional<storage::millis>(t + 1'000));
    ok(store, store.schedule_poll(b.id, std::nullopt));
    CHECK(ok(store, store.next_poll_due()) == std::optional<storage::millis>(t + 30'000));

    // Links end the look-ups; so does failure.
    auto done = ok(store, store.apply(a.id, success({stem_link("vocals")}, "task-a")));
    CHECK(done.status == job_status::downloading);
    CHECK_FALSE(done.next_poll_at.has_value());
    CHECK(done.poll_attempts == 0);
    ok(store, store.schedule_poll(c.id, t));
    ok(store, store.mark_failed(c.id, "gave up"));
    CHECK_FALSE(ok(store, store.find(c.id)).next_poll_at.has_value());
    CHECK(ok(store, store.jobs_due_for_poll(t + 100'000, 10)).empty());
    CHECK_FALSE(ok(store, store.next_poll_due()).has_value());

    // Final jobs are never planned again.
    fails_with(store.schedule_poll(c.id, t), storage::error::invalid_transition);
    fails_with(store.poll_again(c.id, t), storage::error::invalid_transition);
    CHECK(store.last_error().find("failed") != std::string::npos);
    fails_with(store.schedule_poll("jnope", t), storage::error::not_found);
    fails_with(store.poll_again("jnope", t), storage::error::not_found);
}

TEST_CASE("job_store: a job without a task_id is never handed out for a look-up") {
    temp_dir dir;
    auto store = open_store(dir.db_file());
    auto job = ok(store, store.create_job(request()));
    ok(store, store.schedule_poll(job.id, 0));
    CHECK(ok(store, store.jobs_due_for_poll(storage::now_millis(), 10)).empty());
    CHECK_FALSE(ok(store, store.next_poll_due()).has_value());
}

TEST_CASE("job_store: a refused link waits for fresh links from a look-up") {
    temp_dir dir;
    auto store = open_store(dir.db_file());
    auto job = submitted_job(store, "task-1");
    job = ok(store, store.apply(job.id, success({stem_link("vocals"), stem_link("drums")})));
    const auto vocals = file_named(job, "vocals").id;
    const auto t = storage::now_millis();

    ok(store, store.file_started(vocals));
    job = ok(store, store.file_link_expired(vocals, "HTTP 403: link expired", t));
    const auto& waiting = file_named(job, "vocals");
    CHECK(waiting.status == file_status::pending);
    CHECK(waiting.next_attempt_at == storage::awaiting_fresh_link);
    CHECK(waiting.error == "HTTP 403: link expired");
    CHECK(waiting.attempts == 1);
    CHECK(job.status == job_status::downloading);
    CHECK(job.next_poll_at == std::optional<storage::millis>(t));

    // Not handed to the downloader however long it waits; the job is
    // handed to the poller instead.
    auto runnable = ok(store, store.runnable_files(t + 86'400'000, 10));
    REQUIRE(runnable.size() == 1);
    CHECK(runnable[0].name == "drums");
    auto due = ok(store, store.jobs_due_for_poll(t, 10));
    REQUIRE(due.size() == 1);
    CHECK(due[0].id == job.id);

    // A report without that file keeps the look-up planned.
    job = ok(store, store.apply(job.id, success({stem_link("drums")})));
    CHECK(job.next_poll_at.has_value());

    // Fresh links: due at once with the new URL, the attempt count kept
    // (it is the budget), and no more look-ups.
    job = ok(store, store.apply(
                        job.id, success({stem_link("vocals", "", "https://cdn.example.com/v2"),
                                         stem_link("drums")})));
    const auto& fresh = file_named(job, "vocals");
    CHECK(fresh.url == "https://cdn.example.com/v2");
    CHECK(fresh.next_attempt_at <= storage::now_millis());
    CHECK(fresh.attempts == 1);
    CHECK_FALSE(job.next_poll_at.has_value());
    CHECK(ok(store, store.runnable_files(storage::now_millis(), 10)).size() == 2);

    // Only a file being downloaded can have its link refused.
    fails_with(store.file_link_expired(vocals, "x", t), storage::error::invalid_transition);
    fails_with(store.file_link_expired(vocals + 100, "x", t), storage::error::not_found);
}

TEST_CASE("job_store: a refused link keeps an earlier planned look-up") {
    temp_dir dir;
    auto store = open_store(dir.db_file());
    auto job = submitted_job(store, "task-1");
    job = ok(store, store.apply(job.id, success({stem_link("vocals")})));
    const auto t = storage::now_millis();
    ok(store, store.schedule_poll(job.id, t - 5'000));
    ok(store, store.file_started(job.files[0].id));
    job = ok(store, store.file_link_expired(job.files[0].id, "HTTP 410", t));
    CHECK(job.next_poll_at == std::optional<storage::millis>(t - 5'000));
}

TEST_CASE("job_store: jobs left submitting are found and given up only while submitting") {
    temp_dir dir;
    auto store = open_store(dir.db_file());
    auto old_a = ok(store, store.create_job(request("hash-a")));
    auto old_b = ok(store, store.create_job(request("hash-b")));
    auto accepted = submitted_job(store, "task-x");
    const auto cutoff = storage::now_millis() + 1;

    auto stale = ok(store, store.stale_submitting(cutoff));
    REQUIRE(stale.size() == 2);
    CHECK(stale[0].id == old_a.id);
    CHECK(stale[1].id == old_b.id);
    CHECK(ok(store, store.stale_submitting(old_a.created_at)).empty());

    // b's webhook arrives (by its token) before the grace period ends.
    auto delivered = success({stem_link("vocals")}, "task-b");
    ok(store, store.apply(old_b.id, delivered));
    fails_with(store.give_up_submitting(old_b.id, "x"), storage::error::invalid_transition);
    CHECK(ok(store, store.find(old_b.id)).status == job_status::downloading);
    CHECK(ok(store, store.find("task-b")).id == old_b.id);

    auto failed = ok(store, store.give_up_submitting(old_a.id, "stemd stopped while submitting"));
    CHECK(failed.status == job_status::failed);
    CHECK(failed.error == "stemd stopped while submitting");
    fails_with(store.give_up_submitting(accepted.id, "x"), storage::error::invalid_transition);
    fails_with(store.give_up_submitting("jnope", "x"), storage::error::not_found);
    CHECK(ok(store, store.stale_submitting(cutoff)).empty());
}

TEST_CASE("job_store: retry gives a failed job's files another go") {
    temp_dir dir;
    auto store = open_store(dir.db_file());
    auto job = submitted_job(store, "task-1");
    job = ok(store, store.apply(job.id, success({stem_link("vocals"), stem_link("drums"),
                                                 stem_link("bass")})));
    const auto vocals = file_named(job, "vocals").id;
    const auto drums = file_named(job, "drums").id;
    const auto bass = file_named(job, "bass").id;
    ok(store, store.file_started(bass));
    ok(store, store.file_done(bass, "/srv/bass.wav", 10, "bb"));
    ok(store, store.file_started(drums));
    ok(store, store.file_retry(drums, "reset", storage::now_millis() + 60'000));
    ok(store, store.file_started(vocals));
    job = ok(store, store.file_failed(vocals, "writing vocals.wav.part: File too large"));
    REQUIRE(job.status == job_status::failed);

    const auto t = storage::now_millis();
    auto retried = ok(store, store.retry("task-1", t)); // found by task_id too
    CHECK(retried.id == job.id);
    CHECK(retried.status == job_status::downloading);
    CHECK(retried.error.empty());
    for (auto id : {vocals, drums}) {
        const auto& f = *std::find_if(retried.files.begin(), retried.files.end(),
                                      [&](const auto& x) { return x.id == id; });
        CAPTURE(f.name);
        CHECK(f.status == file_status::pending);
        CHECK(f.attempts == 0);
        CHECK(f.error.empty());
        CHECK(f.next_attempt_at == t);
    }
    CHECK(file_named(retried, "bass").status == file_status::done);
    CHECK(file_named(retried, "bass").sha256 == "bb");
    CHECK(ok(store, store.runnable_files(t, 10)).size() == 2);

    // Only a failed job can be retried.
    fails_with(store.retry(job.id, t), storage::error::invalid_transition);
    CHECK(store.last_error().find("not failed") != std::string::npos);
    fails_with(store.retry("jnope", t), storage::error::not_found);
}

TEST_CASE("job_store: retry of a failed job without files asks MusicGPT again") {
    temp_dir dir;
    auto store = open_store(dir.db_file());
    auto job = submitted_job(store, "task-1");
    ok(store, store.apply(job.id, failure("Simulated extraction failure")));
    const auto t = storage::now_millis();
    auto retried = ok(store, store.retry(job.id, t));
    CHECK(retried.status == job_status::submitted);
    CHECK(retried.error.empty());
    CHECK(retried.next_poll_at == std::optional<storage::millis>(t));
    CHECK(ok(store, store.jobs_due_for_poll(t, 10)).size() == 1);

    // A job MusicGPT never accepted has nothing to retry.
    auto refused = ok(store, store.create_job(request()));
    ok(store, store.mark_failed(refused.id, "HTTP 402"));
    fails_with(store.retry(refused.id, t), storage::error::invalid_transition);
    CHECK(store.last_error().find("submit the audio again") != std::string::npos);
    CHECK(ok(store, store.find(refused.id)).status == job_status::failed);
}

TEST_CASE("job_store: webhook delivery ids are remembered for a week") {
    temp_dir dir;
    const auto day = 24LL * 3600 * 1000;
    const auto t = storage::now_millis();
    {
        auto store = open_store(dir.db_file());
        CHECK_FALSE(ok(store, store.seen_delivery("msg_1")));
        CHECK(ok(store, store.remember_delivery("msg_1", t)));
        CHECK(ok(store, store.seen_delivery("msg_1")));
        CHECK_FALSE(ok(store, store.remember_delivery("msg_1", t + 1000)));
        CHECK(ok(store, store.remember_delivery("msg_2", t + 1000)));
    }
    auto store = open_store(dir.db_file());
    // Survives a restart.
    CHECK_FALSE(ok(store, store.remember_delivery("msg_1", t + day)));
    // A new delivery eight days later forgets ids older than a week.
    CHECK(ok(store, store.remember_delivery("msg_3", t + 8 * day)));
    CHECK(ok(store, store.remember_delivery("msg_1", t + 8 * day)));
    CHECK_FALSE(ok(store, store.remember_delivery("msg_3", t + 8 * day)));
}
