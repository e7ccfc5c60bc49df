#include "cli/format.hpp"

#include "common/text.hpp"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <ostream>
#include <system_error>

namespace stemd::cli {

namespace {

bool is_continuation(unsigned char byte) {
    return (byte & 0xC0) == 0x80;
}

// Not half a character: drops the start of the one being cut.
void drop_partial_character(std::string& out, unsigned char next) {
    if (!is_continuation(next))
        return;
    while (!out.empty() && is_continuation(static_cast<unsigned char>(out.back())))
        out.pop_back();
    if (!out.empty())
        out.pop_back();
}

} // namespace

std::string printable(std::string_view text, std::size_t limit) {
    std::string out;
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (out.size() >= limit) {
            drop_partial_character(out, byte);
            out += "...";
            break;
        }
        out += (byte < 0x20 || byte == 0x7F) ? ' ' : c;
    }
    while (!out.empty() && out.back() == ' ')
        out.pop_back();
    return out;
}

std::size_t display_columns(std::string_view text) {
    std::size_t columns = 0;
    for (const char c : text)
        columns += !is_continuation(static_cast<unsigned char>(c));
    return columns;
}

std::string cut_columns(std::string_view text, std::size_t columns) {
    std::size_t seen = 0, end = 0;
    for (; end < text.size(); ++end) {
        if (is_continuation(static_cast<unsigned char>(text[end])))
            continue;
        if (seen == columns)
            break; // the start of the first character that does not fit
        ++seen;
    }
    return std::string(text.substr(0, end));
}

std::vector<std::string> split_list(const std::vector<std::string>& values) {
    std::vector<std::string> out;
    for (const auto& value : values) {
        std::string_view rest = value;
        while (!rest.empty()) {
            const auto comma = rest.find(',');
            const auto item = trim(rest.substr(0, comma));
            if (!item.empty())
                out.emplace_back(item);
            rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
        }
    }
    return out;
}

std::string human_bytes(std::uint64_t bytes) {
    if (bytes < 1024)
        return std::to_string(bytes);
    return std::to_string(bytes) + " (" + short_bytes(bytes) + ")";
}

std::string short_bytes(std::uint64_t bytes) {
    static constexpr const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
    if (bytes < 1024)
        return std::to_string(bytes) + " B";
    double scaled = static_cast<double>(bytes) / 1024;
    std::size_t unit = 0;
    while (scaled >= 1024 && unit + 1 < std::size(units)) {
        scaled /= 1024;
        ++unit;
    }
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.1f %s", scaled, units[unit]);
    return buffer;
}

bool is_terminal(int fd) {
    return ::isatty(fd) == 1;
}

bool colour_wanted(int fd) {
    const char* no_colour = std::getenv("NO_COLOR");
    return is_terminal(fd) && (!no_colour || *no_colour == '\0');
}

std::string number_text(double value) {
    char buffer[64];
    const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
    return ec == std::errc{} ? std::string(buffer, end) : std::string("?");
}

void print_table(std::ostream& out, const std::vector<table_row>& rows, std::string_view indent) {
    std::vector<std::size_t> widths;
    for (const auto& row : rows) {
        widths.resize(std::max(widths.size(), row.size()));
        for (std::size_t i = 0; i < row.size(); ++i)
            widths[i] = std::max(widths[i], display_columns(row[i]));
    }
    for (const auto& row : rows) {
        std::string line(indent);
        for (std::size_t i = 0; i < row.size(); ++i) {
            line += row[i];
            if (i + 1 < row.size())
                line.append(widths[i] - display_columns(row[i]) + 2, ' ');
        }
        out << line << '\n';
    }
}

} // namespace stemd::cli
