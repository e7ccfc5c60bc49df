#include "common/log.hpp"

#include "common/text.hpp"
#include "common/time.hpp"

#include <cstdio>
#include <cstdlib>
#include <string>

namespace stemd {

namespace {

log_level threshold = [] {
    const char* v = std::getenv("STEMD_LOG_LEVEL");
    return v && std::string_view(v) == "debug" ? log_level::debug : log_level::info;
}();

const bool under_journald = std::getenv("JOURNAL_STREAM") != nullptr;

std::string_view name(log_level l) {
    switch (l) {
    case log_level::debug:
        return "debug";
    case log_level::info:
        return "info";
    case log_level::warning:
        return "warning";
    case log_level::error:
        return "error";
    }
    return "info";
}

int syslog_priority(log_level l) {
    switch (l) {
    case log_level::debug:
        return 7;
    case log_level::info:
        return 6;
    case log_level::warning:
        return 4;
    case log_level::error:
        return 3;
    }
    return 6;
}

} // namespace

void set_log_level(log_level level) {
    threshold = level;
}

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
        line += rfc3339(now_millis());
        line += ' ';
    }
    line += name(level);
    if (!job.empty()) {
        line += " job=";
        line += escape_control(job);
    }
    line += ' ';
    line += escape_control(message);
    line += '\n';
    // One write per line, so lines from concurrent writers never interleave.
    std::fwrite(line.data(), 1, line.size(), stderr);
}

void log_exception(std::string_view what, std::exception_ptr e) {
    if (!e)
        return;
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& ex) {
        log_error("", std::string(what) + " ended by an exception: " + ex.what());
    } catch (...) {
        log_error("", std::string(what) + " ended by an unknown exception");
    }
}

} // namespace stemd
