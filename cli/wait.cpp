// `stemd wait KEY`, and the waiting that `stemd submit --wait` shares.

#include "cli/wait.hpp"

#include "cli/command.hpp"
#include "cli/error.hpp"
#include "cli/format.hpp"
#include "cli/job_view.hpp"
#include "cli/progress_view.hpp"

#include <boost/json/serialize.hpp>

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

    // The interval between look-ups: a live view redraws a few times a second.
    std::chrono::milliseconds interval() const { return live_ ? 250ms : 500ms; }

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
        auto line = boost::json::serialize(job);
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

result<int> wait_for_job(const api_client& api, const std::string& key,
                         std::optional<std::chrono::milliseconds> timeout, bool as_json) {
    // No timeout waits until the end of (steady) time.
    const auto deadline = timeout ? clock::now() + *timeout : clock::time_point::max();
    watcher watch(key, as_json);
    for (;;) {
        auto a = api.call_job(method::get, key, "", "show job");
        if (!a)
            return a.error();
        auto job = api.object_of(*a);
        if (!job)
            return job.error();
        const auto status = text_field(*job, "status");
        watch.show(*job, is_final(status));
        if (is_final(status)) {
            watch.done();
            show_job(std::cout, a->body, *job, as_json);
            return final_outcome(key, *job);
        }
        const auto now = clock::now();
        if (now >= deadline) {
            watch.done();
            show_job(std::cout, a->body, *job, as_json);
            return failure(error::timed_out, "job " + printable(key, 100) + " is still " + status +
                                                 " after " + seconds_text(*timeout) +
                                                 " s; run `stemd wait " + printable(key, 100) +
                                                 "` to keep waiting");
        }
        const auto pause = std::min<clock::duration>(
            std::chrono::duration_cast<clock::duration>(watch.interval()), deadline - now);
        std::this_thread::sleep_for(pause);
    }
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
