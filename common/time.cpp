#include "common/time.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace stemd {

millis now_millis() noexcept {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string rfc3339(millis t) {
    // Floor division, so times before the epoch still print a valid date.
    millis seconds = t / 1000;
    millis ms = t % 1000;
    if (ms < 0) {
        ms += 1000;
        seconds -= 1;
    }
    const auto whole = static_cast<std::time_t>(seconds);
    std::tm tm{};
    gmtime_r(&whole, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, int(ms));
    return buf;
}

} // namespace stemd
