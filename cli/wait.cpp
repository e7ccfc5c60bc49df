// `stemd wait KEY`, and the waiting that `stemd submit --wait` shares.

#include "cli/wait.hpp"

#include "cli/command.hpp"
#include "cli/error.hpp"
#include "cli/format.hpp"
#include "cli/job_view.hpp"

#include <algorithm>
#include <iostream>
#include <sstream>
#include <thread>

namespace stemd::cli {

namespace {

using namespace std::chrono_literals;
using clock = std::chrono::steady_clock;

// One stderr line each time the job moves on, so a person sees it is alive.
void note_progress(const std::string& key, const boost::json::object& job, std::string& last) {
    const auto status = text_field(job, "status");
    std::string progress = status;
    if (status == "downloading")
        progress += " (" + files_done(job) + " files done)";
    if (progress == last)
        return;
    last = progress;
    std::cerr << "stemd: job " << printable(key, 100) << " is " << progress << '\n';
}

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
    constexpr auto poll_interval = 500ms;
    // No timeout waits until the end of (steady) time.
    const auto deadline = timeout ? clock::now() + *timeout : clock::time_point::max();
    std::string last_progress;
    for (;;) {
        auto a = api.call_job(method::get, key, "", "show job");
        if (!a)
            return a.error();
        auto job = api.object_of(*a);
        if (!job)
            return job.error();
        const auto status = text_field(*job, "status");
        if (is_final(status)) {
            show_job(std::cout, a->body, *job, as_json);
            return final_outcome(key, *job);
        }
        if (!as_json)
            note_progress(key, *job, last_progress);
        const auto now = clock::now();
        if (now >= deadline) {
            show_job(std::cout, a->body, *job, as_json);
            return failure(error::timed_out, "job " + printable(key, 100) + " is still " + status +
                                                 " after " + seconds_text(*timeout) +
                                                 " s; run `stemd wait " + printable(key, 100) +
                                                 "` to keep waiting");
        }
        const auto pause = std::min<clock::duration>(
            std::chrono::duration_cast<clock::duration>(poll_interval), deadline - now);
        std::this_thread::sleep_for(pause);
    }
}

const command& wait_command() {
    static const command c{
        "wait",
        "KEY [--timeout SECONDS] [--json]",
        "wait until a job has completed or failed",
        "Polls every 500 ms and prints the final job. Exit code 0 when it completed,\n"
        "1 when it failed or the timeout passed.\n",
        describe,
        run,
    };
    return c;
}

} // namespace stemd::cli
