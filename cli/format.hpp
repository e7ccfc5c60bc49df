#pragma once

// Text for people at a terminal: what the CLI prints and how it reads list
// options. Protocol-level helpers live in common/text.hpp.

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

namespace stemd::cli {

// Text that came from the API (which may repeat MusicGPT's words) with
// control characters as spaces, trailing spaces dropped, and cut to about
// `limit` bytes ("..." added, never half a UTF-8 character), so it cannot
// move the cursor or change colours on the user's terminal.
std::string printable(std::string_view text, std::size_t limit = 500);

// The columns `text` takes on a terminal, counted as code points (a UTF-8
// lead or ASCII byte each): wide and combining characters are not told
// apart, but a multi-byte character never counts as several columns.
std::size_t display_columns(std::string_view text);

// `text` cut to at most `columns` display columns, at a character boundary.
std::string cut_columns(std::string_view text, std::size_t columns);

// "a,b" "c" -> {a, b, c}: a list option may be repeated or comma separated;
// items are trimmed and empty ones dropped.
std::vector<std::string> split_list(const std::vector<std::string>& values);

// "512" below 1 KiB, else "1536 (1.5 KiB)" up to TiB.
std::string human_bytes(std::uint64_t bytes);

// "512 B", "1.5 KiB", "20.0 MiB": for a progress line, where the exact
// count would not fit.
std::string short_bytes(std::uint64_t bytes);

// Whether `fd` is a terminal, and whether colour may be used on it (a
// terminal, and NO_COLOR unset or empty: https://no-color.org).
bool is_terminal(int fd);
bool colour_wanted(int fd);

// The shortest text that reads back as `value` ("147", "0.5"): Boost.JSON
// writes doubles in exponent form ("1.47E2").
std::string number_text(double value);

// Columns padded to their widest cell plus two spaces; the last column is
// not padded. Each line starts with `indent`.
using table_row = std::vector<std::string>;
void print_table(std::ostream& out, const std::vector<table_row>& rows, std::string_view indent);

} // namespace stemd::cli
