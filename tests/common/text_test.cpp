#include "common/text.hpp"

#include <doctest/doctest.h>

using namespace stemd;

TEST_CASE("text: trim removes spaces and tabs at both ends only") {
    CHECK(trim("  a b\t") == "a b");
    CHECK(trim("\t\t") == "");
    CHECK(trim("") == "");
    CHECK(trim("x") == "x");
    CHECK(trim(" \nx\n ") == "\nx\n");
    CHECK(trim(" key\r\n", " \t\r\n") == "key");
}

TEST_CASE("text: iequals ignores ASCII case and nothing else") {
    CHECK(iequals("Content-Type", "content-type"));
    CHECK_FALSE(iequals("Content-Type", "Content-Typ"));
    CHECK_FALSE(iequals("a", "b"));
    CHECK(iequals("", ""));
    CHECK_FALSE(iequals("\xc3\x89", "\xc3\xa9")); // É and é are not ASCII
}

TEST_CASE("text: lowercase and join") {
    CHECK(lowercase("Audio/MPEG") == "audio/mpeg");
    CHECK(join({"a", "b", "c"}, ", ") == "a, b, c");
    CHECK(join({}, ",") == "");
    CHECK(join({"only"}, ",") == "only");
}

TEST_CASE("text: percent_encode keeps the unreserved set and encodes the rest") {
    CHECK(percent_encode("AZaz09-._~") == "AZaz09-._~");
    CHECK(percent_encode("a b&c=d/e") == "a%20b%26c%3Dd%2Fe");
    CHECK(percent_encode("\xff") == "%FF");
    CHECK(percent_encode("") == "");
}

TEST_CASE("text: escape_control leaves one event on one line") {
    CHECK(escape_control("plain text, ünïcode") == "plain text, ünïcode");
    CHECK(escape_control("a\nb\rc") == "a\\x0Ab\\x0Dc");
    CHECK(escape_control(std::string_view("\0\x1b[31m\x7f", 7)) == "\\x00\\x1B[31m\\x7F");
}
