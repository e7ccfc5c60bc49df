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

namespace {

constexpr const char* day_names[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr const char* month_names[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

} // namespace

std::string http_date(millis t) {
    millis seconds = t / 1000;
    if (t % 1000 < 0)
        seconds -= 1;
    const auto whole = static_cast<std::time_t>(seconds);
    std::tm tm{};
    gmtime_r(&whole, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", day_names[tm.tm_wday],
                  tm.tm_mday, month_names[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                  tm.tm_sec);
    return buf;
}

std::optional<millis> parse_http_date(std::string_view text) {
    // "Sun, 06 Nov 1994 08:49:37 GMT": fixed width, 29 characters.
    if (text.size() != 29 || text.substr(3, 2) != ", " || text.substr(25) != " GMT")
        return std::nullopt;
    const std::string copy(text);
    char day[4] = {};
    char month[4] = {};
    int mday = 0, year = 0, hour = 0, minute = 0, second = 0;
    int used = 0;
    if (std::sscanf(copy.c_str(), "%3s, %2d %3s %4d %2d:%2d:%2d GMT%n", day, &mday, month, &year,
                    &hour, &minute, &second, &used) != 7 ||
        used != 29)
        return std::nullopt;
    int mon = -1;
    for (int i = 0; i < 12; ++i)
        if (std::string_view(month) == month_names[i])
            mon = i;
    if (mon < 0 || mday < 1 || mday > 31 || hour > 23 || minute > 59 || second > 60 || year < 1970)
        return std::nullopt;
    std::tm tm{};
    tm.tm_year = year - 1900;
    tm.tm_mon = mon;
    tm.tm_mday = mday;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_sec = second;
    return static_cast<millis>(timegm(&tm)) * 1000;
}

} // namespace stemd
