#include "cli/cli.hpp"

#include "cli/command.hpp"
#include "cli/error.hpp"
#include "cli/format.hpp"
#include "cli/usage.hpp"

#include <algorithm>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

namespace stemd::cli {

namespace {

int run_command(const command& c, const std::vector<std::string>& args) {
    option_set options;
    options.visible.add_options()("help,h", "show this help");
    c.describe(options);
    auto vm = parse_arguments(options, args);
    if (!vm)
        return report(std::cerr, c, vm.error());
    if (vm->count("help")) {
        print_command_help(std::cout, c, options.visible);
        return exit_ok;
    }
    auto code = c.run(*vm);
    return code ? *code : report(std::cerr, c, code.error());
}

} // namespace

std::span<const command* const> all_commands() {
    static const command* const commands[] = {
        &serve_command(), &simulate_command(), &submit_command(), &status_command(),
        &list_command(),  &wait_command(),     &retry_command(),  &prune_command(),
        &logs_command(),  &doctor_command(),   &open_command(),   &notify_command(),
    };
    return commands;
}

const command* find_command(std::string_view name) {
    for (const auto* c : all_commands()) {
        if (c->name == name)
            return c;
    }
    return nullptr;
}

int run_entry_point(std::string_view name, const std::function<int()>& entry) {
    try {
        return entry();
    } catch (const std::exception& e) {
        std::cerr << "stemd " << name << ": cannot start: " << e.what() << '\n';
        return exit_failure;
    }
}

int run_cli(int argc, char** argv) {
    std::vector<std::string> args(argv + std::min(argc, 1), argv + argc);
    if (args.empty()) {
        std::cerr << "stemd: no command given\n";
        print_short_usage(std::cerr);
        return exit_usage;
    }
    const std::string first = args.front();
    args.erase(args.begin());
    if (first == "--help" || first == "-h" || (first == "help" && args.empty())) {
        print_overview(std::cout);
        return exit_ok;
    }
    if (first == "--version") {
        std::cout << "stemd " STEMD_VERSION "\n";
        return exit_ok;
    }
    const bool help_for = first == "help";
    const std::string name = help_for ? args.front() : first;
    const command* c = find_command(name);
    if (!c) {
        std::cerr << "stemd: unknown " << (name.starts_with('-') ? "option" : "command") << " \""
                  << printable(name, 60) << "\"\n";
        print_short_usage(std::cerr);
        return exit_usage;
    }
    if (help_for)
        args = {"--help"};
    try {
        return run_command(*c, args);
    } catch (const std::exception& e) {
        std::cerr << "stemd " << c->name << ": " << e.what() << '\n';
        return exit_failure;
    }
}

} // namespace stemd::cli
