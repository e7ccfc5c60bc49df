#include "cli/doctor_view.hpp"

#include <doctest/doctest.h>

#include <sstream>

using namespace stemd;
using server::check_level;

TEST_CASE("doctor view: aligned lines, then the summary") {
    std::ostringstream out;
    cli::print_checks(out, {{"config", check_level::ok, "valid"},
                            {"public url", check_level::problem, "reaches something else"},
                            {"clock", check_level::warning, "no Date\x1b[2J"}});
    CHECK(out.str() == "ok       config      valid\n"
                       "problem  public url  reaches something else\n"
                       "warning  clock       no Date [2J\n"
                       "\n"
                       "1 problem, 1 warning\n");
}

TEST_CASE("doctor view: the summary counts") {
    CHECK(cli::checks_summary({{"a", check_level::ok, ""}, {"b", check_level::ok, ""}}) ==
          "all 2 checks ok");
    CHECK(cli::checks_summary({{"a", check_level::warning, ""}, {"b", check_level::warning, ""}}) ==
          "2 warnings");
    CHECK(cli::checks_summary({{"a", check_level::problem, ""}}) == "1 problem");
}
