// `stemd wait KEY`, and the waiting that `stemd submit --wait` shares.

#include "cli/wait.hpp"

#include "cli/command.hpp"
#include "cli/error.hpp"
#include "cli/format.hpp"
#include "cli/job_view.hpp"
#include "cli/progress_view.hpp"

#include "common/json_text.hpp"
#include "common/text.hpp"

#include <boost/json/parse.hpp>

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <thread>

namespace stemd::cli {

namespace {

using namespace std::chrono_literals;
using clock = std::chrono::steady_clock;

// How the job is shown while it runs: drawn in place on a terminal, a
// line per change when piped or on a terminal without cursor movement
// (TERM unset or dumb), a JSON line per change with --json.
class watcher {
public:
    watcher(std::string key, bool as_json)
        : key_(std::move(key)), as_json_(as_json),
          live_(!as_json && is_terminal(STDERR_FILENO) && term_can_redraw(std::getenv("TERM"))),
          view_(std::cerr, terminal_width) {}

    // A final job is printed whole after this, so only the live view shows
    // it (its last frame: every file's end).
    void show(const boost::json::object& job, bool final) {
        if (final && !live_)
            return;
        if (as_json_)
            json_line(job);
        else if (live_)
            view_.draw(job, clock::now());
        else
            plain_line(job);
    }
    // The last view stays on screen; the final job follows on stdout.
    void done() { view_.finish(); }

private:
    void json_line(const boost::json::object& job) {
        auto line = json_text(job);
        if (line == last_)
            return;
        std::cout << line << '\n' << std::flush;
        last_ = std::move(line);
    }
    // One stderr line each time the job moves on, so a person sees it is alive.
    void plain_line(const boost::json::object& job) {
        const auto status = text_field(job, "status");
        std::string progress = status;
        if (status == "downloading")
            progress += " (" + files_done(job) + " files done)";
        if (progress == last_)
            return;
        last_ = progress;
        std::cerr << "stemd: job " << printable(key_, 100) << " is " << progress << '\n';
    }

    std::string key_;
    bool as_json_;
    bool live_;
    progress_view view_;
    std::string last_;
};

std::string seconds_text(std::chrono::milliseconds d) {
    std::ostringstream out;
    out << static_cast<double>(d.count()) / 1000;
    return out.str();
}

// The exit code for a job that is final, once it is printed.
result<int> final_outcome(const std::string& key, const boost::json::object& job) {
    if (text_field(job, "status") == "completed")
        return exit_ok;
    const auto error = text_field(job, "error");
    return failure(error::job_failed,
                   "job " + printable(key, 100) + " failed" + (error.empty() ? "" : ": " + error));
}

void describe(option_set& o) {
    add_key_argument(o);
    add_timeout_option(o, "give up after this long (default: no limit)");
    add_client_options(o);
}

result<int> run(const boost::program_options::variables_map& vm) {
    auto key = job_key(vm, "wait");
    if (!key)
        return key.error();
    auto timeout = timeout_option(vm);
    if (!timeout)
        return timeout.error();
    auto api = open_api(api_address_of(vm));
    if (!api)
        return api.error();
    return wait_for_job(*api, *key, *timeout, json_wanted(vm));
}

} // namespace

namespace {

// How many times in a row the event stream may drop (or not open) before
// `stemd wait` gives up; each is tried again after a pause this much longer.
constexpr int stream_attempts = 5;
constexpr auto stream_pause = 500ms;
// The API pings every 15 s: this much silence means the stream is gone.
constexpr auto stream_silence = 45s;

// A progress event's bytes put into the job's file of that name, so the
// live view redraws without asking for the job again.
void merge_progress(boost::json::object& job, const std::string& data) {
    boost::system::error_code ec;
    auto v = boost::json::parse(data, ec);
    if (ec || !v.is_object())
        return;
    const auto& p = v.as_object();
    auto* files = job.if_contains("files");
    if (!files || !files->is_array())
        return;
    for (auto& f : files->as_array()) {
        if (!f.is_object() || text_field(f.as_object(), "name") != text_field(p, "file"))
            continue;
        if (const auto* r = p.if_contains("received_bytes"))
            f.as_object()["received_bytes"] = *r;
        if (const auto* t = p.if_contains("total_bytes"))
            f.as_object()["total_bytes"] = *t;
    }
}

// The job as the API shows it now, and whether it is final.
struct job_state {
    answer raw;
    boost::json::object job;
    bool final = false;
};

result<job_state> read_job(const api_client& api, const std::string& key) {
    auto a = api.call_job(method::get, key, "", "show job");
    if (!a)
        return a.error();
    auto job = api.object_of(*a);
    if (!job)
        return job.error();
    const bool final = is_final(text_field(*job, "status"));
    return job_state{std::move(*a), std::move(*job), final};
}

// Waiting ends: the stream dropped too many times in a row.
stemd::error stream_gone(const std::string& key, int dropped, const result<stream_end>& ended) {
    return failure(error::unreachable,
                   "the event stream of job " + printable(key, 100) + " ended " +
                       std::to_string(dropped) + " times in a row" +
                       (ended ? std::string() : " (" + ended.error().message + ")") +
                       "; is `stemd serve` still running? `stemd wait " + printable(key, 100) +
                       "` waits again");
}

// Waiting ends: the timeout passed first.
stemd::error still_open(const std::string& key, const boost::json::object& job,
                        std::chrono::milliseconds timeout) {
    return failure(error::timed_out, "job " + printable(key, 100) + " is still " +
                                         text_field(job, "status") + " after " +
                                         seconds_text(timeout) + " s; run `stemd wait " +
                                         printable(key, 100) + "` to keep waiting");
}

} // namespace

result<int> wait_for_job(const api_client& api, const std::string& key,
                         std::optional<std::chrono::milliseconds> timeout, bool as_json) {
    // No timeout waits until the end of (steady) time.
    const auto deadline = timeout ? clock::now() + *timeout : clock::time_point::max();
    watcher watch(key, as_json);
    auto state = read_job(api, key);
    if (!state)
        return state.error();
    const std::string target = "/v1/events?job=" + percent_encode(text_field(state->job, "id"));
    std::string last_id;
    int dropped = 0;
    std::optional<stemd::error> problem;
    // The job is read again once the stream is open (what happened before
    // it opened) and after each of its job events; progress only redraws.
    const auto refresh = [&] {
        auto now = read_job(api, key);
        if (!now) {
            problem = now.error();
            return false;
        }
        state = std::move(now);
        watch.show(state->job, state->final);
        return !state->final && clock::now() < deadline;
    };
    const auto on_event = [&](const stream_event& e) {
        if (!e.id.empty())
            last_id = e.id;
        dropped = 0; // the stream works: a later drop starts a new count
        if (e.event == "job")
            return refresh();
        if (e.event == "progress") {
            merge_progress(state->job, e.data);
            watch.show(state->job, false);
        }
        return clock::now() < deadline;
    };
    while (!state->final && clock::now() < deadline) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
        auto ended =
            api.read_events(target, last_id,
                            std::min<std::chrono::milliseconds>(
                                stream_silence, std::max(left, std::chrono::milliseconds(1000))),
                            refresh, on_event, "stream the events of job " + printable(key, 100));
        if (problem)
            return *problem;
        if (!ended && ended.error().code != error::unreachable)
            return ended.error();
        if (ended && *ended == stream_end::stopped)
            break;
        if (++dropped >= stream_attempts)
            return stream_gone(key, dropped, ended);
        std::this_thread::sleep_for(
            std::min<clock::duration>(stream_pause * dropped, deadline - clock::now()));
    }
    watch.done();
    show_job(std::cout, state->raw.body, state->job, as_json);
    if (state->final)
        return final_outcome(key, state->job);
    return still_open(key, state->job, *timeout);
}

const command& wait_command() {
    static const command c{
        "wait",
        "KEY [--timeout SECONDS] [--json]",
        "wait until a job has completed or failed",
        "On a terminal, a line per file (bytes received, rate, ETA) is redrawn in place\n"
        "on stderr; piped, a line per change; with --json, the job as one JSON line each\n"
        "time it changes, then the final job. Exit code 0 when it completed, 1 when it\n"
        "failed or the timeout passed.\n",
        describe,
        run,
    };
    return c;
}

} // namespace stemd::cli
