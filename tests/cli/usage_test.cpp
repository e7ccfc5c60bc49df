#include "cli/usage.hpp"

#include "cli/error.hpp"

#include <doctest/doctest.h>

#include <sstream>
#include <string>

using stemd::cli::find_command;

TEST_CASE("every command is found by its name, in the order of the overview") {
    std::string names;
    for (const auto* c : stemd::cli::all_commands()) {
        CHECK(find_command(c->name) == c);
        names += std::string(c->name) + " ";
    }
    CHECK(names == "serve simulate submit status list wait retry prune logs doctor open notify ");
    CHECK(find_command("nope") == nullptr);
    CHECK(find_command("") == nullptr);
}

TEST_CASE("the short usage lists the commands") {
    std::ostringstream out;
    stemd::cli::print_short_usage(out);
    CHECK(out.str() ==
          "usage: stemd COMMAND [OPTIONS]   (commands: serve simulate submit status "
          "list wait retry prune logs doctor open notify)\nRun `stemd --help` for more.\n");
}

TEST_CASE("the overview has a line per command and the exit codes") {
    std::ostringstream out;
    stemd::cli::print_overview(out);
    const auto text = out.str();
    CHECK(text.starts_with("stemd " STEMD_VERSION " - "));
    CHECK(text.find("\n  wait      wait until a job has completed or failed\n") !=
          std::string::npos);
    CHECK(text.find("  2  usage error: unknown command or option") != std::string::npos);
    // Every command but serve and simulate talks to the API: all are named.
    CHECK(text.find("client commands\n  (submit, status, list, wait, retry, prune, logs, doctor, "
                    "open, notify)\n  talk to `stemd serve`") != std::string::npos);
}

TEST_CASE("a usage error is reported with the command's usage line and exit code 2") {
    std::ostringstream err;
    const auto& status = *find_command("status");
    CHECK(stemd::cli::report(err, status, stemd::cli::usage_error("which job?")) == 2);
    CHECK(err.str() == "stemd status: which job?\n"
                       "usage: stemd status KEY [--json]\n"
                       "Run `stemd status --help` for details.\n");
}

TEST_CASE("any other failure is one line and exit code 1") {
    std::ostringstream err;
    const auto& list = *find_command("list");
    const auto e = stemd::cli::failure(stemd::cli::error::unreachable, "cannot reach the API");
    CHECK(stemd::cli::report(err, list, e) == 1);
    CHECK(err.str() == "stemd: cannot reach the API\n");
}

TEST_CASE("a command's help shows its usage, summary, options and details") {
    const auto& wait = *find_command("wait");
    stemd::cli::option_set options;
    wait.describe(options);
    std::ostringstream out;
    stemd::cli::print_command_help(out, wait, options.visible);
    const auto text = out.str();
    CHECK(text.starts_with("usage: stemd wait KEY [--timeout SECONDS] [--json]\n\n"
                           "wait until a job has completed or failed.\n\noptions:\n"));
    for (const char* option : {"--timeout SECONDS", "--json", "--api URL", "-c [ --config ] FILE"})
        CHECK(text.find(option) != std::string::npos);
    CHECK(text.ends_with("failed or the timeout passed.\n"));
}
