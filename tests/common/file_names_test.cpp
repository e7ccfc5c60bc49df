#include "common/file_names.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using stemd::safe_dir;
using stemd::safe_name;

namespace {

// What every result of safe_name must be, whatever went in.
void check_is_one_safe_component(const std::string& name) {
    CAPTURE(name);
    CHECK_FALSE(name.empty());
    CHECK(name.size() <= 64);
    CHECK(name != ".");
    CHECK(name != "..");
    CHECK(name.front() != '.');
    for (const char c : name) {
        const bool kept = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                          (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
        CHECK(kept);
    }
}

} // namespace

TEST_CASE("safe_name keeps ordinary stem names as they are") {
    CHECK(safe_name("vocals") == "vocals");
    CHECK(safe_name("back_vocal") == "back_vocal");
    CHECK(safe_name("Lead-Vocal.v2") == "Lead-Vocal.v2");
    CHECK(safe_name("0123456789") == "0123456789");
}

TEST_CASE("safe_name turns path separators and traversal into a single harmless component") {
    CHECK(safe_name("../../etc/passwd") == "_.._etc_passwd");
    CHECK(safe_name("a/b") == "a_b");
    CHECK(safe_name("a\\b") == "a_b");
    CHECK(safe_name("/etc/passwd") == "_etc_passwd");
    CHECK(safe_name("C:\\x") == "C__x");
}

TEST_CASE("safe_name replaces control characters, NUL and spaces") {
    CHECK(safe_name("\x01") == "_");
    CHECK(safe_name(std::string("a\0b", 3)) == "a_b");
    CHECK(safe_name("lead vocal") == "lead_vocal");
    CHECK(safe_name("tab\there") == "tab_here");
    CHECK(safe_name("x\x7f") == "x_");
}

TEST_CASE("safe_name removes leading dots and never yields an empty, '.' or '..' name") {
    CHECK(safe_name(".hidden") == "hidden");
    CHECK(safe_name("...x") == "x");
    CHECK(safe_name("a..b.") == "a..b.");
    CHECK(safe_name(".") == "file");
    CHECK(safe_name("..") == "file");
    CHECK(safe_name("...") == "file");
    CHECK(safe_name("") == "file");
}

TEST_CASE("safe_name cuts long names to 64 bytes") {
    CHECK(safe_name(std::string(200, 'x')) == std::string(64, 'x'));
    CHECK(safe_name(std::string(64, 'y')) == std::string(64, 'y'));
    CHECK(safe_name(std::string(65, 'y')) == std::string(64, 'y'));
    // The dots go first, so the cut keeps 64 real characters.
    CHECK(safe_name(std::string(10, '.') + std::string(70, 'z')) == std::string(64, 'z'));
}

TEST_CASE("safe_name replaces each non-ASCII character by one underscore") {
    CHECK(safe_name("caf\xc3\xa9") == "caf_");       // é: two bytes
    CHECK(safe_name("\xe6\xad\x8c") == "_");         // 歌: three bytes
    CHECK(safe_name("\xf0\x9f\x8e\xb5 x") == "__x"); // 🎵 then a space
    CHECK(safe_name("\xff\xfe") == "__");            // not UTF-8 at all
    std::string many_accents;
    for (int i = 0; i < 100; ++i) {
        many_accents += "\xc3\xa9";
    }
    CHECK(safe_name(many_accents) == std::string(64, '_'));
}

TEST_CASE("safe_name output is always one safe path component") {
    const std::vector<std::string> hostile{
        "../../etc/passwd",
        "a/b",
        "\x01",
        ".hidden",
        "..",
        ".",
        "",
        "/",
        "\\",
        std::string(1000, '/'),
        std::string(300, '.') + "/x",
        std::string("\0", 1),
        "\xc3\xa9\xc3",
        "con",
        "nul:",
        "\r\n",
        std::string(500, 'k'),
    };
    for (const auto& raw : hostile) {
        CAPTURE(raw);
        check_is_one_safe_component(safe_name(raw));
        check_is_one_safe_component(safe_dir(raw));
    }
}

TEST_CASE("safe_dir keeps a safe lower-case task id as it is") {
    CHECK(safe_dir("7b0f2e4c-1234-4d9e-a1b2-0c0ffee00000") ==
          "7b0f2e4c-1234-4d9e-a1b2-0c0ffee00000");
    CHECK(safe_dir("task-1") == "task-1");
    CHECK(safe_dir("a_b") == "a_b");
}

TEST_CASE("safe_dir encodes any other id with a hash of the raw id") {
    const std::string dir = safe_dir("../x");
    CHECK(dir.rfind("_x_h", 0) == 0);
    CHECK(dir.size() == 4 + 16);
    CHECK(safe_dir("..").rfind("file_h", 0) == 0);
    CHECK(safe_dir(std::string(80, 'a')).size() == 64);
    CHECK(safe_dir(std::string(80, 'a')) != safe_dir(std::string(81, 'a')));
    CHECK(safe_dir("../x") == dir); // the same id, the same folder, every time
}

TEST_CASE("safe_dir: two task ids never share a folder") {
    // Each pair shared one folder when safe_dir was safe_name.
    const std::vector<std::pair<std::string, std::string>> pairs{
        {".T", "T"},    {"a/b", "a_b"},
        {"a b", "a_b"}, {"..", "file"},
        {"", "file"},   {"caf\xc3\xa9", "caf_"},
        {"A", "a"},     {std::string(64, 'z'), std::string(65, 'z')},
    };
    for (const auto& [one, other] : pairs) {
        CAPTURE(one);
        CAPTURE(other);
        CHECK(safe_dir(one) != safe_dir(other));
    }
    // An id shaped like an encoded one is encoded too, so it cannot take
    // the folder of the id it imitates.
    const std::string encoded = safe_dir("a/b");
    CHECK(safe_dir(encoded) != encoded);
}
