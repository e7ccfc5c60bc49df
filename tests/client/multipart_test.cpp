#include "client/multipart.hpp"

#include "client/error.hpp"
#include "common/posix_file.hpp"
#include "tests/support/workspace.hpp"

#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

namespace fs = std::filesystem;
using stemd::client::multipart_form;

namespace {

using stemd::test::append_file;
using stemd::test::workspace;
using stemd::test::write_file;

// Every piece the reader produces, in order, up to the empty end marker.
std::vector<std::string> all_pieces(const multipart_form& form) {
    multipart_form::reader reader(form);
    std::vector<std::string> pieces;
    for (;;) {
        auto piece = reader.next();
        REQUIRE(piece.has_value());
        if (piece->empty()) {
            break;
        }
        pieces.emplace_back(piece->begin(), piece->end());
    }
    return pieces;
}

std::string joined(const std::vector<std::string>& pieces) {
    std::string all;
    for (const auto& p : pieces) {
        all += p;
    }
    return all;
}

// Reads until the reader fails; the test fails if it never does.
stemd::error first_failure(multipart_form::reader& reader) {
    for (int i = 0; i < 1000; ++i) {
        auto piece = reader.next();
        if (!piece) {
            return piece.error();
        }
        REQUIRE_FALSE(piece->empty());
    }
    FAIL("the reader never failed");
    return {};
}

} // namespace

TEST_CASE("multipart form: exact bytes of fields and a file") {
    workspace dir("multipart");
    const fs::path file = dir.path() / "take \"one\".mp3";
    write_file(file, "ID3\x01\r\n");

    multipart_form form("XyZ");
    form.add_field("stems", R"(["vocals","drums"])");
    form.add_field("webhook_url", "");
    form.add_file("audio_file", file, "audio/mpeg");

    const std::string expected = "--XyZ\r\n"
                                 "Content-Disposition: form-data; name=\"stems\"\r\n"
                                 "\r\n"
                                 "[\"vocals\",\"drums\"]\r\n"
                                 "--XyZ\r\n"
                                 "Content-Disposition: form-data; name=\"webhook_url\"\r\n"
                                 "\r\n"
                                 "\r\n"
                                 "--XyZ\r\n"
                                 "Content-Disposition: form-data; name=\"audio_file\"; "
                                 "filename=\"take _one_.mp3\"\r\n"
                                 "Content-Type: audio/mpeg\r\n"
                                 "\r\n"
                                 "ID3\x01\r\n"
                                 "\r\n"
                                 "--XyZ--\r\n";
    const std::string body = joined(all_pieces(form));
    CHECK(body == expected);
    CHECK(form.content_type() == "multipart/form-data; boundary=XyZ");

    auto length = form.content_length();
    REQUIRE(length.has_value());
    CHECK(*length == body.size());
}

TEST_CASE("multipart form: an empty form is only the closing delimiter") {
    multipart_form form("b");
    CHECK(joined(all_pieces(form)) == "--b--\r\n");
    CHECK(form.content_length().value() == 7);
}

TEST_CASE("multipart form: the reader keeps answering empty after the end") {
    multipart_form form("b");
    form.add_field("a", "1");
    multipart_form::reader reader(form);
    while (!reader.next().value().empty()) {
    }
    CHECK(reader.next().value().empty());
}

TEST_CASE("multipart form: random boundaries are stemd- and 32 hex digits, and differ") {
    const std::string prefix = "multipart/form-data; boundary=";
    const std::string a = multipart_form().content_type().substr(prefix.size());
    const std::string b = multipart_form().content_type().substr(prefix.size());
    CHECK(a != b);
    for (const auto& boundary : {a, b}) {
        REQUIRE(boundary.size() == 6 + 32);
        CHECK(boundary.starts_with("stemd-"));
        CHECK(boundary.find_first_not_of("0123456789abcdef", 6) == std::string::npos);
    }
}

TEST_CASE("multipart form: a large file is streamed in pieces of at most 64 KiB") {
    workspace dir("multipart");
    const fs::path file = dir.path() / "big.wav";
    std::string content(1024 * 1024 + 3, '\0');
    for (std::size_t i = 0; i < content.size(); ++i) {
        content[i] = static_cast<char>((i * 131 + i / 7) % 251);
    }
    write_file(file, content);

    multipart_form form("bnd");
    form.add_file("audio_file", file, "audio/wav");
    const auto pieces = all_pieces(form);

    CHECK(pieces.size() >= 17); // 1 MiB + 3 bytes do not fit in fewer pieces of 64 KiB
    for (const auto& p : pieces) {
        CHECK(p.size() <= 64 * 1024);
    }
    const std::string head = "--bnd\r\nContent-Disposition: form-data; name=\"audio_file\"; "
                             "filename=\"big.wav\"\r\nContent-Type: audio/wav\r\n\r\n";
    const std::string body = joined(pieces);
    CHECK(body == head + content + "\r\n--bnd--\r\n");
    CHECK(form.content_length().value() == body.size());
}

TEST_CASE("multipart form: a missing file is a file_io problem naming it") {
    workspace dir("multipart");
    const fs::path file = dir.path() / "absent.mp3";
    multipart_form form("b");
    form.add_field("a", "1");
    form.add_file("audio_file", file, "audio/mpeg");

    auto length = form.content_length();
    REQUIRE_FALSE(length.has_value());
    CHECK(length.error().code == stemd::client::error::file_io);
    CHECK(length.error().message.find(file.string()) != std::string::npos);

    multipart_form::reader reader(form);
    auto problem = first_failure(reader);
    CHECK(problem.code == stemd::client::error::file_io);
    CHECK(problem.message.find(file.string()) != std::string::npos);
}

TEST_CASE("multipart form: a file whose size changed after content_length is refused") {
    workspace dir("multipart");
    const fs::path file = dir.path() / "song.flac";
    write_file(file, std::string(1000, 'a'));
    multipart_form form("b");
    form.add_file("audio_file", file, "audio/flac");
    REQUIRE(form.content_length().has_value());

    SUBCASE("grown before reading") {
        append_file(file, "more");
    }
    SUBCASE("shrunk before reading") {
        write_file(file, std::string(999, 'a'));
    }
    // Noticed when the file is opened, before any of its bytes go out.
    multipart_form::reader reader(form);
    REQUIRE(reader.next().value().size() > 0); // the part head
    auto piece = reader.next();
    REQUIRE_FALSE(piece.has_value());
    CHECK(piece.error().code == stemd::client::error::file_io);
    CHECK(piece.error().message.find(file.string()) != std::string::npos);
}

TEST_CASE("multipart form: a file that grows while it is read is refused") {
    workspace dir("multipart");
    const fs::path file = dir.path() / "song.ogg";
    write_file(file, std::string(100, 'a'));
    multipart_form form("b");
    form.add_file("audio_file", file, "audio/ogg");
    REQUIRE(form.content_length().has_value());

    multipart_form::reader reader(form);
    REQUIRE(reader.next().value().size() > 0);    // the part head
    REQUIRE(reader.next().value().size() == 100); // the whole file
    append_file(file, "late bytes");
    auto piece = reader.next();
    REQUIRE_FALSE(piece.has_value());
    CHECK(piece.error().code == stemd::client::error::file_io);
}

TEST_CASE("multipart form: a slice of a borrowed descriptor is sent, whatever its offset") {
    workspace dir("multipart");
    const fs::path file = dir.path() / "spool";
    write_file(file, "HEADERaudio-bytesTRAILER");
    stemd::unique_fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
    REQUIRE(fd);
    REQUIRE(::lseek(fd.get(), 3, SEEK_SET) == 3); // pread ignores the offset
    multipart_form form("bnd");
    form.add_file("audio_file", fd.get(), 6, 11, "song.mp3", "audio/mpeg");
    const std::string body = joined(all_pieces(form));
    CHECK(body == "--bnd\r\nContent-Disposition: form-data; name=\"audio_file\"; "
                  "filename=\"song.mp3\"\r\nContent-Type: audio/mpeg\r\n\r\naudio-bytes\r\n"
                  "--bnd--\r\n");
    CHECK(form.content_length().value() == body.size());
    CHECK(fd); // still the caller's
}

TEST_CASE("multipart form: a slice past the end of its file is a file_io problem") {
    workspace dir("multipart");
    const fs::path file = dir.path() / "short";
    write_file(file, "abc");
    stemd::unique_fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
    multipart_form form("b");
    form.add_file("audio_file", fd.get(), 0, 10, "x.wav", "audio/wav");
    multipart_form::reader reader(form);
    for (int i = 0; i < 10; ++i) {
        auto piece = reader.next();
        if (!piece) {
            CHECK(piece.error().code == stemd::client::error::file_io);
            return;
        }
        REQUIRE_FALSE(piece->empty());
    }
    FAIL("the short file was not noticed");
}
