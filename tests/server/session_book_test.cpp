#include "server/session_book.hpp"

#include <doctest/doctest.h>

#include <vector>
#include <string>

using namespace stemd::server;
using stemd::millis;

namespace {

constexpr millis second = 1000;
constexpr millis hour = 3600 * second;
constexpr millis day = 24 * hour;
constexpr millis t0 = 1'800'000'000'000; // any instant: the book has no clock of its own

} // namespace

TEST_CASE("session_book: a session has a random id and its own CSRF token") {
    session_book book;
    const auto a = book.open(t0);
    const auto b = book.open(t0);
    CHECK(a.id.size() == 64);
    CHECK(a.csrf.size() == 64);
    CHECK(a.id != b.id);
    CHECK(a.csrf != b.csrf);
    CHECK(a.id != a.csrf);
    CHECK(book.csrf_of(a.id, t0) == a.csrf);
    CHECK(book.csrf_of(b.id, t0) == b.csrf);
    CHECK_FALSE(book.csrf_of(a.csrf, t0));
    CHECK_FALSE(book.csrf_of("", t0));
    CHECK_FALSE(book.csrf_of(a.id.substr(0, 63), t0));
    CHECK(book.sessions() == 2);
}

TEST_CASE("session_book: an idle session ends, a used one lives until its lifetime") {
    session_book book({.idle = 12 * hour, .lifetime = 7 * day});
    const auto idle = book.open(t0);
    const auto used = book.open(t0);
    CHECK(book.csrf_of(idle.id, t0 + 12 * hour - 1) == idle.csrf);
    CHECK_FALSE(book.csrf_of(idle.id, t0 + 24 * hour - 1)); // 12 h after its last use
    CHECK_FALSE(book.csrf_of(idle.id, t0));                 // ended for good, not only hidden
    // Used every 11 hours: alive up to, not past, 7 days after it was opened.
    millis t = t0;
    for (; t + 11 * hour < t0 + 7 * day; t += 11 * hour)
        REQUIRE(book.csrf_of(used.id, t + 11 * hour) == used.csrf);
    CHECK_FALSE(book.csrf_of(used.id, t0 + 7 * day));
}

TEST_CASE("session_book: a full book ends the session unused longest") {
    session_book book({.max_sessions = 3});
    const auto a = book.open(t0);
    const auto b = book.open(t0 + 1);
    const auto c = book.open(t0 + 2);
    CHECK(book.csrf_of(a.id, t0 + 3)); // a was used last: b is now unused longest
    const auto d = book.open(t0 + 4);
    CHECK(book.sessions() == 3);
    CHECK_FALSE(book.csrf_of(b.id, t0 + 5));
    CHECK(book.csrf_of(a.id, t0 + 5));
    CHECK(book.csrf_of(c.id, t0 + 5));
    CHECK(book.csrf_of(d.id, t0 + 5));
}

TEST_CASE("session_book: close ends one session, close_all every one") {
    session_book book;
    const auto a = book.open(t0);
    const auto b = book.open(t0);
    CHECK(book.close(a.id));
    CHECK_FALSE(book.close(a.id));
    CHECK_FALSE(book.csrf_of(a.id, t0));
    CHECK(book.csrf_of(b.id, t0));
    book.close_all();
    CHECK_FALSE(book.csrf_of(b.id, t0));
    CHECK(book.sessions() == 0);
}

TEST_CASE("session_book: a one-time code signs in once, within 60 s") {
    session_book book;
    const auto code = book.issue_code(t0);
    CHECK(code.size() == 32);
    CHECK(book.issue_code(t0) != code);
    CHECK(book.redeem_code(code, t0 + 59 * second));
    CHECK_FALSE(book.redeem_code(code, t0 + 59 * second));
    const auto late = book.issue_code(t0);
    CHECK_FALSE(book.redeem_code(late, t0 + 60 * second));
    const auto spent_late = book.issue_code(t0);
    CHECK_FALSE(book.redeem_code(spent_late, t0 + 61 * second));
    CHECK_FALSE(book.redeem_code(spent_late, t0)); // spent by the late try
    CHECK_FALSE(book.redeem_code("", t0));
    CHECK_FALSE(book.redeem_code("not a code", t0));
    CHECK(book.code_lifetime() == 60 * second);
}

TEST_CASE("session_book: waiting codes are bounded, the oldest dropped") {
    session_book book({.max_codes = 4});
    std::vector<std::string> codes;
    for (int i = 0; i < 6; ++i)
        codes.push_back(book.issue_code(t0 + i));
    CHECK_FALSE(book.redeem_code(codes[0], t0 + 10));
    CHECK_FALSE(book.redeem_code(codes[1], t0 + 10));
    for (int i = 2; i < 6; ++i)
        CHECK(book.redeem_code(codes[i], t0 + 10));
}

TEST_CASE("session_book: more than 10 failed sign-ins in a minute are throttled") {
    session_book book;
    for (int i = 0; i < 10; ++i) {
        REQUIRE_FALSE(book.throttled(t0 + i * second));
        book.note_failure(t0 + i * second);
    }
    // The 11th try waits until the first failure is a minute old.
    const auto wait = book.throttled(t0 + 10 * second);
    REQUIRE(wait);
    CHECK(*wait == 50 * second);
    CHECK(book.throttled(t0 + 60 * second - 1) == 1);
    CHECK_FALSE(book.throttled(t0 + 60 * second));
    book.note_failure(t0 + 60 * second); // one more: ten within the minute again
    CHECK(book.throttled(t0 + 60 * second) == 1 * second);
    CHECK_FALSE(book.throttled(t0 + 61 * second));
}
