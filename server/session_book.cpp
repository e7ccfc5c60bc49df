#include "server/session_book.hpp"

#include "common/crypto.hpp"

#include <algorithm>

namespace stemd::server {

session_book::session_book(session_limits limits) : limits_(limits) {}

bool session_book::expired(const entry& e, millis now) const {
    return now - e.used >= limits_.idle || now - e.created >= limits_.lifetime;
}

void session_book::drop_stale(millis now) {
    std::erase_if(sessions_, [&](const auto& s) { return expired(s.second, now); });
    std::erase_if(codes_, [&](const auto& c) { return now - c.second >= limits_.code_lifetime; });
}

session_ticket session_book::open(millis now) {
    session_ticket t{random_token_hex(32), random_token_hex(32)};
    const std::lock_guard lock(mutex_);
    drop_stale(now);
    while (!sessions_.empty() && sessions_.size() >= limits_.max_sessions) {
        const auto unused_longest =
            std::min_element(sessions_.begin(), sessions_.end(), [](const auto& a, const auto& b) {
                return a.second.used < b.second.used;
            });
        sessions_.erase(unused_longest);
    }
    sessions_[sha256_hex(t.id)] = entry{t.csrf, now, now};
    return t;
}

std::optional<std::string> session_book::csrf_of(std::string_view id, millis now) {
    const std::lock_guard lock(mutex_);
    const auto found = sessions_.find(sha256_hex(id));
    if (found == sessions_.end())
        return std::nullopt;
    if (expired(found->second, now)) {
        sessions_.erase(found);
        return std::nullopt;
    }
    found->second.used = now;
    return found->second.csrf;
}

bool session_book::alive(std::string_view id, millis now) {
    const std::lock_guard lock(mutex_);
    const auto found = sessions_.find(sha256_hex(id));
    if (found == sessions_.end())
        return false;
    if (expired(found->second, now)) {
        sessions_.erase(found);
        return false;
    }
    return true;
}

bool session_book::close(std::string_view id) {
    const std::lock_guard lock(mutex_);
    return sessions_.erase(sha256_hex(id)) > 0;
}

void session_book::close_all() {
    const std::lock_guard lock(mutex_);
    sessions_.clear();
}

std::size_t session_book::sessions() const {
    const std::lock_guard lock(mutex_);
    return sessions_.size();
}

std::string session_book::issue_code(millis now) {
    std::string code = random_token_hex(16);
    const std::lock_guard lock(mutex_);
    drop_stale(now);
    while (!codes_.empty() && codes_.size() >= limits_.max_codes) {
        const auto oldest =
            std::min_element(codes_.begin(), codes_.end(),
                             [](const auto& a, const auto& b) { return a.second < b.second; });
        codes_.erase(oldest);
    }
    codes_[sha256_hex(code)] = now;
    return code;
}

bool session_book::redeem_code(std::string_view code, millis now) {
    const std::lock_guard lock(mutex_);
    const auto found = codes_.find(sha256_hex(code));
    if (found == codes_.end())
        return false;
    const bool fresh = now - found->second < limits_.code_lifetime;
    codes_.erase(found);
    return fresh;
}

std::optional<millis> session_book::throttled(millis now) {
    const std::lock_guard lock(mutex_);
    while (!failures_.empty() && now - failures_.front() >= limits_.failure_window)
        failures_.pop_front();
    if (failures_.size() < limits_.max_failures)
        return std::nullopt;
    // Open again once the oldest failure still counted leaves the window.
    return std::max<millis>(1, failures_.front() + limits_.failure_window - now);
}

void session_book::note_failure(millis now) {
    const std::lock_guard lock(mutex_);
    failures_.push_back(now);
    // Only the last max_failures matter for the throttle; keep no more.
    while (failures_.size() > limits_.max_failures)
        failures_.pop_front();
}

} // namespace stemd::server
