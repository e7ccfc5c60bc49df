// `stemd list`: the jobs, newest first.

#include "cli/api_client.hpp"
#include "cli/command.hpp"
#include "cli/error.hpp"
#include "cli/job_view.hpp"
#include "common/text.hpp"

#include <iostream>

namespace stemd::cli {

namespace {

using boost::program_options::variables_map;

void describe(option_set& o) {
    o.value("status", "S",
            "only jobs in this state: submitting, submitted, downloading, completed, failed");
    o.value("limit", "N", "at most N jobs, newest first");
    add_client_options(o);
}

// GET /v1/jobs with the query of --status and --limit.
result<std::string> list_target(const variables_map& vm) {
    std::string query;
    if (auto status = optional_string(vm, "status"))
        query += "status=" + percent_encode(*status);
    if (auto limit_text = optional_string(vm, "limit")) {
        auto limit = parse_count(*limit_text, "limit");
        if (!limit || *limit == 0)
            return usage_error("--limit takes a whole number of 1 or more");
        query += (query.empty() ? "" : "&") + std::string("limit=") + std::to_string(*limit);
    }
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
    if (json_wanted(vm))
        print_raw(std::cout, a->body);
    else
        print_job_list(std::cout, *listing);
    return exit_ok;
}

} // namespace

const command& list_command() {
    static const command c{
        "list",
        "[--status S] [--limit N] [--json]",
        "list jobs, newest first",
        "One line per job: id, status, task id, creation time, files done/total.\n",
        describe,
        run,
    };
    return c;
}

} // namespace stemd::cli
