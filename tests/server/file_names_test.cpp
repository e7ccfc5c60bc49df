#include "server/file_names.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using stemd::server::extension_from_content_type;
using stemd::server::extension_from_url;
using stemd::server::safe_dir;
using stemd::server::safe_name;

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

TEST_CASE("safe_dir applies the same rules to task ids") {
    CHECK(safe_dir("7b0f2e4c-1234-4d9e-a1b2-0c0ffee00000") ==
          "7b0f2e4c-1234-4d9e-a1b2-0c0ffee00000");
    CHECK(safe_dir("../x") == "_x");
    CHECK(safe_dir("..") == "file");
    CHECK(safe_dir(std::string(80, 'a')).size() == 64);
}

TEST_CASE("extension_from_url reads the last path segment only") {
    CHECK(extension_from_url("https://cdn1.musicgpt.com/conversions/abc_vocals.mp3") == "mp3");
    CHECK(extension_from_url("https://cdn1.wav.com/x/y/z.flac") == "flac");
    CHECK(extension_from_url("https://h/a.tar.ogg") == "ogg");
    CHECK(extension_from_url("https://h/dir.mp3/file") == "");
    CHECK(extension_from_url("https://h/dir.mp3/") == "");
    CHECK(extension_from_url("https://h/noext") == "");
    CHECK(extension_from_url("https://h/.mp3") == "");
    CHECK(extension_from_url("/local/path/x.wav") == "wav");
    CHECK(extension_from_url("") == "");
}

TEST_CASE("extension_from_url ignores the host, the query string and the fragment") {
    CHECK(extension_from_url("https://cdn.example.mp3") == "");
    CHECK(extension_from_url("https://cdn.example.mp3?x=1") == "");
    CHECK(extension_from_url("https://h/a.mp3?sig=abc.wav&x=y.flac") == "mp3");
    CHECK(extension_from_url("https://h/a?file=b.mp3") == "");
    CHECK(extension_from_url("https://h/a.wav#part.mp3") == "wav");
    CHECK(extension_from_url("https://h/a#x/b.mp3") == "");
    CHECK(extension_from_url("https://h?q=/a.mp3") == "");
}

TEST_CASE("extension_from_url lowercases and accepts only audio extensions") {
    CHECK(extension_from_url("https://h/A.MP3") == "mp3");
    CHECK(extension_from_url("HTTPS://H/A.Wav?X=Y") == "wav");
    for (const std::string ext : {"mp3", "wav", "flac", "ogg", "oga", "opus", "m4a", "aac", "aiff",
                                  "aif", "webm", "mp4", "wma"}) {
        CAPTURE(ext);
        CHECK(extension_from_url("https://h/stem." + ext) == ext);
    }
    for (const std::string ext : {"txt", "html", "sh", "exe", "mp", "mp33", "json"}) {
        CAPTURE(ext);
        CHECK(extension_from_url("https://h/stem." + ext) == "");
    }
}

TEST_CASE("extension_from_content_type maps audio media types") {
    CHECK(extension_from_content_type("audio/mpeg") == "mp3");
    CHECK(extension_from_content_type("audio/mp3") == "mp3");
    for (const auto* wav : {"audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave"}) {
        CAPTURE(wav);
        CHECK(extension_from_content_type(wav) == "wav");
    }
    CHECK(extension_from_content_type("audio/flac") == "flac");
    CHECK(extension_from_content_type("audio/x-flac") == "flac");
    CHECK(extension_from_content_type("audio/ogg") == "ogg");
    CHECK(extension_from_content_type("audio/opus") == "opus");
    CHECK(extension_from_content_type("audio/aac") == "aac");
    CHECK(extension_from_content_type("audio/mp4") == "m4a");
    CHECK(extension_from_content_type("audio/x-m4a") == "m4a");
    CHECK(extension_from_content_type("audio/aiff") == "aiff");
    CHECK(extension_from_content_type("audio/x-aiff") == "aiff");
    CHECK(extension_from_content_type("audio/webm") == "webm");
}

TEST_CASE("extension_from_content_type ignores case, spaces and parameters") {
    CHECK(extension_from_content_type("Audio/MPEG") == "mp3");
    CHECK(extension_from_content_type("audio/mpeg; charset=binary") == "mp3");
    CHECK(extension_from_content_type(" audio/x-wav ;codecs=1") == "wav");
    CHECK(extension_from_content_type("AUDIO/FLAC;") == "flac");
}

TEST_CASE("extension_from_content_type answers empty for anything else") {
    CHECK(extension_from_content_type("") == "");
    CHECK(extension_from_content_type("text/html") == "");
    CHECK(extension_from_content_type("application/octet-stream") == "");
    CHECK(extension_from_content_type("audio/mpegx") == "");
    CHECK(extension_from_content_type("audio/") == "");
    CHECK(extension_from_content_type("xaudio/mpeg") == "");
}
