#include "common/error.hpp"

#include <doctest/doctest.h>

#include <stdexcept>

namespace {

enum class sample { missing = 1, clash, slow };

const boost::system::error_category& sample_category() {
    static const stemd::table_category c(
        "stemd.sample", {{int(sample::missing), "no such thing", stemd::condition::not_found},
                         {int(sample::clash), "belongs to another", stemd::condition::conflict},
                         {int(sample::slow), "too slow", stemd::condition::timeout}});
    return c;
}

boost::system::error_code code(sample s) {
    return {int(s), sample_category()};
}

} // namespace

TEST_CASE("error: a code compares equal to its condition and to no other") {
    const stemd::error e{code(sample::missing), "job j1 not found; check the id"};
    CHECK(e.is(stemd::condition::not_found));
    CHECK(e.code == stemd::condition::not_found);
    CHECK_FALSE(e.is(stemd::condition::conflict));
    CHECK(stemd::error{code(sample::clash), ""}.is(stemd::condition::conflict));
}

TEST_CASE("error: transient conditions are the ones worth trying again") {
    CHECK(stemd::error{code(sample::slow), ""}.transient());
    CHECK_FALSE(stemd::error{code(sample::missing), ""}.transient());
    CHECK_FALSE(stemd::error{code(sample::clash), ""}.transient());
}

TEST_CASE("error: the table gives each code its message and name") {
    CHECK(code(sample::clash).message() == "belongs to another");
    CHECK(std::string(sample_category().name()) == "stemd.sample");
    CHECK(code(sample(42)).message() == "unknown stemd.sample error 42");
    // An unknown value maps to no stemd condition.
    CHECK_FALSE(code(sample(42)) == stemd::condition::not_found);
}

TEST_CASE("error: value() on a failed result throws the message") {
    stemd::result<int> r = stemd::error{code(sample::missing), "job j1 not found"};
    REQUIRE(r.has_error());
    CHECK_THROWS_WITH_AS(r.value(), "job j1 not found", std::runtime_error);
    stemd::result<int> unnamed = stemd::error{code(sample::slow), ""};
    CHECK_THROWS_WITH_AS(unnamed.value(), "too slow", std::runtime_error);
}
