#include "cli/doctor_view.hpp"

#include "cli/format.hpp"

#include <ostream>

namespace stemd::cli {

namespace {

std::string counted(std::size_t n, std::string_view one) {
    return std::to_string(n) + " " + std::string(one) + (n == 1 ? "" : "s");
}

} // namespace

std::string checks_summary(const std::vector<server::check>& checks) {
    std::size_t problems = 0, warnings = 0;
    for (const auto& c : checks) {
        problems += c.level == server::check_level::problem;
        warnings += c.level == server::check_level::warning;
    }
    if (problems == 0 && warnings == 0)
        return "all " + counted(checks.size(), "check") + " ok";
    std::string out;
    if (problems > 0)
        out = counted(problems, "problem");
    if (warnings > 0)
        out += (out.empty() ? "" : ", ") + counted(warnings, "warning");
    return out;
}

void print_checks(std::ostream& out, const std::vector<server::check>& checks) {
    std::vector<table_row> rows;
    for (const auto& c : checks)
        rows.push_back({std::string(server::to_string(c.level)), printable(c.name, 40),
                        printable(c.message, 2000)});
    print_table(out, rows, "");
    out << '\n' << checks_summary(checks) << '\n';
}

} // namespace stemd::cli
