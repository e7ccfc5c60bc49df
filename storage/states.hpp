#pragma once

// The states of a job and of its files, named here once, with the
// predicates every other part of stemd decides by.

#include <array>
#include <optional>
#include <string_view>

namespace stemd::storage {

enum class job_status { submitting, submitted, downloading, completed, failed };
enum class file_status { pending, downloading, done, failed };

inline constexpr std::array<job_status, 5> job_statuses = {
    job_status::submitting, job_status::submitted, job_status::downloading, job_status::completed,
    job_status::failed};
inline constexpr std::array<file_status, 4> file_statuses = {
    file_status::pending, file_status::downloading, file_status::done, file_status::failed};

std::string_view to_string(job_status s) noexcept;
std::string_view to_string(file_status s) noexcept;
std::optional<job_status> parse_job_status(std::string_view s) noexcept;
std::optional<file_status> parse_file_status(std::string_view s) noexcept;

// A final job changes no more on its own: nothing of it is downloaded or
// looked up, and only retry() gives it another go.
constexpr bool is_final(job_status s) noexcept {
    return s == job_status::completed || s == job_status::failed;
}
// A final file is not downloaded again (until its job is retried).
constexpr bool is_final(file_status s) noexcept {
    return s == file_status::done || s == file_status::failed;
}
// A file that may be handed to a downloader (when due and unclaimed).
constexpr bool is_runnable(file_status s) noexcept {
    return !is_final(s);
}
// A job whose files may be downloaded and whose status may be looked up.
constexpr bool is_runnable(job_status s) noexcept {
    return !is_final(s);
}
} // namespace stemd::storage
