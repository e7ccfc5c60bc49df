#include "cli/job_request.hpp"

#include "cli/error.hpp"
#include "cli/job_view.hpp"

#include <iostream>

namespace stemd::cli {

void describe_job_request(option_set& o) {
    add_key_argument(o);
    add_client_options(o);
}

result<int> run_job_request(const boost::program_options::variables_map& vm,
                            const job_request& request) {
    auto key = job_key(vm, request.command);
    if (!key)
        return key.error();
    auto api = open_api(api_address_of(vm));
    if (!api)
        return api.error();
    auto a = api->call_job(request.how, *key, request.suffix, request.action);
    if (!a)
        return a.error();
    auto job = api->object_of(*a);
    if (!job)
        return job.error();
    show_job(std::cout, a->body, *job, json_wanted(vm));
    return exit_ok;
}

} // namespace stemd::cli
