// `stemd status KEY`: one job and its files.

#include "cli/api_client.hpp"
#include "cli/command.hpp"
#include "cli/error.hpp"
#include "cli/job_view.hpp"

#include <iostream>

namespace stemd::cli {

namespace {

void describe(option_set& o) {
    add_key_argument(o);
    add_client_options(o);
}

result<int> run(const boost::program_options::variables_map& vm) {
    auto key = job_key(vm, "status");
    if (!key)
        return key.error();
    auto api = open_api(api_address_of(vm));
    if (!api)
        return api.error();
    auto a = api->call_job(method::get, *key, "", "show job");
    if (!a)
        return a.error();
    auto job = api->object_of(*a);
    if (!job)
        return job.error();
    show_job(std::cout, a->body, *job, json_wanted(vm));
    return exit_ok;
}

} // namespace

const command& status_command() {
    static const command c{
        "status",
        "KEY [--json]",
        "show one job and its files",
        "KEY is a job id, or a MusicGPT task id or conversion id.\n",
        describe,
        run,
    };
    return c;
}

} // namespace stemd::cli
