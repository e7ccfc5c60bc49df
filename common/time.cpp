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

// `n` digits at `at` as a number; -1 when they are not all digits.
int digits(std::string_view text, std::size_t at, std::size_t n) {
    if (at + n > text.size())
        return -1;
    int out = 0;
    for (std::size_t i = at; i < at + n; ++i) {
        if (text[i] < '0' || text[i] > '9')
            return -1;
        out = out * 10 + (text[i] - '0');
    }
    return out;
}

bool is_separator(std::string_view text, std::size_t at, std::string_view allowed) {
    return at < text.size() && allowed.find(text[at]) != std::string_view::npos;
}

} // namespace

std::optional<millis> parse_rfc3339(std::string_view text) {
    const int year = digits(text, 0, 4), month = digits(text, 5, 2), day = digits(text, 8, 2);
    const int hour = digits(text, 11, 2), minute = digits(text, 14, 2),
              second = digits(text, 17, 2);
    if (year < 0 || month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 || hour > 23 ||
        minute < 0 || minute > 59 || second < 0 || second > 60 || !is_separator(text, 4, "-") ||
        !is_separator(text, 7, "-") || !is_separator(text, 10, "Tt ") ||
        !is_separator(text, 13, ":") || !is_separator(text, 16, ":"))
        return std::nullopt;
    std::size_t at = 19;
    millis fraction = 0;
    if (is_separator(text, at, ".")) {
        millis scale = 100;
        ++at;
        const std::size_t first = at;
        for (; at < text.size() && text[at] >= '0' && text[at] <= '9'; ++at, scale /= 10)
            fraction += (text[at] - '0') * scale;
        if (at == first)
            return std::nullopt;
    }
    millis offset = 0;
    if (is_separator(text, at, "Zz") && at + 1 == text.size()) {
        offset = 0;
    } else if (is_separator(text, at, "+-") && at + 6 == text.size() &&
               is_separator(text, at + 3, ":")) {
        const int oh = digits(text, at + 1, 2), om = digits(text, at + 4, 2);
        if (oh < 0 || oh > 23 || om < 0 || om > 59)
            return std::nullopt;
        offset = (text[at] == '-' ? -1 : 1) * (oh * 3600 + om * 60) * millis{1000};
    } else {
        return std::nullopt;
    }
    std::tm tm{};
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_sec = second;
    const std::time_t seconds = timegm(&tm);
    // timegm normalises 31 February into March: such a date is refused.
    if (tm.tm_mday != day)
        return std::nullopt;
    return static_cast<millis>(seconds) * 1000 + fraction - offset;
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
