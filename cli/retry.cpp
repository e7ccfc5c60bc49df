// `stemd retry KEY`: another go for a failed job.

#include "cli/command.hpp"
#include "cli/job_request.hpp"

namespace stemd::cli {

namespace {

result<int> run(const boost::program_options::variables_map& vm) {
    return run_job_request(vm, {"retry", method::post, "/retry", "retry job"});
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
        describe_job_request,
        run,
    };
    return c;
}

} // namespace stemd::cli
