// Two `stemd serve` on one PostgreSQL database (a throw-away cluster of
// the test's own), one simulator, one output folder: a job submitted
// through one instance whose webhook reaches the other, the same job seen
// through both, the events of one instance's submission streamed by the
// other, and a killed instance's download finished by the survivor once
// its claim's lease runs out.

#include "integration/stack.hpp"
#include "support/forwarder.hpp"
#include "support/sse_reader.hpp"
#include "tests/support/pg_cluster.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <set>

namespace json = boost::json;
using namespace stemd::test;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

// Exits 77 (SKIP_RETURN_CODE) when no PostgreSQL can be started here: a
// test of a shared store without one must not pass.
std::string fresh_database() {
    try {
        return pg_cluster::shared().create_database();
    } catch (const std::exception& e) {
        std::fprintf(stderr,
                     "SKIPPED: cannot start a PostgreSQL 15 cluster (%s); "
                     ".ci/install-deps installs postgresql-15\n",
                     e.what());
        std::_Exit(77);
    }
}

// Claims last this long, so that a killed instance's work is taken over in
// seconds.
serve_launch short_lease() {
    return {.env = {{"STEMD_TEST_LEASE_MS", "1500"}}};
}

std::string bearer(const stack& s) {
    return "Authorization: Bearer " + s.api_token() + "\r\n";
}

std::string submit_job(stack& s, const std::string& stems) {
    auto [status, job] =
        s.submit(R"({"audio_url":"https://songs.example/track.mp3","stems":[)" + stems + "]}");
    REQUIRE_MESSAGE(status == 201, json::serialize(job) << "\n" << s.logs());
    return str(job, "id");
}

// What must read the same through either instance.
std::string essentials(const json::value& job) {
    std::string out = str(job, "id") + " " + str(job, "status") + " " + str(job, "task_id");
    for (const auto& f : job.at("files").as_array())
        out += " " + str(f, "name") + "=" + str(f, "status") + ":" + str(f, "sha256");
    return out;
}

bool logged(const stack& s, const std::string& job_id, const std::string& what) {
    const std::string logs = s.serve_logs();
    for (std::size_t at = logs.find(job_id); at != std::string::npos;
         at = logs.find(job_id, at + 1)) {
        const auto end = logs.find('\n', at);
        if (logs.substr(at, end - at).find(what) != std::string::npos)
            return true;
    }
    return false;
}

// The job events of `job_id` read from `r` until its `completed`.
std::vector<sse_event> events_until_completed(sse_reader& r, const std::string& job_id) {
    std::vector<sse_event> out;
    const auto deadline = steady::now() + 60s;
    while (steady::now() < deadline) {
        auto e = r.next_job(
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now()));
        if (!e)
            break;
        const auto data = json::parse(e->data).as_object();
        if (data.at("job_id").as_string() != job_id)
            continue;
        out.push_back(*e);
        if (data.at("kind").as_string() == "completed")
            break;
    }
    return out;
}

} // namespace

TEST_CASE("two instances: a webhook and the events of a job submitted through the other") {
    const std::string db = fresh_database();
    stack a("two-instances-a", {.database_uri = db});
    stack b("two-instances-b", {.database_uri = db, .share_with = &a});
    a.point_webhooks_at(b);
    a.start_simulator();
    a.start_serve(short_lease());
    b.start_serve(short_lease());

    sse_reader events(b.api_port(), "/v1/events", bearer(b));
    REQUIRE(events.status() == 200);
    const std::string id = submit_job(a, R"("vocals","drums")");

    const auto done = b.wait_for(id, "completed");
    check_files(b, done, 64 * 1024);
    CHECK(done.at("files").as_array().size() == 2);
    CHECK(essentials(a.job(id)) == essentials(done));
    // The delivery went to B, which A's submission told MusicGPT.
    CHECK_MESSAGE(logged(b, id, "webhook: "), b.serve_logs());
    CHECK_MESSAGE(!logged(a, id, "webhook: "), a.serve_logs());

    // B streams what A wrote (created, submitted), in id order, once each.
    const auto seen = events_until_completed(events, id);
    std::multiset<std::string> kinds;
    std::map<std::string, int> downloads;
    long long last = 0;
    for (const auto& e : seen) {
        const auto data = json::parse(e.data).as_object();
        kinds.insert(std::string(data.at("kind").as_string()));
        if (data.at("kind").as_string() == "download_done")
            ++downloads[std::string(data.at("file").as_string())];
        CHECK(std::stoll(e.id) > last);
        last = std::stoll(e.id);
    }
    CAPTURE(a.logs());
    CHECK(kinds.count("created") == 1);
    CHECK(kinds.count("submitted") == 1);
    CHECK(kinds.count("webhook") == 1);
    CHECK(kinds.count("completed") == 1);
    // Each file downloaded and recorded once, by whichever instance took it.
    CHECK(downloads.size() == 2);
    for (const auto& [file, n] : downloads)
        CHECK_MESSAGE(n == 1, file);
}

TEST_CASE("two instances: a killed instance's download is finished by the other") {
    const std::string db = fresh_database();
    // 512 KiB at 64 KiB/s: eight seconds, long enough to be killed mid-body.
    stack a("two-instances-kill-a",
            {.stem_bytes = 512 * 1024, .rate = 64 * 1024, .database_uri = db});
    stack b("two-instances-kill-b",
            {.stem_bytes = 512 * 1024, .rate = 64 * 1024, .database_uri = db, .share_with = &a});
    a.start_simulator();
    a.start_serve(short_lease());
    b.start_serve(short_lease());

    const std::string id = submit_job(a, R"("vocals")");
    a.wait_for_partial(64 * 1024, 30s);
    stack* holder = nullptr;
    REQUIRE(wait_until(
        [&] {
            holder = logged(a, id, "downloading ")   ? &a
                     : logged(b, id, "downloading ") ? &b
                                                     : nullptr;
            return holder != nullptr;
        },
        10s));
    stack& survivor = holder == &a ? b : a;
    holder->kill_serve();

    const auto done = survivor.wait_for(id, "completed", 60s);
    check_files(survivor, done, 512 * 1024);
    CHECK(done.at("files").as_array().size() == 1);
    // The survivor took the claim over once its lease ran out.
    CHECK_MESSAGE(logged(survivor, id, "downloading "), survivor.logs());
    CHECK_MESSAGE(logged(survivor, id, "saved "), survivor.logs());
}

namespace {

// doctor's "database" check, from `stemd doctor --json` with `config`.
json::object database_check(const std::filesystem::path& config) {
    const auto r = run({STEMD_BINARY, "doctor", "--config", config.string(), "--json"}, 60s);
    const auto body = json::parse(r.out);
    for (const auto& c : body.at("checks").as_array())
        if (c.at("name").as_string() == "database")
            return c.as_object();
    FAIL("no database check: " << r.out << r.err);
    return {};
}

} // namespace

TEST_CASE("two instances: doctor checks the PostgreSQL database and its schema") {
    const std::string db = fresh_database();
    stack a("two-instances-doctor", {.database_uri = db});
    // Never used: answers, no schema yet (doctor does not make one).
    auto fresh = database_check(a.config_file());
    CHECK(fresh.at("level").as_string() == "ok");
    CHECK_MESSAGE(std::string(fresh.at("message").as_string()).find("schema version 0") !=
                      std::string::npos,
                  json::serialize(fresh));
    CHECK(database_check(a.config_file()) == fresh);

    a.start_simulator();
    a.start_serve();
    auto used = database_check(a.config_file());
    CHECK(used.at("level").as_string() == "ok");
    CHECK_MESSAGE(std::string(used.at("message").as_string()).find("schema version 0") ==
                      std::string::npos,
                  json::serialize(used));

    // A server that does not answer is a problem naming it.
    const std::string nowhere =
        "postgresql://stemd@127.0.0.1:" + std::to_string(reserved_port().number()) + "/nothing";
    stack b("two-instances-doctor-down", {.database_uri = nowhere});
    auto down = database_check(b.config_file());
    CHECK(down.at("level").as_string() == "problem");
    CHECK_MESSAGE(std::string(down.at("message").as_string()).find(nowhere) != std::string::npos,
                  json::serialize(down));
}

namespace {

// doctor's "public url" check of the instance `s` as {level, message}.
std::pair<std::string, std::string> public_url_check(stack& s) {
    const auto r = s.cli({"doctor", "--config", s.config_file().string(), "--json"});
    const auto body = json::parse(r.out);
    for (const auto& c : body.at("checks").as_array())
        if (c.at("name").as_string() == "public url")
            return {std::string(c.at("level").as_string()),
                    std::string(c.at("message").as_string())};
    FAIL("no public url check: " << r.out << r.err);
    return {};
}

} // namespace

TEST_CASE("two instances behind a round-robin balancer: doctor's probe reaches each") {
    const std::string db = fresh_database();
    stack a("two-instances-probe-a", {.database_uri = db});
    stack b("two-instances-probe-b", {.database_uri = db, .share_with = &a});
    forwarder balancer({a.webhook_port(), b.webhook_port()});
    const std::string url = "http://127.0.0.1:" + std::to_string(balancer.port());
    a.set_public_url(url);
    b.set_public_url(url);
    a.start_simulator();
    a.start_serve();
    b.start_serve();
    // The balancer alternates: a's first probe lands on a, its second
    // doctor's first probe on b, which does not know the id (404), so a
    // sends another; b's the same way round.
    for (stack* s : {&a, &a, &b, &b}) {
        const auto [level, message] = public_url_check(*s);
        CHECK_MESSAGE(level == "ok", message);
    }
    const auto relayed = balancer.forwarded();
    CHECK(relayed.at(0) + relayed.at(1) >= 6);
}
