#pragma once

#include <exception>
#include <string_view>

namespace stemd {

enum class log_level { debug, info, warning, error };

// One line per event on stderr, which systemd hands to journald. Under
// journald (JOURNAL_STREAM set) the line starts with the syslog priority
// ("<6>") so `journalctl -p` filters work, and carries no timestamp of its
// own; elsewhere it starts with an RFC 3339 UTC timestamp. `job` is "" when
// the event concerns no job. Control characters in the message are escaped.
// Callers never pass secrets: links are logged through client::redact.
void log(log_level level, std::string_view job, std::string_view message);

inline void log_debug(std::string_view job, std::string_view m) {
    log(log_level::debug, job, m);
}
inline void log_info(std::string_view job, std::string_view m) {
    log(log_level::info, job, m);
}
inline void log_warning(std::string_view job, std::string_view m) {
    log(log_level::warning, job, m);
}
inline void log_error(std::string_view job, std::string_view m) {
    log(log_level::error, job, m);
}

// Lines below this level are dropped (default info; STEMD_LOG_LEVEL=debug).
void set_log_level(log_level level);

// The completion handler for a detached coroutine: logs the exception that
// ended `what`, if any ("download scheduler ended by an exception: ...").
void log_exception(std::string_view what, std::exception_ptr e);

} // namespace stemd
