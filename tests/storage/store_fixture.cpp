#include "store_fixture.hpp"

#include "storage/database.hpp"
#include "storage/pg_connection.hpp"
#include "storage/pg_store.hpp"
#include "storage/sqlite_store.hpp"
#include "tests/support/pg_cluster.hpp"

#include <cstdlib>
#include <map>
#include <stdexcept>

namespace stemd::storage::testing {

std::unique_ptr<store> sqlite_engine::open(const temp_dir& dir) {
    auto opened = sqlite_store::open(dir.db_file());
    return std::make_unique<sqlite_store>(ok(std::move(opened)));
}

void sqlite_engine::insert_jobs(const temp_dir& dir, int count,
                                const std::function<millis(int)>& created_at,
                                const std::function<job_status(int)>& status) {
    database db(dir.db_file());
    transaction tx(db);
    statement s(db,
                "INSERT INTO jobs (id, status, created_at, updated_at) VALUES (?1, ?2, ?3, ?3)");
    for (int i = 0; i < count; ++i) {
        s.reset();
        s.bind(1, "bulk-" + std::to_string(i));
        s.bind(2, to_string(status(i)));
        s.bind(3, created_at(i));
        s.exec();
    }
    tx.commit();
}

std::string pg_engine::uri(const temp_dir& dir) {
    static std::map<std::string, std::string> databases;
    auto& uri = databases[dir.path().string()];
    if (uri.empty()) {
        uri = stemd::test::pg_cluster::shared().create_database();
    }
    return uri;
}

std::unique_ptr<store> pg_engine::open(const temp_dir& dir) {
    pg::connection_options o;
    o.conninfo = uri(dir);
    auto opened = pg_store::open(o);
    return std::make_unique<pg_store>(ok(std::move(opened)));
}

void pg_engine::insert_jobs(const temp_dir& dir, int count,
                            const std::function<millis(int)>& created_at,
                            const std::function<job_status(int)>& status) {
    // One statement for all of them: arrays of statuses and times, unnested.
    std::string statuses = "{";
    std::string times = "{";
    for (int i = 0; i < count; ++i) {
        const char* sep = i == 0 ? "" : ",";
        statuses += sep;
        statuses += to_string(status(i));
        times += sep;
        times += std::to_string(created_at(i));
    }
    pg::connection_options o;
    o.conninfo = uri(dir);
    pg::connection c(o);
    c.exec("INSERT INTO jobs (id, status, created_at, updated_at) "
           "SELECT 'bulk-' || (n - 1), s, t, t "
           "FROM unnest($1::text[], $2::bigint[]) WITH ORDINALITY AS u(s, t, n)",
           pg::params().add(statuses + "}").add(times + "}"));
}

void ok(result<void> r) {
    INFO((r.has_error() ? r.error().message : std::string()));
    REQUIRE(r.has_value());
}

new_job request(std::string token_hash) {
    new_job j;
    j.audio_url = "https://example.com/song.mp3";
    j.stems_json = R"(["vocals","drums"])";
    j.preprocessing_options_json = R"(["Denoise"])";
    j.eco_mode = true;
    j.token_hash = std::move(token_hash);
    return j;
}

test_link stem_link(std::string name, std::string subdir, std::string url) {
    test_link l;
    l.link.url = url.empty() ? "https://cdn.example.com/" + name + "?sig=1" : url;
    l.path = "/srv/stems/" + (subdir.empty() ? name : subdir + "/" + name) + ".mp3";
    l.link.name = std::move(name);
    l.link.subdir = std::move(subdir);
    return l;
}

delivery success(std::vector<test_link> links, std::string task_id) {
    delivery d;
    d.what = musicgpt::report::state::succeeded;
    d.task_id = std::move(task_id);
    d.upstream_status = "COMPLETED";
    d.conversion_cost = 0.157;
    d.conversion_duration = 170.69;
    for (auto& l : links) {
        d.links.push_back(std::move(l.link));
        d.paths.push_back(std::move(l.path));
    }
    return d;
}

delivery failure(std::string message) {
    delivery d;
    d.what = musicgpt::report::state::failed;
    d.upstream_status = "FAILED";
    d.message = std::move(message);
    return d;
}

delivery pending(std::string upstream_status) {
    delivery d;
    d.what = musicgpt::report::state::pending;
    d.upstream_status = std::move(upstream_status);
    return d;
}

result<job_record> apply(store& s, std::string_view job_id, const delivery& d) {
    return s.apply(job_id, d, d.paths);
}

result<file_record> start(store& s, std::int64_t file_id) {
    return s.claim_file(file_id, owner, now_millis(), lease);
}

job_record submitted_job(store& s, const std::string& task_id, const std::string& token_hash) {
    auto job = ok(s.create_job(request(token_hash)));
    ok(s.mark_submitted(job.id, task_id, "conv-" + task_id, 147.0, 5.55, "IN_QUEUE"));
    return ok(s.find(job.id));
}

const file_record& file_named(const job_record& job, const std::string& name) {
    for (const auto& f : job.files) {
        if (f.name == name) {
            return f;
        }
    }
    FAIL("the job has no file " << name);
    throw std::logic_error("unreachable");
}

} // namespace stemd::storage::testing
