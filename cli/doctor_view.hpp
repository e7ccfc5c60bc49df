#pragma once

// How `stemd doctor` shows its checks to people: one line per check (level,
// name, message), then a summary.

#include "server/doctor_checks.hpp"

#include <iosfwd>
#include <string>
#include <vector>

namespace stemd::cli {

// "ok", "warning" or "problem" aligned, the check's name aligned, then the
// message (made printable); a blank line and the summary after.
void print_checks(std::ostream& out, const std::vector<server::check>& checks);

// "all 8 checks ok", "1 problem, 2 warnings" ...
std::string checks_summary(const std::vector<server::check>& checks);

} // namespace stemd::cli
