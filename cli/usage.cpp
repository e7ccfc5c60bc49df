#include "cli/usage.hpp"

#include "cli/error.hpp"
#include "cli/format.hpp"

#include <ostream>
#include <string>
#include <vector>

namespace stemd::cli {

namespace {

// Every command but the two that are a daemon: the rest talk to the API,
// so a new one is listed without anyone remembering to.
std::string client_command_names() {
    std::string out;
    for (const auto* c : all_commands()) {
        if (c->name == "serve" || c->name == "simulate")
            continue;
        out += (out.empty() ? "" : ", ") + std::string(c->name);
    }
    return out;
}

} // namespace

void print_short_usage(std::ostream& out) {
    out << "usage: stemd COMMAND [OPTIONS]   (commands:";
    for (const auto* c : all_commands())
        out << ' ' << c->name;
    out << ")\nRun `stemd --help` for more.\n";
}

void print_overview(std::ostream& out) {
    out << "stemd " STEMD_VERSION " - extracts stems with MusicGPT and keeps them on disk\n\n"
           "usage: stemd COMMAND [OPTIONS]\n"
           "       stemd --help | --version\n\n"
           "commands:\n";
    std::vector<table_row> rows;
    for (const auto* c : all_commands())
        rows.push_back({std::string(c->name), std::string(c->summary)});
    print_table(out, rows, "  ");
    out << "\nRun `stemd COMMAND --help` for the options of a command.\n\n"
           "configuration (serve; the client commands read api.listen from it):\n"
           "  --config FILE, else $STEMD_CONFIG, else ./stemd.toml, else /etc/stemd/stemd.toml,\n"
           "  else built-in defaults. The MusicGPT API key is musicgpt.api_key, else\n"
           "  $MUSICGPT_API_KEY, else the contents of musicgpt.api_key_file.\n\n"
           "client commands\n  ("
        << client_command_names()
        << ")\n"
           "  talk to `stemd serve` at --api URL, else at http://<api.listen> (default\n"
           "  http://127.0.0.1:8081), with the API token from --token-file FILE, else\n"
           "  $STEMD_API_TOKEN, else api.token_file (default: api-token beside\n"
           "  storage.database, made by the first `stemd serve`).\n\n"
           "exit codes:\n"
           "  0  success\n"
           "  1  failure: cannot start, API unreachable or refusing, job failed, timeout,\n"
           "     doctor found a problem\n"
           "  2  usage error: unknown command or option, missing or conflicting arguments\n";
}

void print_command_help(std::ostream& out, const command& c,
                        const boost::program_options::options_description& visible) {
    out << "usage: stemd " << c.name << ' ' << c.synopsis << "\n\n"
        << c.summary << ".\n\n"
        << visible << '\n'
        << c.details;
}

int report(std::ostream& err, const command& c, const stemd::error& e) {
    const int code = exit_code(e);
    if (code != exit_usage) {
        err << "stemd: " << e.message << '\n';
        return code;
    }
    err << "stemd " << c.name << ": " << e.message << '\n'
        << "usage: stemd " << c.name << ' ' << c.synopsis << '\n'
        << "Run `stemd " << c.name << " --help` for details.\n";
    return exit_usage;
}

} // namespace stemd::cli
