#include "listener/admission.hpp"

#include <sys/resource.h>

#include <algorithm>

namespace stemd::listener {

bool admission::admit(const std::string& address) {
    if (total_ >= max_total_)
        return false;
    auto& from = per_address_[address];
    if (from >= max_per_address_) {
        if (from == 0)
            per_address_.erase(address);
        return false;
    }
    ++from;
    ++total_;
    return true;
}

void admission::release(const std::string& address) {
    auto it = per_address_.find(address);
    if (it == per_address_.end())
        return;
    --total_;
    // Erased at zero, so the map holds only addresses with connections and
    // cannot grow with every peer ever seen.
    if (--it->second == 0)
        per_address_.erase(it);
}

std::size_t admission::open_from(const std::string& address) const {
    auto it = per_address_.find(address);
    return it == per_address_.end() ? 0 : it->second;
}

accept_backoff::wait accept_backoff::failed() {
    const bool starts = next_.count() == 0;
    next_ = starts ? first : std::min(next_ * 2, longest);
    return {next_, starts};
}

std::uint64_t raise_file_limit() {
    rlimit now{};
    if (::getrlimit(RLIMIT_NOFILE, &now) != 0)
        return 0;
    if (now.rlim_cur != now.rlim_max) {
        rlimit raised{now.rlim_max, now.rlim_max};
        if (::setrlimit(RLIMIT_NOFILE, &raised) == 0)
            now = raised;
    }
    return now.rlim_cur == RLIM_INFINITY ? UINT64_MAX : static_cast<std::uint64_t>(now.rlim_cur);
}

std::size_t fit_connections(std::size_t wanted, std::size_t listeners, std::uint64_t file_limit) {
    listeners = std::max<std::size_t>(listeners, 1);
    const std::uint64_t spare =
        file_limit > reserved_descriptors ? file_limit - reserved_descriptors : 0;
    const std::uint64_t each = spare / listeners;
    if (wanted <= each)
        return wanted;
    return static_cast<std::size_t>(std::max<std::uint64_t>(each, 1));
}

} // namespace stemd::listener
