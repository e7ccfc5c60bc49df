#pragma once

// What the commands naming one job (`stemd status KEY`, `stemd retry KEY`)
// share: their options, one request about the job, and showing the job the
// API answers with.

#include "cli/api_client.hpp"
#include "cli/options.hpp"
#include "common/error.hpp"

#include <boost/program_options/variables_map.hpp>

#include <string_view>

namespace stemd::cli {

struct job_request {
    std::string_view command; // names the KEY argument in usage errors
    method how;
    std::string_view suffix; // after /v1/jobs/KEY
    std::string_view action; // what a refusal says could not be done
};

// KEY, --json and the options of every client command.
void describe_job_request(option_set& o);

// Sends the request and prints the job it answers with (--json: as sent).
result<int> run_job_request(const boost::program_options::variables_map& vm,
                            const job_request& request);

} // namespace stemd::cli
