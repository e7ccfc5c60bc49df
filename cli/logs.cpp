// `stemd logs KEY`: what happened to one job, oldest first.

#include "cli/api_client.hpp"
#include "cli/command.hpp"
#include "cli/error.hpp"
#include "cli/format.hpp"
#include "cli/job_table.hpp"
#include "cli/job_view.hpp"

#include <iostream>

namespace stemd::cli {

namespace {

void describe(option_set& o) {
    add_key_argument(o);
    add_client_options(o);
}

result<int> run(const boost::program_options::variables_map& vm) {
    auto key = job_key(vm, "logs");
    if (!key)
        return key.error();
    auto api = open_api(api_address_of(vm));
    if (!api)
        return api.error();
    auto a = api->call_job(method::get, *key, "/events", "show the events of job");
    if (!a)
        return a.error();
    auto answer = api->object_of(*a);
    if (!answer)
        return answer.error();
    if (json_wanted(vm)) {
        print_raw(std::cout, a->body);
        return exit_ok;
    }
    const auto* events = answer->if_contains("events");
    if (!events || !events->is_array())
        return failure(error::bad_answer, "the stemd API answered without an events list");
    if (events->get_array().empty())
        std::cout << "no events recorded for job " << printable(*key, 100) << '\n';
    for (const auto& line : event_lines(events->get_array()))
        std::cout << line << '\n';
    return exit_ok;
}

} // namespace

const command& logs_command() {
    static const command c{
        "logs",
        "KEY [--json]",
        "show what happened to a job, oldest first",
        "One line per event: time, kind, file, detail. Kinds: submitted, refused,\n"
        "webhook, webhook_duplicate, lookup, download_done, download_retry,\n"
        "download_failed, link_expired, retry, completed, failed. The newest 500\n"
        "events of a job are kept.\n",
        describe,
        run,
    };
    return c;
}

} // namespace stemd::cli
