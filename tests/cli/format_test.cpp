#include "cli/format.hpp"

#include <doctest/doctest.h>

#include <sstream>
#include <string>
#include <vector>

using stemd::cli::cut_columns;
using stemd::cli::display_columns;
using stemd::cli::human_bytes;
using stemd::cli::number_text;
using stemd::cli::print_table;
using stemd::cli::printable;
using stemd::cli::split_list;

TEST_CASE("split_list takes repeated and comma separated items, trimmed, without empties") {
    CHECK(split_list({"a,b", "c"}) == std::vector<std::string>{"a", "b", "c"});
    CHECK(split_list({" vocals , drums\t", ",,bass,"}) ==
          std::vector<std::string>{"vocals", "drums", "bass"});
    CHECK(split_list({"", " , ", ","}).empty());
    CHECK(split_list({}).empty());
}

TEST_CASE("human_bytes gives the exact count and, from 1 KiB, a binary unit") {
    CHECK(human_bytes(0) == "0");
    CHECK(human_bytes(1023) == "1023");
    CHECK(human_bytes(1024) == "1024 (1.0 KiB)");
    CHECK(human_bytes(1536000) == "1536000 (1.5 MiB)");
    CHECK(human_bytes(3ull << 30) == "3221225472 (3.0 GiB)");
    // TiB is the largest unit.
    CHECK(human_bytes(2048ull << 40) == "2251799813685248 (2048.0 TiB)");
}

TEST_CASE("number_text writes numbers the way people do") {
    CHECK(number_text(147.0) == "147");
    CHECK(number_text(0.5) == "0.5");
    CHECK(number_text(-2.25) == "-2.25");
}

TEST_CASE("printable blanks control characters and drops trailing spaces") {
    CHECK(printable("IN_\x1b[31mPROGRESS") == "IN_ [31mPROGRESS");
    CHECK(printable("line\r\nnext") == "line  next");
    CHECK(printable("del\x7f") == "del");
    CHECK(printable("done \t ") == "done");
}

TEST_CASE("printable cuts long text without splitting a UTF-8 character") {
    CHECK(printable("abcdef", 3) == "abc...");
    CHECK(printable("abc", 3) == "abc");
    // "é" is two bytes; a cut inside it drops the whole character.
    CHECK(printable("ab\xc3\xa9z", 3) == "ab...");
    CHECK(printable("ab\xc3\xa9z", 4) == "ab\xc3\xa9...");
}

TEST_CASE("print_table pads every column but the last to its widest cell") {
    std::ostringstream out;
    print_table(out, {{"ID", "STATUS", "FILES"}, {"j_0123", "done", "2/2"}, {"j_1", "failed", ""}},
                "  ");
    CHECK(out.str() == "  ID      STATUS  FILES\n"
                       "  j_0123  done    2/2\n"
                       "  j_1     failed  \n");
}

TEST_CASE("display_columns and cut_columns count code points, not bytes") {
    CHECK(display_columns("") == 0);
    CHECK(display_columns("abc") == 3);
    CHECK(display_columns("caf\xc3\xa9") == 4);
    CHECK(display_columns("\xe2\x99\xaa\xf0\x9f\x8e\xb5") == 2);
    CHECK(cut_columns("caf\xc3\xa9s", 4) == "caf\xc3\xa9");
    CHECK(cut_columns("caf\xc3\xa9s", 3) == "caf");
    CHECK(cut_columns("\xf0\x9f\x8e\xb5x", 1) == "\xf0\x9f\x8e\xb5");
    CHECK(cut_columns("abc", 10) == "abc");
    CHECK(cut_columns("abc", 0) == "");
}

TEST_CASE("print_table aligns cells holding multi-byte characters on their columns") {
    std::ostringstream out;
    print_table(out, {{"NAME", "X"}, {"caf\xc3\xa9", "1"}, {"ab", "2"}}, "");
    CHECK(out.str() == "NAME  X\n"
                       "caf\xc3\xa9  1\n"
                       "ab    2\n");
}
