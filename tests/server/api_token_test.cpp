#include "server/api_token.hpp"

#include "tests/support/workspace.hpp"

#include <doctest/doctest.h>

#include <sys/stat.h>

#include <stdexcept>
#include <string>

using stemd::server::load_or_create_api_token;

namespace {

bool is_hex(const std::string& s) {
    return s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

unsigned mode_of(const std::filesystem::path& p) {
    struct stat st {};
    REQUIRE(::stat(p.c_str(), &st) == 0);
    return st.st_mode & 07777;
}

// The message of the runtime_error `load` throws; "" when it does not.
std::string refusal_of(const std::filesystem::path& file) {
    try {
        load_or_create_api_token(file);
    } catch (const std::runtime_error& e) {
        return e.what();
    }
    return {};
}

} // namespace

TEST_CASE("api_token: made once, 64 hex characters, mode 0640, then read back") {
    stemd::test::workspace ws("api-token");
    const auto file = ws / "var" / "api-token";
    const std::string made = load_or_create_api_token(file);
    CHECK(made.size() == 64);
    CHECK(is_hex(made));
    CHECK(stemd::test::read_file(file) == made + "\n");
    CHECK(mode_of(file) == 0640);
    CHECK_FALSE(std::filesystem::exists(file.string() + ".tmp"));
    CHECK(load_or_create_api_token(file) == made);
    CHECK(load_or_create_api_token(ws / "other") != made);
}

TEST_CASE("api_token: a token written by hand is used, trimmed") {
    stemd::test::workspace ws("api-token-own");
    const auto file = ws.write("token", "  my-own-token-of-some-length\r\n");
    CHECK(load_or_create_api_token(file) == "my-own-token-of-some-length");
}

TEST_CASE("api_token: an empty, short or unreadable file stops the start, naming it") {
    stemd::test::workspace ws("api-token-bad");
    const auto empty = ws.write("empty", " \n");
    auto why = refusal_of(empty);
    CHECK(why.find(empty.string()) != std::string::npos);
    CHECK(why.find("is empty") != std::string::npos);
    CHECK(stemd::test::read_file(empty) == " \n"); // never replaced

    const auto short_token = ws.write("short", "abc\n");
    CHECK(refusal_of(short_token).find("at least 16") != std::string::npos);

    const auto two = ws.write("two", "0123456789abcdef 0123456789abcdef\n");
    CHECK(refusal_of(two).find(two.string()) != std::string::npos);

    const auto folder = ws / "folder";
    std::filesystem::create_directories(folder);
    CHECK(refusal_of(folder).find(folder.string()) != std::string::npos);

    if (::geteuid() != 0) { // root reads anything
        const auto locked = ws.write("locked", "0123456789abcdef0123\n");
        std::filesystem::permissions(locked, std::filesystem::perms::none);
        why = refusal_of(locked);
        CHECK(why.find(locked.string()) != std::string::npos);
        CHECK(why.find("cannot read") != std::string::npos);
    }
}
