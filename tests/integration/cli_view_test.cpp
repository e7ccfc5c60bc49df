// The CLI as people see it: `stemd wait` drawn on a real terminal (a tmux
// pane, read back with capture-pane), the same commands piped (no escape
// sequences), `stemd list` and `stemd logs` against a running daemon.

#include "stack.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <doctest/doctest.h>

#include <cstdlib>
#include <regex>
#include <sstream>
#include <unistd.h>

using namespace stemd::test;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

// Exits 77 (SKIP_RETURN_CODE of these tests) when tmux is missing: a
// terminal test that cannot see a terminal must not pass.
void require_tmux() {
    if (std::system("command -v tmux >/dev/null 2>&1") != 0) {
        std::fprintf(stderr, "SKIPPED: tmux is not installed (.ci/install-deps installs it)\n");
        std::_Exit(77);
    }
}

std::string shell_quote(const std::string& s) {
    std::string out = "'";
    for (char c : s)
        out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

// A tmux server of its own (its own socket name) holding one pane of a
// fixed size that runs `command`, then says how it ended and stays.
class pane {
public:
    pane(const std::string& label, const std::string& command, const std::string& env = "")
        : socket_("stemd-test-" + label + "-" + std::to_string(::getpid())) {
        const auto script = env + " " + command + "; echo \"[exit $?]\"; sleep 300";
        tmux("new-session -d -x 110 -y 30 -s t " + shell_quote("sh -c " + shell_quote(script)));
    }
    ~pane() { (void)run({"/usr/bin/env", "tmux", "-L", socket_, "kill-server"}, 10s); }

    // The screen as a person sees it; with `escapes`, its colours too.
    std::string screen(bool escapes = false) const {
        auto r = run({"/usr/bin/env", "tmux", "-L", socket_, "capture-pane", "-p",
                      escapes ? "-e" : "-J", "-t", "t"},
                     10s);
        return r.out;
    }
    // Polls the screen until `matches` holds; the screen then.
    std::string wait_for(const std::function<bool(const std::string&)>& matches,
                         std::chrono::milliseconds timeout, bool escapes = false) const {
        std::string last;
        const bool seen = wait_until(
            [&] {
                last = screen(escapes);
                return matches(last);
            },
            timeout);
        REQUIRE_MESSAGE(seen, "the terminal never showed what was expected; it shows:\n" << last);
        return last;
    }

private:
    void tmux(const std::string& args) const {
        auto r = run({"/bin/sh", "-c", "tmux -L " + socket_ + " -f /dev/null " + args}, 10s);
        REQUIRE_MESSAGE(r.exit_code == 0, "tmux " << args << ": " << r.err);
    }
    std::string socket_;
};

std::string cli_command(const stack& s, const std::string& args) {
    return shell_quote(STEMD_BINARY) + " " + args + " --api " + s.api_url() + " --token-file " +
           shell_quote(s.token_file().string());
}

std::string submit_job(stack& s, const std::string& marker = "") {
    auto [status, created] = s.submit(R"({"audio_url":"https://songs.example/t.mp3)" + marker +
                                      R"(","stems":["vocals","drums"]})");
    REQUIRE_MESSAGE(status == 201, json::serialize(created) << "\n" << s.logs());
    return str(created, "id");
}

bool has_escape(const std::string& text) {
    return text.find('\x1b') != std::string::npos;
}

} // namespace

TEST_CASE("cli: stemd wait on a terminal redraws a progress line per file, then the end") {
    require_tmux();
    // 768 KiB a stem at 96 KiB/s: about 8 s of progress to watch.
    stack s("cli-tty", {.stem_bytes = 768 * 1024, .rate = 96 * 1024});
    s.start_simulator();
    s.start_serve();
    const auto id = submit_job(s);
    pane p("wait", cli_command(s, "wait " + id));
    // A line with the name, bytes of the total, a rate and an ETA.
    const std::regex live(
        R"(vocals +[0-9.]+ (B|KiB) / 768\.0 KiB +[0-9]+% +[0-9.]+ (B|KiB|MiB)/s +ETA [0-9]+(s|m[0-9]{2}s))");
    const auto during =
        p.wait_for([&](const std::string& screen) { return std::regex_search(screen, live); }, 30s);
    MESSAGE("the terminal while downloading:\n" << during);
    CHECK(during.find("job " + id + "  downloading") != std::string::npos);
    const auto after = p.wait_for(
        [](const std::string& screen) { return screen.find("[exit ") != std::string::npos; }, 60s);
    MESSAGE("the terminal at the end:\n" << after);
    CHECK(after.find("[exit 0]") != std::string::npos);
    // The block was redrawn in place: one header, its last state, each
    // file's line once and done; nothing of the progress lines left.
    std::istringstream lines(after);
    int headers = 0, vocals_done = 0;
    for (std::string line; std::getline(lines, line);) {
        headers += line.starts_with("job " + id + "  completed  2/2 files done");
        vocals_done += line.starts_with("  vocals         done  768.0 KiB");
    }
    CHECK(headers == 1);
    CHECK(vocals_done == 1);
    CHECK(after.find("ETA") == std::string::npos);
    CHECK(after.find("measuring") == std::string::npos);
    CHECK(after.find("downloading") == std::string::npos);
    // Then the final job, as `stemd status` shows it.
    CHECK(after.find("job " + id + "  completed\n") != std::string::npos);
}

TEST_CASE("cli: stemd wait on a TERM=dumb terminal prints plain lines, no escape sequences") {
    require_tmux();
    stack s("cli-dumb", {.stem_bytes = 512 * 1024, .rate = 128 * 1024});
    s.start_simulator();
    s.start_serve();
    const auto id = submit_job(s);
    pane p("dumb", cli_command(s, "wait " + id), "TERM=dumb");
    const auto after = p.wait_for(
        [](const std::string& screen) { return screen.find("[exit ") != std::string::npos; }, 60s,
        true);
    MESSAGE("the TERM=dumb terminal at the end:\n" << after);
    CHECK(after.find("[exit 0]") != std::string::npos);
    CHECK_FALSE(has_escape(after));
    // A line per change, as when piped, not the redrawn block.
    CHECK(after.find("stemd: job " + id + " is downloading (0/2 files done)") != std::string::npos);
    CHECK(after.find("files done\n") == std::string::npos); // the live view's header
    CHECK(after.find("measuring") == std::string::npos);
    CHECK(after.find("ETA") == std::string::npos);
}

TEST_CASE("cli: piped, submit --wait prints plain lines, --json a JSON line per change") {
    stack s("cli-pipe", {.stem_bytes = 512 * 1024, .rate = 128 * 1024});
    s.start_simulator();
    s.start_serve();
    auto plain = s.cli(
        {"submit", "--url", "https://songs.example/p.mp3", "--stems", "vocals,drums", "--wait"});
    REQUIRE_MESSAGE(plain.exit_code == 0, plain.err << "\n" << s.logs());
    CHECK_FALSE(has_escape(plain.out));
    CHECK_FALSE(has_escape(plain.err));
    CHECK(plain.err.find("is downloading (0/2 files done)") != std::string::npos);
    CHECK(plain.out.find("  completed\n") != std::string::npos);

    const auto id = submit_job(s);
    auto machine = s.cli({"wait", id, "--json"});
    REQUIRE_MESSAGE(machine.exit_code == 0, machine.err);
    CHECK_FALSE(has_escape(machine.out));
    CHECK(machine.err.empty());
    std::istringstream lines(machine.out);
    std::vector<json::object> seen;
    for (std::string line; std::getline(lines, line);)
        seen.push_back(json::parse(line).as_object()); // every line is one JSON object
    REQUIRE(seen.size() >= 3);
    CHECK(seen.back().at("status") == "completed");
    // The daemon's progress: received and total bytes of a downloading file, integers.
    bool progress = false;
    for (const auto& job : seen)
        for (const auto& f : job.at("files").as_array()) {
            const auto& file = f.as_object();
            if (file.at("status") == "downloading" && file.contains("received_bytes")) {
                CHECK(file.at("received_bytes").is_number());
                CHECK_FALSE(file.at("received_bytes").is_double());
                if (file.at("total_bytes").is_number())
                    CHECK(file.at("total_bytes").to_number<std::uint64_t>() == 512 * 1024);
                progress = true;
            }
        }
    CHECK(progress);
}

TEST_CASE("cli: stemd list, aligned, coloured on a terminal unless NO_COLOR, --since") {
    stack s("cli-list");
    s.start_simulator();
    s.start_serve();
    const auto first = submit_job(s);
    s.wait_for(first, "completed");
    const auto second = submit_job(s);
    const auto second_created = str(s.wait_for(second, "completed"), "created_at");

    auto piped = s.cli({"list"});
    REQUIRE_MESSAGE(piped.exit_code == 0, piped.err);
    CHECK_FALSE(has_escape(piped.out));
    std::istringstream lines(piped.out);
    std::string header, newest, oldest;
    std::getline(lines, header);
    std::getline(lines, newest);
    std::getline(lines, oldest);
    CHECK(header.starts_with("ID"));
    CHECK(newest.starts_with(second));
    CHECK(oldest.starts_with(first));
    // Aligned: each column starts where its header does.
    for (const char* column : {"STATUS", "FILES", "AGE", "TASK"}) {
        const auto at = header.find(column);
        CHECK(newest.at(at - 1) == ' ');
        CHECK(newest.at(at) != ' ');
    }
    CHECK(newest.find("completed  2/2") != std::string::npos);

    // --since through the API: an RFC 3339 time keeps the later job only.
    auto since = s.cli({"list", "--since", second_created});
    CHECK(since.out.find(second) != std::string::npos);
    CHECK(since.out.find(first) == std::string::npos);
    auto day = s.cli({"list", "--since", "1d", "--json"});
    CHECK(json::parse(day.out).at("jobs").as_array().size() == 2);
    // The units of prune --older-than, weeks included.
    auto weeks = s.cli({"list", "--since", "2w", "--json"});
    REQUIRE_MESSAGE(weeks.exit_code == 0, weeks.err);
    CHECK(json::parse(weeks.out).at("jobs").as_array().size() == 2);
    auto bad = s.cli({"list", "--since", "yesterday"});
    CHECK(bad.exit_code == 2);
    CHECK(bad.err.find("--since") != std::string::npos);
    CHECK(s.api_request("GET", "/v1/jobs?sort=old").status == 400);

    require_tmux();
    pane coloured("list-colour", cli_command(s, "list"));
    const auto with = coloured.wait_for(
        [](const std::string& screen) { return screen.find("[exit 0]") != std::string::npos; }, 20s,
        true);
    CHECK(with.find("\x1b[32mcompleted") != std::string::npos);
    pane plain("list-nocolour", cli_command(s, "list"), "NO_COLOR=1");
    const auto without = plain.wait_for(
        [](const std::string& screen) { return screen.find("[exit 0]") != std::string::npos; }, 20s,
        true);
    CHECK(without.find("completed") != std::string::npos);
    CHECK(without.find("\x1b[32m") == std::string::npos);
}

TEST_CASE("cli: stemd logs shows a failed-then-retried download in order, no link queries") {
    stack s("cli-logs");
    s.start_simulator();
    s.start_serve();
    const auto id = submit_job(s, "?sim-fault=503-once");
    s.wait_for(id, "completed");
    auto logs = s.cli({"logs", id});
    REQUIRE_MESSAGE(logs.exit_code == 0, logs.err << "\n" << s.logs());
    MESSAGE("stemd logs:\n" << logs.out);
    CHECK_FALSE(has_escape(logs.out));
    // The kinds in the order they happened.
    std::vector<std::string> kinds;
    std::istringstream lines(logs.out);
    for (std::string line; std::getline(lines, line);) {
        std::istringstream words(line);
        std::string at, kind;
        words >> at >> kind;
        kinds.push_back(kind);
    }
    auto position = [&](const std::string& kind) {
        return std::find(kinds.begin(), kinds.end(), kind) - kinds.begin();
    };
    REQUIRE(kinds.size() >= 6);
    CHECK(kinds.front() == "created");
    CHECK(position("created") < position("submitted"));
    CHECK(position("submitted") < position("webhook"));
    CHECK(position("webhook") < position("download_retry"));
    CHECK(position("download_retry") < position("download_done"));
    CHECK(kinds.back() == "completed");
    CHECK(std::count(kinds.begin(), kinds.end(), "download_done") == 2);
    CHECK(std::count(kinds.begin(), kinds.end(), "download_retry") == 2);
    CHECK(logs.out.find("HTTP 503") != std::string::npos);
    // The links' query (it holds fault=…) never reaches an event.
    CHECK(logs.out.find("fault=") == std::string::npos);

    auto machine = s.cli({"logs", id, "--json"});
    const auto events = json::parse(machine.out).at("events").as_array();
    REQUIRE(events.size() == kinds.size());
    CHECK(events.front().at("kind") == "created");
    CHECK(events.front().at("id").is_int64());
    CHECK(s.api_request("GET", "/v1/jobs/" + id + "/events?limit=2").status == 200);
    CHECK(s.api_request("GET", "/v1/jobs/" + id + "/events?lmit=2").status == 400);
    CHECK(s.api_request("GET", "/v1/jobs/nope/events").status == 404);
    CHECK(s.cli({"logs", "nope"}).exit_code != 0);
}
