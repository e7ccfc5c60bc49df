// GET /v1/events with the real daemon and simulator, read by a raw-socket
// SSE reader (tests/support/sse_reader.hpp): order and ids, replay by
// Last-Event-ID, throttled progress, the token, shutdown, the stream limit,
// and `stemd wait` following the stream instead of polling.

#include "integration/stack.hpp"
#include "support/fd.hpp"
#include "support/sse_reader.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <doctest/doctest.h>

#include <poll.h>
#include <sqlite3.h>
#include <sys/socket.h>

#include <atomic>
#include <csignal>
#include <map>
#include <mutex>
#include <thread>

namespace json = boost::json;
using namespace stemd::test;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

const std::string two_stems =
    R"({"audio_url":"https://songs.example/track.mp3","stems":["vocals","drums"]})";

std::string bearer(const stack& s) {
    return "Authorization: Bearer " + s.api_token() + "\r\n";
}

json::object data_of(const sse_event& e) {
    return json::parse(e.data).as_object();
}

std::string field(const sse_event& e, std::string_view key) {
    return std::string(data_of(e).at(key).as_string());
}

// The job events of `job` from `r` until one of kind `last` (inclusive).
std::vector<sse_event> job_events_until(sse_reader& r, const std::string& job,
                                        const std::string& last,
                                        std::chrono::milliseconds timeout = 60s) {
    std::vector<sse_event> out;
    const auto deadline = steady::now() + timeout;
    while (steady::now() < deadline) {
        auto e = r.next_job(
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now()));
        if (!e)
            break;
        if (field(*e, "job_id") != job)
            continue;
        out.push_back(*e);
        if (field(*e, "kind") == last)
            break;
    }
    return out;
}

std::vector<std::string> kinds(const std::vector<sse_event>& events) {
    std::vector<std::string> out;
    for (const auto& e : events)
        out.push_back(field(e, "kind"));
    return out;
}

} // namespace

TEST_CASE("events: a job's events stream in order, created first, completed last, ids rising") {
    stack s("events-order");
    s.start_simulator();
    s.start_serve();
    sse_reader r(s.api_port(), "/v1/events", bearer(s));
    REQUIRE(r.status() == 200);
    CHECK(r.headers().find("Content-Type: text/event-stream") != std::string::npos);
    CHECK(r.headers().find("Cache-Control: no-store") != std::string::npos);

    auto [status, created] = s.submit(two_stems);
    REQUIRE_MESSAGE(status == 201, s.logs());
    const std::string id = str(created, "id");
    const auto events = job_events_until(r, id, "completed");
    REQUIRE_MESSAGE(!events.empty(), s.logs());
    const auto seen = kinds(events);
    CHECK(seen.front() == "created");
    CHECK(seen.back() == "completed");
    CHECK(std::count(seen.begin(), seen.end(), "download_done") == 2);
    CHECK(field(events.back(), "status") == "completed");
    std::int64_t previous = 0;
    for (const auto& e : events) {
        REQUIRE(!e.id.empty());
        const auto n = std::stoll(e.id);
        CHECK(n > previous);
        CHECK(data_of(e).at("id").as_int64() == n);
        CHECK(!field(e, "at").empty());
        previous = n;
    }
    // The stream holds exactly the stored history, in the same order.
    const auto stored = json::parse(s.api_request("GET", "/v1/jobs/" + id + "/events").body);
    const auto& list = stored.at("events").as_array();
    REQUIRE(list.size() == events.size());
    for (std::size_t i = 0; i < list.size(); ++i)
        CHECK(list[i].at("id").as_int64() == std::stoll(events[i].id));
}

TEST_CASE("events: reconnecting with Last-Event-ID replays exactly the missed ones, then live") {
    stack s("events-replay");
    s.start_simulator();
    s.start_serve();
    std::string last_seen;
    std::string id;
    {
        sse_reader first(s.api_port(), "/v1/events", bearer(s));
        REQUIRE(first.status() == 200);
        auto [status, created] = s.submit(two_stems);
        REQUIRE(status == 201);
        id = str(created, "id");
        const auto two = job_events_until(first, id, "submitted");
        REQUIRE(two.size() == 2);
        last_seen = two.back().id;
    } // the client goes away mid-job
    s.wait_for(id, "completed");
    const auto stored = json::parse(s.api_request("GET", "/v1/jobs/" + id + "/events").body);
    std::vector<std::string> missed;
    for (const auto& e : stored.at("events").as_array())
        if (e.at("id").as_int64() > std::stoll(last_seen))
            missed.push_back(std::to_string(e.at("id").as_int64()));
    REQUIRE(missed.size() >= 3);

    for (const std::string how : {"header", "query"}) {
        CAPTURE(how);
        sse_reader again(
            s.api_port(), how == "header" ? "/v1/events" : "/v1/events?after=" + last_seen,
            bearer(s) + (how == "header" ? "Last-Event-ID: " + last_seen + "\r\n" : ""));
        REQUIRE(again.status() == 200);
        std::vector<std::string> got;
        while (got.size() < missed.size()) {
            auto e = again.next_job(5s);
            REQUIRE(e);
            got.push_back(e->id);
        }
        CHECK(got == missed);
        // Nothing more is stored: the next event is live, a new job's.
        auto [status, other] = s.submit(two_stems);
        REQUIRE(status == 201);
        auto live = again.next_job(10s);
        REQUIRE(live);
        CHECK(field(*live, "job_id") == str(other, "id"));
        CHECK(field(*live, "kind") == "created");
        CHECK(std::stoll(live->id) > std::stoll(missed.back()));
        s.wait_for(str(other, "id"), "completed");
        last_seen = missed.back();
        missed.clear();
        const auto history =
            json::parse(s.api_request("GET", "/v1/jobs/" + str(other, "id") + "/events").body);
        for (const auto& e : history.at("events").as_array())
            missed.push_back(std::to_string(e.at("id").as_int64()));
    }
}

TEST_CASE("events: a replay skips the stored events of a job that is gone") {
    stack s("events-gone");
    s.start_simulator();
    s.start_serve();
    auto [status, created] = s.submit(two_stems);
    REQUIRE(status == 201);
    const std::string gone = str(created, "id");
    s.wait_for(gone, "completed");
    {
        // A prune takes a job's events with it (ON DELETE CASCADE), but a
        // replay reads a page of events and then their jobs: a prune in
        // between leaves it events of a job that is gone. That moment,
        // made lasting: the job's rows deleted with foreign keys off.
        sqlite3* raw = nullptr;
        REQUIRE(sqlite3_open(s.database().c_str(), &raw) == SQLITE_OK);
        const std::string sql = "PRAGMA foreign_keys=OFF; DELETE FROM files WHERE job_id = '" +
                                gone + "'; DELETE FROM jobs WHERE id = '" + gone + "';";
        CHECK(sqlite3_exec(raw, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
        sqlite3_close(raw);
    }
    REQUIRE(s.api_request("GET", "/v1/jobs/" + gone).status == 404);
    auto [status2, other] = s.submit(two_stems);
    REQUIRE(status2 == 201);
    const std::string kept = str(other, "id");
    s.wait_for(kept, "completed");

    // Everything stored is replayed but the pruned job's events (which
    // would show it "failed"): the kept job's, from created to completed.
    sse_reader r(s.api_port(), "/v1/events?after=0", bearer(s));
    REQUIRE(r.status() == 200);
    std::vector<std::string> seen;
    while (seen.empty() || seen.back() != kept + " completed") {
        auto e = r.next_job(5s);
        REQUIRE_MESSAGE(e, s.logs());
        seen.push_back(field(*e, "job_id") + " " + field(*e, "kind"));
    }
    CHECK(seen.front() == kept + " created");
    for (const auto& e : seen)
        CHECK(e.rfind(kept + " ", 0) == 0);
}

TEST_CASE("events: progress of a slow download, at most 4 a second per file, only when changed") {
    // 2 MiB at 512 KiB/s in the simulator's 64 KiB chunks: about 4 s a
    // file, its bytes changing 8 times a second (more than may be sent).
    stack s("events-progress", {.stem_bytes = 2 * 1024 * 1024, .rate = 512 * 1024});
    s.start_simulator();
    s.start_serve();
    auto [status, created] = s.submit(two_stems);
    REQUIRE(status == 201);
    const std::string id = str(created, "id");
    // Every progress event the stream sends falls between its opening and
    // the completed event that follows them, so that span bounds how many
    // the server may send, however the client's reads bunch them.
    const auto opened = steady::now();
    sse_reader r(s.api_port(), "/v1/events?job=" + id, bearer(s));
    REQUIRE(r.status() == 200);

    std::map<std::string, std::vector<std::uint64_t>> by_file;
    const auto deadline = steady::now() + 60s;
    bool completed = false;
    auto ended = opened;
    while (!completed && steady::now() < deadline) {
        auto e = r.next(10s);
        REQUIRE_MESSAGE(e, s.logs());
        if (e->event == "job") {
            completed = field(*e, "kind") == "completed";
            ended = steady::now();
            continue;
        }
        if (e->event != "progress")
            continue;
        CHECK(e->id.empty());
        const auto d = data_of(*e);
        CHECK(std::string(d.at("job_id").as_string()) == id);
        // null until the file server said its length
        if (!d.at("total_bytes").is_null())
            CHECK(d.at("total_bytes").to_number<std::uint64_t>() == 2 * 1024 * 1024);
        by_file[std::string(d.at("file").as_string())].push_back(
            d.at("received_bytes").to_number<std::uint64_t>());
    }
    REQUIRE(completed);
    REQUIRE(by_file.size() == 2);
    const double seconds = std::chrono::duration<double>(ended - opened).count();
    for (const auto& [file, seen] : by_file) {
        CAPTURE(file);
        CAPTURE(seconds);
        CHECK(seen.size() >= 8); // seconds of download, sampled
        for (std::size_t i = 1; i < seen.size(); ++i)
            CHECK(seen[i] > seen[i - 1]); // sent only when changed
        // At most 4 a second: one per 250 ms tick, the first at once.
        CHECK(static_cast<double>(seen.size()) <= 4 * seconds + 1);
    }
}

TEST_CASE("events: no token or a wrong one is 401, an unknown job 404, a bad Last-Event-ID 400") {
    stack s("events-refused");
    s.start_simulator();
    s.start_serve();
    sse_reader none(s.api_port(), "/v1/events", "");
    CHECK(none.status() == 401);
    sse_reader wrong(s.api_port(), "/v1/events", "Authorization: Bearer nope\r\n");
    CHECK(wrong.status() == 401);
    sse_reader unknown(s.api_port(), "/v1/events?job=nope", bearer(s));
    CHECK(unknown.status() == 404);
    sse_reader bad(s.api_port(), "/v1/events", bearer(s) + "Last-Event-ID: x1\r\n");
    CHECK(bad.status() == 400);
    CHECK(bad.rest().find("Last-Event-ID") != std::string::npos);
    sse_reader stray(s.api_port(), "/v1/events?since=1", bearer(s));
    CHECK(stray.status() == 400);
}

TEST_CASE("events: SIGTERM ends open streams at once and stemd exits well within its drain") {
    stack s("events-sigterm");
    s.start_simulator();
    s.start_serve();
    std::vector<std::unique_ptr<sse_reader>> readers;
    for (int i = 0; i < 3; ++i) {
        readers.push_back(std::make_unique<sse_reader>(s.api_port(), "/v1/events", bearer(s)));
        REQUIRE(readers.back()->status() == 200);
    }
    const auto sent = steady::now();
    s.serve().signal(SIGTERM);
    for (auto& r : readers) {
        while (r->next(3s)) {
        }
        CHECK(r->closed());
    }
    // The drain waits up to 5 s for connections; streams must not hold it.
    CHECK(s.serve().wait(10s) == 0);
    CHECK(steady::now() - sent < 3s);
}

TEST_CASE("events: more open streams than the limit are answered 503 with a reason") {
    stack s("events-limit");
    s.start_simulator();
    s.start_serve();
    std::vector<std::unique_ptr<sse_reader>> open;
    for (int i = 0; i < 32; ++i) {
        open.push_back(std::make_unique<sse_reader>(s.api_port(), "/v1/events", bearer(s)));
        REQUIRE(open.back()->status() == 200);
    }
    sse_reader one_more(s.api_port(), "/v1/events", bearer(s));
    CHECK(one_more.status() == 503);
    CHECK(one_more.rest().find("too many event streams") != std::string::npos);
    // A reader that leaves frees its place at once.
    open.back()->close();
    CHECK(wait_until(
        [&] {
            sse_reader again(s.api_port(), "/v1/events", bearer(s));
            return again.status() == 200;
        },
        5s));
}

namespace {

// A loopback TCP relay in front of the API that counts the request lines
// passing through it: what `stemd wait` asks, seen from outside.
class counting_relay {
public:
    explicit counting_relay(int upstream) : upstream_(upstream) {
        listener_.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        sockaddr_in addr = loopback_address(0);
        if (::bind(listener_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
            ::listen(listener_.get(), 16) != 0)
            throw_errno("counting_relay: bind");
        socklen_t len = sizeof addr;
        ::getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&addr), &len);
        port_ = ntohs(addr.sin_port);
        thread_ = std::thread([this] { run(); });
    }
    ~counting_relay() {
        done_ = true;
        thread_.join();
    }
    int port() const { return port_; }
    std::vector<std::string> requests() {
        std::lock_guard lock(mutex_);
        return lines_;
    }

private:
    struct pair_fds {
        fd_guard client, server;
        std::string seen; // client bytes not yet split into lines
    };
    void run() {
        std::vector<std::unique_ptr<pair_fds>> pairs;
        while (!done_) {
            std::vector<pollfd> fds{{listener_.get(), POLLIN, 0}};
            for (auto& p : pairs) {
                fds.push_back({p->client.get(), POLLIN, 0});
                fds.push_back({p->server.get(), POLLIN, 0});
            }
            if (::poll(fds.data(), fds.size(), 50) <= 0)
                continue;
            const std::size_t polled = pairs.size();
            if (fds[0].revents & POLLIN)
                accept_one(pairs);
            for (std::size_t i = 0; i < polled; ++i) {
                auto& p = *pairs[i];
                if (fds[1 + 2 * i].revents && !relay(p.client.get(), p.server.get(), &p.seen))
                    p.client.reset();
                if (fds[2 + 2 * i].revents && !relay(p.server.get(), p.client.get(), nullptr))
                    p.client.reset();
            }
            std::erase_if(pairs, [](const auto& p) { return p->client.get() < 0; });
        }
    }
    void accept_one(std::vector<std::unique_ptr<pair_fds>>& pairs) {
        auto p = std::make_unique<pair_fds>();
        p->client.reset(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
        p->server.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        const sockaddr_in up = loopback_address(upstream_);
        if (p->client.get() >= 0 &&
            ::connect(p->server.get(), reinterpret_cast<const sockaddr*>(&up), sizeof up) == 0)
            pairs.push_back(std::move(p));
    }
    bool relay(int from, int to, std::string* seen) {
        char buf[16384];
        const ssize_t n = ::recv(from, buf, sizeof buf, 0);
        if (n <= 0)
            return false;
        if (seen) {
            seen->append(buf, static_cast<std::size_t>(n));
            for (auto end = seen->find("\r\n"); end != std::string::npos;
                 end = seen->find("\r\n")) {
                const std::string line = seen->substr(0, end);
                seen->erase(0, end + 2);
                if (line.starts_with("GET ") || line.starts_with("POST ")) {
                    std::lock_guard lock(mutex_);
                    lines_.push_back(line);
                }
            }
        }
        return ::send(to, buf, static_cast<std::size_t>(n), MSG_NOSIGNAL) == n;
    }

    int upstream_;
    int port_ = 0;
    fd_guard listener_;
    std::atomic<bool> done_{false};
    std::mutex mutex_;
    std::vector<std::string> lines_;
    std::thread thread_;
};

} // namespace

TEST_CASE("events: stemd wait follows the stream: a handful of requests for a job of seconds") {
    // Two files of 256 KiB at 40 KiB/s: the job takes more than 5 s, in
    // which polling every 500 ms would ask for the job at least 10 times.
    stack s("events-wait", {.stem_bytes = 256 * 1024, .rate = 40 * 1024});
    s.start_simulator();
    s.start_serve();
    auto [status, created] = s.submit(two_stems);
    REQUIRE(status == 201);
    const std::string id = str(created, "id");
    counting_relay relay(s.api_port());
    const auto started = steady::now();
    const auto waited =
        run({STEMD_BINARY, "wait", id, "--api", "http://127.0.0.1:" + std::to_string(relay.port()),
             "--token-file", s.token_file().string()},
            90s);
    const auto took = steady::now() - started;
    CHECK_MESSAGE(waited.exit_code == 0, waited.err << s.logs());
    CHECK(waited.out.find("completed") != std::string::npos);
    CHECK(took >= 5s);
    std::size_t job_reads = 0;
    std::size_t streams = 0;
    for (const auto& line : relay.requests()) {
        if (line.starts_with("GET /v1/jobs/" + id + " "))
            ++job_reads;
        if (line.starts_with("GET /v1/events?job=" + id))
            ++streams;
    }
    const auto events = json::parse(s.api_request("GET", "/v1/jobs/" + id + "/events").body)
                            .at("events")
                            .as_array()
                            .size();
    CAPTURE(job_reads);
    CAPTURE(events);
    CHECK(streams == 1);
    // Once at the start, once when the stream opens, once per job event
    // that came after: bounded by the history, not by the time it took.
    CHECK(job_reads <= events + 2);
    CHECK(job_reads < 10);
}
