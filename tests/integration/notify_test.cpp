// Telling the user's app through the real binary: a completed or failed
// job sends one Standard Webhooks event to a receiver over TLS (a CA made
// for the test), its signature checked here with OpenSSL's own HMAC; the
// receiver's answers decide what happens next (retry, refused), and a kill
// -9 between the commit and the delivery still delivers exactly one event
// id. The command channel gets the job in its environment and is killed
// at its timeout.

#include "integration/stack.hpp"
#include "support/reference_signature.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <doctest/doctest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

namespace json = boost::json;
using namespace stemd::test;
using namespace std::chrono_literals;

namespace {

// 32 key bytes; the secret stemd is given is "whsec_" + their base64.
const std::string key = "notify-test-key-0123456789abcdef";

std::string secret() {
    return "whsec_" + openssl_base64(key);
}

// notify_receiver.py on a port of its own, with a CA of its own (made in
// the test) that stemd is told to trust through notify.ca_file.
class receiver {
public:
    explicit receiver(const std::string& label, std::string plan)
        : ws_(label + "-receiver"), ca_(make_test_ca(ws_ / "ca")), plan_(std::move(plan)) {}

    void start() {
        proc_ = std::make_unique<child_process>(
            std::vector<std::string>{STEMD_PYTHON3, STEMD_NOTIFY_RECEIVER, "--port",
                                     std::to_string(port_.number()), "--cert",
                                     ca_.server_cert.string(), "--key", ca_.server_key.string(),
                                     "--log", log().string(), "--plan", plan_},
            ws_ / "receiver.out");
        REQUIRE_MESSAGE(
            wait_until([&] { return proc_->log().find("listening") != std::string::npos; }, 10s),
            proc_->log());
    }
    std::string url() const {
        return "https://127.0.0.1:" + std::to_string(port_.number()) + "/hooks/stemd?from=test";
    }
    // The [notify] table for stemd.
    std::string config(const std::string& extra = "") const {
        return "url = \"" + url() + "\"\nsigning_secret = \"" + secret() + "\"\nca_file = \"" +
               ca_.ca_cert.string() + "\"\ntimeout_seconds = 30\n" + extra;
    }
    std::filesystem::path log() const { return ws_ / "received.jsonl"; }

    std::vector<json::object> requests() const {
        std::vector<json::object> out;
        std::ifstream in(log());
        for (std::string line; std::getline(in, line);)
            if (!line.empty())
                out.push_back(json::parse(line).as_object());
        return out;
    }
    std::vector<json::object> wait_for(std::size_t n, const stack& s,
                                       std::chrono::milliseconds timeout = 30s) const {
        CHECK_MESSAGE(wait_until([&] { return requests().size() >= n; }, timeout),
                      "expected " << n << " requests, got " << requests().size() << "\n"
                                  << s.logs());
        return requests();
    }

private:
    workspace ws_;
    test_ca ca_;
    std::string plan_;
    reserved_port port_;
    std::unique_ptr<child_process> proc_;
};

stack_options with_notify(const receiver& r) {
    stack_options o;
    o.notify_config = r.config();
    return o;
}

// The signature checked with OpenSSL's one-shot HMAC, the timestamp within
// five minutes of our clock.
void check_signed(const json::object& request) {
    const std::string id(request.at("id").as_string());
    const std::string ts(request.at("timestamp").as_string());
    const std::string body(request.at("body").as_string());
    CHECK(id.starts_with("msg_"));
    CHECK(std::string(request.at("signature").as_string()) == openssl_sign(key, id, ts, body));
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    CHECK(std::llabs(std::stoll(ts) - now) < 300);
    CHECK(std::string(request.at("content_type").as_string()) == "application/json");
    CHECK(std::string(request.at("path").as_string()) == "/hooks/stemd?from=test");
}

json::object body_of(const json::object& request) {
    return json::parse(request.at("body").as_string()).as_object();
}

std::set<std::string> ids_of(const std::vector<json::object>& requests) {
    std::set<std::string> ids;
    for (const auto& r : requests)
        ids.insert(std::string(r.at("id").as_string()));
    return ids;
}

// The job's one notification once its status is `status`.
json::object wait_notification(stack& s, const std::string& job, const std::string& status,
                               std::chrono::milliseconds timeout = 30s) {
    json::object found;
    const bool ok = wait_until(
        [&] {
            const auto j = s.job(job);
            const auto& list = j.at("notifications").as_array();
            if (list.size() != 1)
                return false;
            found = list[0].as_object();
            return std::string(found.at("status").as_string()) == status;
        },
        timeout);
    CHECK_MESSAGE(ok, "notification of " << job << " never became " << status << ": "
                                         << json::serialize(found) << "\n"
                                         << s.logs());
    return found;
}

std::string submit(stack& s, const std::string& audio_url) {
    auto [status, created] = s.submit(R"({"audio_url":")" + audio_url + R"("})");
    REQUIRE_MESSAGE(status == 201, json::serialize(created) << s.logs());
    return str(created, "id");
}

} // namespace

TEST_CASE("notify: a completed job sends one signed job.completed event") {
    receiver r("notify-completed", "");
    stack s("notify-completed", with_notify(r));
    r.start();
    s.start_simulator();
    s.start_serve();
    const auto id = submit(s, "https://songs.example/track.mp3");
    const auto job = s.wait_for(id, "completed");
    const auto n = wait_notification(s, id, "delivered");
    const auto got = r.requests();
    REQUIRE(got.size() == 1);
    check_signed(got[0]);
    CHECK(std::string(n.at("id").as_string()) == std::string(got[0].at("id").as_string()));
    CHECK(n.at("attempts").as_int64() == 1);
    CHECK(n.at("event").as_string() == "job.completed");
    CHECK(n.at("next_attempt_at").is_null());
    CHECK(n.at("delivered_at").is_string());

    const auto body = body_of(got[0]);
    CHECK(body.at("type").as_string() == "job.completed");
    CHECK(body.at("timestamp").is_string());
    const auto& data = body.at("data").as_object();
    CHECK(data.at("job_id").as_string() == id);
    CHECK(data.at("task_id").as_string() == job.at("task_id").as_string());
    CHECK(data.at("status").as_string() == "completed");
    CHECK(data.at("error").as_string() == "");
    const auto& files = data.at("files").as_array();
    const auto& job_files = job.at("files").as_array();
    REQUIRE(files.size() == job_files.size());
    REQUIRE(!files.empty());
    for (std::size_t i = 0; i < files.size(); ++i) {
        const auto& f = files[i].as_object();
        const auto& jf = job_files[i].as_object();
        CHECK(f.at("path").as_string() == jf.at("path").as_string());
        CHECK(f.at("bytes").as_int64() == jf.at("bytes").as_int64());
        CHECK(f.at("sha256").as_string() == jf.at("sha256").as_string());
        CHECK(f.at("sha256").as_string() ==
              sha256_hex(read_file(std::string(f.at("path").as_string()))));
    }

    // Visible: the list, the CLI, the metric, the job's history.
    const auto listed = s.api_request("GET", "/v1/notifications?status=delivered&limit=10");
    CHECK(listed.status == 200);
    const auto list = json::parse(listed.body).as_object().at("notifications").as_array();
    REQUIRE(list.size() == 1);
    CHECK(list[0].at("job_id").as_string() == id);
    CHECK(list[0].at("channel").as_string() == "url");
    CHECK(s.api_request("GET", "/v1/notifications?status=bogus").status == 400);
    // Numbers as JSON people read: "eta":1, never 1E0.
    const auto raw = s.api_request("GET", "/v1/jobs/" + id).body;
    CHECK(raw.find("\"eta\":") != std::string::npos);
    CHECK_MESSAGE(!std::regex_search(raw, std::regex(":-?[0-9.]+[eE]")), raw);
    // The jobs list carries them as the job does.
    const auto jobs = json::parse(s.api_request("GET", "/v1/jobs?limit=10").body);
    const auto& row = jobs.at("jobs").as_array().at(0);
    CHECK(row.at("id").as_string() == id);
    REQUIRE(row.at("notifications").as_array().size() == 1);
    CHECK(row.at("notifications").as_array()[0].at("id").as_string() == n.at("id").as_string());
    const auto cli = s.cli({"notify", "list"});
    CHECK(cli.exit_code == 0);
    CHECK(cli.out.find(std::string(n.at("id").as_string())) != std::string::npos);
    CHECK(cli.out.find("delivered") != std::string::npos);
    CHECK(s.cli({"notify"}).exit_code == 2);
    const auto metrics = s.api_request("GET", "/metrics").body;
    CHECK(metrics.find("stemd_notifications_total{outcome=\"delivered\"} 1") != std::string::npos);
    CHECK(metrics.find("stemd_notifications_pending 0") != std::string::npos);
    const auto logs = s.cli({"logs", id});
    CHECK(logs.out.find("notify_delivered") != std::string::npos);
    // The secret is never logged.
    CHECK(s.serve_logs().find(secret().substr(6)) == std::string::npos);
}

TEST_CASE("notify: a failed job sends job.failed with the error") {
    receiver r("notify-failed", "");
    stack s("notify-failed", with_notify(r));
    r.start();
    s.start_simulator();
    s.start_serve();
    const auto id = submit(s, "https://songs.example/sim-fail.mp3");
    s.wait_for(id, "failed");
    wait_notification(s, id, "delivered");
    const auto got = r.requests();
    REQUIRE(got.size() == 1);
    check_signed(got[0]);
    const auto body = body_of(got[0]);
    CHECK(body.at("type").as_string() == "job.failed");
    CHECK(body.at("data").at("status").as_string() == "failed");
    CHECK(std::string(body.at("data").at("error").as_string()).find("Simulated") !=
          std::string::npos);
}

TEST_CASE("notify: a 5xx, 408 or 429 is tried again with the same webhook-id") {
    for (const std::string first : {"500", "408", "429"}) {
        CAPTURE(first);
        receiver r("notify-retry", first + ",200");
        stack s("notify-retry", with_notify(r));
        r.start();
        s.start_simulator();
        s.start_serve();
        const auto id = submit(s, "https://songs.example/track.mp3");
        const auto n = wait_notification(s, id, "delivered", 40s);
        const auto got = r.requests();
        REQUIRE(got.size() == 2);
        CHECK(ids_of(got).size() == 1);
        check_signed(got[0]);
        check_signed(got[1]);
        CHECK(n.at("attempts").as_int64() == 2);
        CHECK(s.cli({"logs", id}).out.find("notify_retry") != std::string::npos);
    }
}

TEST_CASE("notify: a 400 ends the event as refused, with no more attempts") {
    receiver r("notify-refused", "400");
    stack s("notify-refused", with_notify(r));
    r.start();
    s.start_simulator();
    s.start_serve();
    const auto id = submit(s, "https://songs.example/track.mp3");
    const auto n = wait_notification(s, id, "refused");
    CHECK(n.at("attempts").as_int64() == 1);
    CHECK(n.at("last_error").as_string() == "HTTP 400");
    CHECK(n.at("next_attempt_at").is_null());
    // A second job's event is delivered (the receiver answers 200 now)
    // while the first is never sent again.
    const auto second = submit(s, "https://songs.example/again.mp3");
    wait_notification(s, second, "delivered");
    const auto got = r.requests();
    CHECK(got.size() == 2);
    CHECK(ids_of(got).size() == 2);
    CHECK(s.api_request("GET", "/metrics")
              .body.find("stemd_notifications_total{outcome=\"refused\"} 1") != std::string::npos);
}

TEST_CASE(
    "notify: kill -9 while the receiver holds the request, the restart delivers the same id") {
    receiver r("notify-kill-held", "hold");
    stack s("notify-kill-held", with_notify(r));
    r.start();
    s.start_simulator();
    s.start_serve();
    const auto id = submit(s, "https://songs.example/track.mp3");
    s.wait_for(id, "completed");
    r.wait_for(1, s);
    s.kill_serve(); // committed, sent, never answered
    s.start_serve();
    wait_notification(s, id, "delivered");
    const auto got = r.requests();
    CHECK(got.size() == 2);
    CHECK(ids_of(got).size() == 1);
    for (const auto& g : got)
        check_signed(g);
}

TEST_CASE("notify: kill -9 while the receiver is down, the restart delivers exactly one id") {
    receiver r("notify-kill-down", "");
    stack s("notify-kill-down", with_notify(r));
    s.start_simulator();
    s.start_serve();
    const auto id = submit(s, "https://songs.example/track.mp3");
    s.wait_for(id, "completed");
    // The first attempt found nobody listening and planned another.
    const auto pending = wait_notification(s, id, "pending");
    CHECK(wait_until(
        [&] {
            const auto n = s.job(id).at("notifications").as_array()[0].as_object();
            return n.at("attempts").as_int64() >= 1 && !n.at("last_error").as_string().empty();
        },
        20s));
    s.kill_serve();
    r.start();
    s.start_serve();
    wait_notification(s, id, "delivered");
    const auto got = r.requests();
    CHECK(!got.empty());
    CHECK(ids_of(got) == std::set<std::string>{std::string(pending.at("id").as_string())});
    for (const auto& g : got)
        check_signed(g);
}

TEST_CASE("notify: the command gets the job in its environment and is killed at its timeout") {
    workspace scripts("notify-command-scripts");
    const auto out = scripts / "env.txt";
    const auto pid_file = scripts / "sleeper.pid";
    const auto script =
        scripts.write("on-stems.sh", "#!/bin/sh\n"
                                     "if [ \"$STEMD_EVENT_TYPE\" = job.failed ]; then\n"
                                     "  echo started; sleep 60 & echo $! > '" +
                                         pid_file.string() +
                                         "'; wait; exit 0\n"
                                         "fi\n"
                                         "env > '" +
                                         out.string() + ".tmp' && mv '" + out.string() + ".tmp' '" +
                                         out.string() + "'\n");
    std::filesystem::permissions(script, std::filesystem::perms(0700));
    stack_options o;
    o.notify_config = "command = [\"" + script.string() + "\"]\ncommand_timeout_seconds = 2\n";
    stack s("notify-command", o);
    s.start_simulator();
    s.start_serve({.env = {{"MUSICGPT_API_KEY", "sk-must-not-leak"}}});
    const auto id = submit(s, "https://songs.example/track.mp3");
    const auto job = s.wait_for(id, "completed");
    const auto n = wait_notification(s, id, "delivered");
    std::ifstream in(out);
    std::stringstream env;
    env << in.rdbuf();
    const std::string e = env.str();
    CHECK(e.find("STEMD_EVENT_ID=" + std::string(n.at("id").as_string()) + "\n") !=
          std::string::npos);
    CHECK(e.find("STEMD_EVENT_TYPE=job.completed\n") != std::string::npos);
    CHECK(e.find("STEMD_JOB_ID=" + id + "\n") != std::string::npos);
    CHECK(e.find("STEMD_STATUS=completed\n") != std::string::npos);
    CHECK(e.find("STEMD_TASK_ID=" + str(job, "task_id") + "\n") != std::string::npos);
    CHECK(e.find("STEMD_FILES=" + str(job.at("files").as_array()[0], "path")) != std::string::npos);
    CHECK(e.find("STEMD_EVENT_JSON={\"type\":\"job.completed\"") != std::string::npos);
    CHECK(e.find("sk-must-not-leak") == std::string::npos);

    // A failed job's run hangs: killed at 2 s with what it started, and
    // tried again later.
    const auto failed = submit(s, "https://songs.example/sim-fail.mp3");
    s.wait_for(failed, "failed");
    CHECK(wait_until(
        [&] {
            const auto list = s.job(failed).at("notifications").as_array();
            return list.size() == 1 &&
                   std::string(list[0].at("last_error").as_string()).find("killed after 2 s") !=
                       std::string::npos;
        },
        20s));
    CHECK(str(s.job(failed).at("notifications").as_array()[0], "status") == "pending");
    std::ifstream pid_in(pid_file);
    int sleeper = 0;
    pid_in >> sleeper;
    REQUIRE(sleeper > 0);
    CHECK(wait_until([&] { return ::kill(sleeper, 0) != 0; }, 10s));
    CHECK(s.serve_logs().find("said: started") != std::string::npos);
}

namespace {

// A /proc/<pid>/status field in KiB (VmRSS, VmHWM).
long status_kib(int pid, const std::string& field) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind(field + ":", 0) == 0)
            return std::stol(line.substr(field.size() + 1));
    return -1;
}

// Bytes held in files of the process that live in memory only: memfds and
// unlinked files (what RSS does not count).
std::uintmax_t memory_file_bytes(int pid) {
    std::uintmax_t total = 0;
    std::error_code ec;
    const std::filesystem::path fds = "/proc/" + std::to_string(pid) + "/fd";
    for (const auto& e : std::filesystem::directory_iterator(fds, ec)) {
        const auto target = std::filesystem::read_symlink(e.path(), ec).string();
        const bool in_memory =
            target.rfind("/memfd:", 0) == 0 || target.find("(deleted)") != std::string::npos;
        if (!ec && in_memory && std::filesystem::is_regular_file(e.path(), ec))
            total += std::filesystem::file_size(e.path(), ec);
    }
    return total;
}

} // namespace

TEST_CASE("notify: a command writing 50 MB costs stemd neither memory nor log lines") {
    workspace scripts("notify-chatty-scripts");
    const auto start = scripts / "start", written = scripts / "written", go = scripts / "go";
    // Waits (bounded) for the test to take its measures before and after.
    const auto wait_for = [](const std::filesystem::path& p) {
        return "i=0; while [ ! -e '" + p.string() + "' ] && [ $i -lt 1200 ]; do sleep 0.05; " +
               "i=$((i+1)); done\n";
    };
    const auto script = scripts.write(
        "chatty.sh", "#!/bin/sh\n" + wait_for(start) +
                         "yes 'a line of chatter from the notify command' | head -c 52428800\n" +
                         "touch '" + written.string() + "'\n" + wait_for(go) + "exit 0\n");
    std::filesystem::permissions(script, std::filesystem::perms(0700));
    stack_options o;
    o.notify_config = "command = [\"" + script.string() + "\"]\ncommand_timeout_seconds = 120\n";
    stack s("notify-chatty", o);
    s.start_simulator();
    s.start_serve();
    const auto id = submit(s, "https://songs.example/track.mp3");
    s.wait_for(id, "completed");
    const int pid = s.serve().pid();
    const long peak_before = status_kib(pid, "VmHWM");
    REQUIRE(peak_before > 0);
    std::ofstream(start).put('\n');
    REQUIRE_MESSAGE(wait_until([&] { return std::filesystem::exists(written); }, 90s), s.logs());
    const auto held = memory_file_bytes(pid);
    std::ofstream(go).put('\n');
    wait_notification(s, id, "delivered", 60s);
    const long peak_growth = status_kib(pid, "VmHWM") - peak_before;
    CHECK_MESSAGE(held < 1024 * 1024, "stemd holds " << held << " bytes of output in memory files");
    CHECK_MESSAGE(peak_growth < 16 * 1024, "stemd's peak RSS grew by " << peak_growth << " KiB");
    const std::string logs = s.serve_logs();
    std::size_t said = 0;
    for (auto at = logs.find("said: a line of chatter"); at != std::string::npos;
         at = logs.find("said: a line of chatter", at + 1))
        ++said;
    CHECK(said == 50);
    CHECK(logs.find("the rest of its output is not logged") != std::string::npos);
    CHECK_MESSAGE(logs.size() < 256 * 1024, "stemd logged " << logs.size() << " bytes");
}
