#pragma once

// What `stemd wait` draws on a terminal: a line per file (name, bytes
// received of the total, rate, ETA) redrawn in place with ANSI cursor
// movement. The line texts are pure functions (tested as such); the view
// keeps the rates and the widths of what it drew last, so each redraw goes
// back over exactly the rows the previous one takes at the terminal's
// current width (a narrowed terminal rewraps the older lines).

#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stemd::cli {

// What one line says about a file.
struct file_progress {
    std::string name;
    std::string status; // pending, downloading, done, failed
    std::uint64_t received = 0;
    std::optional<std::uint64_t> total;
    std::optional<double> rate; // bytes per second, once measured
};

// "7s", "1m05s", "2h03m" (whole seconds, rounded up).
std::string eta_text(double seconds);
// `line` fitted to a terminal `width` columns wide: at most width - 1
// columns (a full line wraps early on some terminals), cut at a character
// boundary, trailing spaces dropped.
std::string fit_line(std::string_view line, std::size_t width);
// The rows that lines of these column counts take on a terminal `width`
// columns wide which wraps (or rewraps, once narrowed) long lines.
std::size_t rows_taken(const std::vector<std::size_t>& columns, std::size_t width);
// Whether a terminal of this $TERM understands cursor movement: not when
// unset, empty or "dumb" (then a line is printed per change instead).
bool term_can_redraw(const char* term);

// The file's line, fitted to `width` (see fit_line).
std::string progress_line(const file_progress& f, std::size_t width);
// The header line: "job ID  downloading  1/4 files".
std::string job_line(const boost::json::object& job, std::size_t width);

// Bytes per second over the last few seconds of samples.
class rate_meter {
public:
    void add(std::chrono::steady_clock::time_point at, std::uint64_t bytes);
    std::optional<double> rate() const;

private:
    std::deque<std::pair<std::chrono::steady_clock::time_point, std::uint64_t>> samples_;
};

class progress_view {
public:
    // `width` is read again at each draw (the terminal may be resized).
    explicit progress_view(std::ostream& out, std::size_t (*width)());
    // Redraws the block for `job` in place of the previous one.
    void draw(const boost::json::object& job, std::chrono::steady_clock::time_point now);
    // Leaves the last block as it is, the cursor on the line below it.
    void finish();

private:
    std::vector<std::string> lines_of(const boost::json::object& job, std::size_t width,
                                      std::chrono::steady_clock::time_point now);

    std::ostream& out_;
    std::size_t (*width_)();
    std::vector<std::size_t> drawn_; // columns of each line of the block on screen
    std::map<std::string, rate_meter> rates_;
};

// The columns of the terminal on standard error (COLUMNS, else 80).
std::size_t terminal_width();

} // namespace stemd::cli
