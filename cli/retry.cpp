// `stemd retry KEY`: another go for a failed job.

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
    auto key = job_key(vm, "retry");
    if (!key)
        return key.error();
    auto api = open_api(api_address_of(vm));
    if (!api)
        return api.error();
    auto a = api->call_job(method::post, *key, "/retry", "retry job");
    if (!a)
        return a.error();
    auto job = api->object_of(*a);
    if (!job)
        return job.error();
    show_job(std::cout, a->body, *job, json_wanted(vm));
    return exit_ok;
}

} // namespace

const command& retry_command() {
    static const command c{
        "retry",
        "KEY [--json]",
        "give a failed job another go",
        "Failed files are downloaded again from where they stopped, with a fresh attempt\n"
        "budget (e.g. once disk space is back); a job with no files yet asks MusicGPT\n"
        "where it stands. Exit code 0 when stemd accepted the retry; `stemd wait KEY`\n"
        "then follows it. Only failed jobs can be retried.\n",
        describe,
        run,
    };
    return c;
}

} // namespace stemd::cli
