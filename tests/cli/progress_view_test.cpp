#include "cli/progress_view.hpp"

#include "cli/format.hpp"

#include <boost/json/parse.hpp>

#include <doctest/doctest.h>

#include <sstream>
#include <string>

using namespace stemd::cli;
using namespace std::chrono_literals;

TEST_CASE("progress_line: name, bytes of total, percent, rate and ETA") {
    file_progress f{"vocals", "downloading", 512 * 1024, 2 * 1024 * 1024, 256.0 * 1024};
    CHECK(progress_line(f, 200) ==
          "  vocals         512.0 KiB / 2.0 MiB    25%    256.0 KiB/s   ETA 6s");
    f.total.reset();
    CHECK(progress_line(f, 200) == "  vocals         512.0 KiB / ?           256.0 KiB/s");
    f.rate.reset();
    CHECK(progress_line(f, 200) == "  vocals         512.0 KiB / ?           measuring...");
}

TEST_CASE("progress_line: finished files, and the terminal width is respected") {
    CHECK(progress_line({"drums", "done", 65536, 65536, {}}, 200) ==
          "  drums          done  64.0 KiB");
    CHECK(progress_line({"bass", "pending", 0, {}, {}}, 200) == "  bass           pending");
    const file_progress f{"vocals", "downloading", 1, 10, 1.0};
    for (std::size_t width : {1u, 10u, 30u, 80u}) {
        CAPTURE(width);
        CHECK(progress_line(f, width).size() <= std::max<std::size_t>(width - 1, 1));
    }
}

TEST_CASE("eta_text") {
    CHECK(eta_text(0) == "0s");
    CHECK(eta_text(6.2) == "7s");
    CHECK(eta_text(65) == "1m05s");
    CHECK(eta_text(7380) == "2h03m");
}

TEST_CASE("rate_meter: bytes per second over the samples, a restart forgets") {
    rate_meter m;
    const auto t = std::chrono::steady_clock::now();
    CHECK_FALSE(m.rate().has_value());
    m.add(t, 0);
    m.add(t + 1s, 1000);
    m.add(t + 2s, 3000);
    REQUIRE(m.rate().has_value());
    CHECK(*m.rate() == doctest::Approx(1500));
    m.add(t + 3s, 10); // started over
    CHECK_FALSE(m.rate().has_value());
}

namespace {
std::size_t width_100() {
    return 100;
}
} // namespace

TEST_CASE("progress_view: each frame goes back over the previous one and erases each line") {
    std::ostringstream out;
    progress_view view(out, width_100);
    const auto t = std::chrono::steady_clock::now();
    auto job = boost::json::parse(R"({"id": "j1", "status": "downloading", "files": [
        {"name": "vocals", "status": "downloading", "received_bytes": 0, "total_bytes": 100},
        {"name": "drums", "status": "pending"}]})")
                   .as_object();
    view.draw(job, t);
    const auto first = out.str();
    CHECK(first.starts_with("\r\x1b[2K")); // no cursor-up on the first frame
    CHECK(first.find("job j1  downloading  0/2 files done\n") != std::string::npos);
    out.str("");
    job["files"].as_array()[0].as_object()["received_bytes"] = 50;
    view.draw(job, t + 1s);
    const auto second = out.str();
    CHECK(second.starts_with("\x1b[3A\r\x1b[2K"));
    CHECK(second.find("50 B / 100 B") != std::string::npos);
    CHECK(second.find("ETA 1s") != std::string::npos);
    // A shorter block erases what is left of the taller one.
    out.str("");
    job["files"].as_array().pop_back();
    view.draw(job, t + 2s);
    CHECK(out.str().ends_with("\x1b[J"));
    for (const auto& line : {first, second})
        for (std::size_t at = 0, next; (next = line.find('\n', at)) != std::string::npos;
             at = next + 1)
            CHECK(next - at <= 5 + 99); // the erase prefix, then at most 99 columns
}

TEST_CASE("fit_line: one column short of the width, never half a UTF-8 character") {
    CHECK(fit_line("abcdef", 4) == "abc");
    CHECK(fit_line("ab  cd", 4) == "ab"); // trailing spaces dropped
    CHECK(fit_line("x", 0) == "x");
    // "é" is two bytes, "♪" three: cut at a character, counted as one column each.
    CHECK(fit_line("caf\xc3\xa9s", 5) == "caf\xc3\xa9");
    CHECK(fit_line("\xe2\x99\xaa\xe2\x99\xaa\xe2\x99\xaa", 3) == "\xe2\x99\xaa\xe2\x99\xaa");
    const file_progress f{"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", "pending", 0, {}, {}};
    for (std::size_t width = 1; width < 30; ++width) {
        CAPTURE(width);
        const auto line = progress_line(f, width);
        CHECK(display_columns(line) <= std::max<std::size_t>(width - 1, 1));
        CHECK(printable(line, 1000) == line); // whole characters only
        CHECK((line.empty() || (static_cast<unsigned char>(line.back()) & 0xC0) != 0xC0));
    }
}

TEST_CASE("rows_taken: a line wider than the terminal takes the rows it wraps to") {
    CHECK(rows_taken({}, 80) == 0);
    CHECK(rows_taken({0, 10, 79}, 80) == 3);
    CHECK(rows_taken({79, 40, 80}, 40) == 2 + 1 + 2);
    CHECK(rows_taken({5}, 0) == 5);
}

TEST_CASE("term_can_redraw: not for TERM unset, empty or dumb") {
    CHECK_FALSE(term_can_redraw(nullptr));
    CHECK_FALSE(term_can_redraw(""));
    CHECK_FALSE(term_can_redraw("dumb"));
    CHECK(term_can_redraw("xterm-256color"));
    CHECK(term_can_redraw("tmux-256color"));
}

namespace {
std::size_t current_width = 100;
std::size_t changing_width() {
    return current_width;
}
} // namespace

TEST_CASE("progress_view: after the terminal narrows, it goes back over the rewrapped rows") {
    std::ostringstream out;
    progress_view view(out, changing_width);
    const auto t = std::chrono::steady_clock::now();
    auto job = boost::json::parse(R"({"id": "j1", "status": "downloading", "files": [
        {"name": "vocals", "status": "downloading", "received_bytes": 0, "total_bytes": 100}]})")
                   .as_object();
    current_width = 100;
    view.draw(job, t);
    // "job j1  downloading  0/1 files done" (35 columns) and the vocals line
    // ("  vocals         0 B / 100 B ...  measuring...", over 20 columns).
    out.str("");
    current_width = 20;
    view.draw(job, t + 1s);
    const auto narrowed = out.str();
    CHECK(narrowed.starts_with("\x1b[" + std::to_string(2 + 3) + "A"));
    // Each line: the erase prefix (5 bytes), then at most 19 columns.
    for (std::size_t at = narrowed.find('\r'), next;
         (next = narrowed.find('\n', at)) != std::string::npos; at = next + 1)
        CHECK(display_columns(narrowed.substr(at, next - at)) <= 5 + 19);
    // Now every line fits in 19 columns: one row each.
    out.str("");
    view.draw(job, t + 2s);
    CHECK(out.str().starts_with("\x1b[2A"));
    current_width = 100;
}
