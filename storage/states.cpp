#include "storage/states.hpp"

namespace stemd::storage {

namespace {

// The status of `all` whose name is `s`.
template <class Status, std::size_t N>
std::optional<Status> parse_status(const std::array<Status, N>& all, std::string_view s) noexcept {
    for (auto candidate : all) {
        if (to_string(candidate) == s) {
            return candidate;
        }
    }
    return std::nullopt;
}

} // namespace

std::string_view to_string(job_status s) noexcept {
    switch (s) {
    case job_status::submitting:
        return "submitting";
    case job_status::submitted:
        return "submitted";
    case job_status::downloading:
        return "downloading";
    case job_status::completed:
        return "completed";
    case job_status::failed:
        return "failed";
    }
    return "unknown";
}

std::string_view to_string(file_status s) noexcept {
    switch (s) {
    case file_status::pending:
        return "pending";
    case file_status::downloading:
        return "downloading";
    case file_status::done:
        return "done";
    case file_status::failed:
        return "failed";
    }
    return "unknown";
}

std::optional<job_status> parse_job_status(std::string_view s) noexcept {
    return parse_status(job_statuses, s);
}

std::optional<file_status> parse_file_status(std::string_view s) noexcept {
    return parse_status(file_statuses, s);
}

} // namespace stemd::storage
