#include "cli/progress_view.hpp"

#include "cli/format.hpp"
#include "cli/job_view.hpp"

#include <boost/json/array.hpp>

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ostream>

namespace stemd::cli {

namespace json = boost::json;
using clock = std::chrono::steady_clock;

namespace {

// Erase the line, then write it: a shorter line leaves nothing behind.
constexpr const char* erase_line = "\r\x1b[2K";

std::string pad(std::string text, std::size_t width) {
    const auto columns = display_columns(text);
    if (columns < width)
        text.append(width - columns, ' ');
    return text;
}

file_progress progress_of(const json::object& file) {
    file_progress f;
    f.name = text_field(file, "name");
    f.status = text_field(file, "status");
    if (f.status == "done")
        f.received = unsigned_field(file, "bytes").value_or(0);
    else
        f.received = unsigned_field(file, "received_bytes").value_or(0);
    f.total = f.status == "done" ? std::optional<std::uint64_t>(f.received)
                                 : unsigned_field(file, "total_bytes");
    return f;
}

} // namespace

std::string fit_line(std::string_view line, std::size_t width) {
    auto out = cut_columns(line, width > 1 ? width - 1 : 1);
    while (!out.empty() && out.back() == ' ')
        out.pop_back();
    return out;
}

std::size_t rows_taken(const std::vector<std::size_t>& columns, std::size_t width) {
    const std::size_t w = std::max<std::size_t>(width, 1);
    std::size_t rows = 0;
    for (const auto c : columns)
        rows += c == 0 ? 1 : (c + w - 1) / w;
    return rows;
}

bool term_can_redraw(const char* term) {
    return term && *term && std::string_view(term) != "dumb";
}

std::string eta_text(double seconds) {
    const auto s = static_cast<long long>(std::ceil(std::max(seconds, 0.0)));
    char buffer[32];
    if (s < 60)
        std::snprintf(buffer, sizeof buffer, "%llds", s);
    else if (s < 3600)
        std::snprintf(buffer, sizeof buffer, "%lldm%02llds", s / 60, s % 60);
    else
        std::snprintf(buffer, sizeof buffer, "%lldh%02lldm", s / 3600, (s % 3600) / 60);
    return buffer;
}

std::string progress_line(const file_progress& f, std::size_t width) {
    std::string line = "  " + pad(printable(f.name, 40), 14) + " ";
    if (f.status != "downloading") {
        line += f.status;
        if (f.status == "done")
            line += "  " + short_bytes(f.received);
        return fit_line(line, width);
    }
    line += pad(short_bytes(f.received) + " / " + (f.total ? short_bytes(*f.total) : "?"), 22);
    if (f.total && *f.total > 0) {
        const auto percent = static_cast<int>(100.0 * static_cast<double>(f.received) /
                                              static_cast<double>(*f.total));
        line += pad(" " + std::to_string(std::min(percent, 100)) + "%", 6);
    }
    if (f.rate && *f.rate > 0) {
        line += "  " + pad(short_bytes(static_cast<std::uint64_t>(*f.rate)) + "/s", 12);
        if (f.total && *f.total >= f.received)
            line += "  ETA " + eta_text(static_cast<double>(*f.total - f.received) / *f.rate);
    } else {
        line += "  measuring...";
    }
    return fit_line(line, width);
}

std::string job_line(const json::object& job, std::size_t width) {
    return fit_line("job " + text_field(job, "id") + "  " + text_field(job, "status") + "  " +
                        files_done(job) + " files done",
                    width);
}

void rate_meter::add(clock::time_point at, std::uint64_t bytes) {
    // A smaller count is a restart from zero: the old samples say nothing.
    if (!samples_.empty() && bytes < samples_.back().second)
        samples_.clear();
    samples_.emplace_back(at, bytes);
    while (samples_.size() > 2 && at - samples_.front().first > std::chrono::seconds(5))
        samples_.pop_front();
}

std::optional<double> rate_meter::rate() const {
    if (samples_.size() < 2)
        return std::nullopt;
    const std::chrono::duration<double> span = samples_.back().first - samples_.front().first;
    if (span.count() <= 0)
        return std::nullopt;
    return static_cast<double>(samples_.back().second - samples_.front().second) / span.count();
}

progress_view::progress_view(std::ostream& out, std::size_t (*width)())
    : out_(out), width_(width) {}

std::vector<std::string> progress_view::lines_of(const json::object& job, std::size_t width,
                                                 clock::time_point now) {
    std::vector<std::string> lines{job_line(job, width)};
    const auto* files = job.if_contains("files");
    if (!files || !files->is_array())
        return lines;
    for (const auto& value : files->get_array()) {
        if (!value.is_object())
            continue;
        auto f = progress_of(value.get_object());
        if (f.status == "downloading") {
            auto& meter = rates_[f.name];
            meter.add(now, f.received);
            f.rate = meter.rate();
        }
        lines.push_back(progress_line(f, width));
    }
    return lines;
}

void progress_view::draw(const json::object& job, clock::time_point now) {
    // Measured once a frame: the lines are fitted to it, and the rows the
    // previous block takes now (rewrapped, if the terminal narrowed) too.
    const std::size_t width = width_();
    const auto lines = lines_of(job, width, now);
    std::string frame;
    if (const auto rows = rows_taken(drawn_, width); rows > 0)
        frame += "\x1b[" + std::to_string(rows) + "A"; // back to the block's first row
    drawn_.clear();
    for (const auto& line : lines) {
        frame += erase_line + line + "\n";
        drawn_.push_back(display_columns(line));
    }
    // Whatever is left below (a taller or rewrapped block drawn before).
    frame += "\x1b[J";
    out_ << frame << std::flush;
}

void progress_view::finish() {
    drawn_.clear();
    out_ << std::flush;
}

std::size_t terminal_width() {
    winsize size{};
    if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0)
        return size.ws_col;
    if (const char* columns = std::getenv("COLUMNS")) {
        const long n = std::strtol(columns, nullptr, 10);
        if (n > 0 && n < 10000)
            return static_cast<std::size_t>(n);
    }
    return 80;
}

} // namespace stemd::cli
