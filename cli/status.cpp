// `stemd status KEY`: one job and its files.

#include "cli/command.hpp"
#include "cli/job_request.hpp"

namespace stemd::cli {

namespace {

result<int> run(const boost::program_options::variables_map& vm) {
    return run_job_request(vm, {"status", method::get, "", "show job"});
}

} // namespace

const command& status_command() {
    static const command c{
        "status",
        "KEY [--json]",
        "show one job and its files",
        "KEY is a job id, or a MusicGPT task id or conversion id.\n",
        describe_job_request,
        run,
    };
    return c;
}

} // namespace stemd::cli
