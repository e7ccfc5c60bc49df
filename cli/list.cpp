// `stemd list`: the jobs, newest first.

#include "cli/api_client.hpp"
#include "cli/command.hpp"
#include "cli/error.hpp"
#include "cli/format.hpp"
#include "cli/job_table.hpp"
#include "cli/job_view.hpp"
#include "common/text.hpp"

#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <iterator>

namespace stemd::cli {

namespace {

using boost::program_options::variables_map;

void describe(option_set& o) {
    o.value("status", "S",
            "only jobs in this state: submitting, submitted, downloading, completed, failed");
    o.value("since", "WHEN",
            "only jobs created since WHEN: a time ago (90s, 30m, 2h, 1d, 2w) or an RFC 3339 time");
    o.value("limit", "N", "at most N jobs, newest first");
    o.value("before", "CURSOR",
            "the page after an earlier one: the CURSOR its last line printed (\"next\" in --json)");
    add_client_options(o);
}

// --since as an instant: "2h" ago (the units of parse_duration), or an RFC
// 3339 time.
result<millis> since_time(const std::string& text, millis now) {
    if (auto at = parse_rfc3339(text))
        return *at;
    auto ago = parse_duration(text, "since");
    if (!ago)
        return usage_error("--since takes a time ago (a whole number with a unit, s, m, h, d or "
                           "w, such as 30m, 2h or 2w) or an RFC 3339 time such as "
                           "2026-11-25T12:00:00Z; got \"" +
                           printable(text, 60) + "\"");
    return now - static_cast<millis>(ago->count()) * 1000;
}

// GET /v1/jobs with the query of --status, --since, --limit and --before.
result<std::string> list_target(const variables_map& vm) {
    std::string query;
    if (auto since_text = optional_string(vm, "since")) {
        auto since = since_time(*since_text, now_millis());
        if (!since)
            return since.error();
        query += "since=" + percent_encode(rfc3339(*since)) + "&";
    }
    if (auto status = optional_string(vm, "status"))
        query += "status=" + percent_encode(*status) + "&";
    if (auto limit_text = optional_string(vm, "limit")) {
        auto limit = parse_count(*limit_text, "limit");
        if (!limit || *limit == 0)
            return usage_error("--limit takes a whole number of 1 or more");
        query += "limit=" + std::to_string(*limit) + "&";
    }
    if (auto before = optional_string(vm, "before"))
        query += "before=" + percent_encode(*before) + "&";
    if (!query.empty())
        query.pop_back(); // the last '&'
    return "/v1/jobs" + (query.empty() ? "" : "?" + query);
}

result<int> run(const variables_map& vm) {
    auto target = list_target(vm);
    if (!target)
        return target.error();
    auto api = open_api(api_address_of(vm));
    if (!api)
        return api.error();
    auto a = api->call(method::get, *target);
    if (!a)
        return a.error();
    if (a->status != 200)
        return api->refusal(*a, "list jobs");
    auto listing = api->object_of(*a);
    if (!listing)
        return listing.error();
    if (json_wanted(vm)) {
        print_raw(std::cout, a->body);
        return exit_ok;
    }
    const auto* jobs = listing->if_contains("jobs");
    if (!jobs || !jobs->is_array() || jobs->get_array().empty()) {
        std::cout << "no jobs\n";
        return exit_ok;
    }
    for (const auto& line :
         job_table(jobs->get_array(), now_millis(), colour_wanted(STDOUT_FILENO)))
        std::cout << line << '\n';
    // Older jobs follow: the same command with --before shows them.
    if (const auto* next = listing->if_contains("next"); next && next->is_string())
        std::cout << "more: --before " << std::string(next->get_string()) << '\n';
    return exit_ok;
}

} // namespace

const command& list_command() {
    static const command c{
        "list",
        "[--status S] [--since WHEN] [--limit N] [--before CURSOR] [--json]",
        "list jobs, newest first",
        "A table: id, status, files done/total, age, task id (shortened). The status is\n"
        "coloured on a terminal unless NO_COLOR is set. When older jobs follow, a last\n"
        "line \"more: --before CURSOR\" gives the option that lists them.\n",
        describe,
        run,
    };
    return c;
}

} // namespace stemd::cli
