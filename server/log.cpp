#include "server/log.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>

namespace stemd::server {
namespace {

log_level threshold = [] {
    const char* v = std::getenv("STEMD_LOG_LEVEL");
    return v && std::string_view(v) == "debug" ? log_level::debug : log_level::info;
}();

const bool under_journald = std::getenv("JOURNAL_STREAM") != nullptr;

std::string_view name(log_level l) {
    switch (l) {
    case log_level::debug: return "debug";
    case log_level::info: return "info";
    case log_level::warning: return "warning";
    case log_level::error: return "error";
    }
    return "info";
}

int syslog_priority(log_level l) {
    switch (l) {
    case log_level::debug: return 7;
    case log_level::info: return 6;
    case log_level::warning: return 4;
    case log_level::error: return 3;
    }
    return 6;
}

std::string timestamp() {
    using namespace std::chrono;
    auto now = system_clock::now();
    std::time_t t = system_clock::to_time_t(now);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, int(ms));
    return buf;
}

} // namespace

void set_log_level(log_level level) { threshold = level; }

void log(log_level level, std::string_view job, std::string_view message) {
    if (level < threshold)
        return;
    std::string line;
    line.reserve(message.size() + 64);
    if (under_journald) {
        line += '<';
        line += char('0' + syslog_priority(level));
        line += '>';
    } else {
        line += timestamp();
        line += ' ';
    }
    line += name(level);
    if (!job.empty()) {
        line += " job=";
        line += job;
    }
    line += ' ';
    // One event, one line: a newline inside a message would forge a second.
    for (char c : message)
        line += (c == '\n' || c == '\r') ? ' ' : c;
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), stderr);
}

} // namespace stemd::server
