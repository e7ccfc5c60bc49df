#include "storage/error.hpp"

#include <doctest/doctest.h>

#include <string>

namespace storage = stemd::storage;
using stemd::condition;

TEST_CASE("error: storage errors have their own category") {
    const boost::system::error_code ec = storage::error::conflict;
    CHECK(std::string(ec.category().name()) == "stemd.storage");
    CHECK(ec.message().find("another job") != std::string::npos);
    CHECK(ec != boost::system::error_code(storage::error::not_found));
}

TEST_CASE("error: each storage error belongs to one condition") {
    const auto is = [](storage::error e, condition c) {
        return boost::system::error_code(e) == c;
    };
    CHECK(is(storage::error::not_found, condition::not_found));
    CHECK(is(storage::error::invalid_transition, condition::conflict));
    CHECK(is(storage::error::conflict, condition::conflict));
    CHECK(is(storage::error::claim_lost, condition::conflict));
    CHECK(is(storage::error::newer_schema, condition::conflict));
    CHECK(is(storage::error::sqlite, condition::io));
    CHECK_FALSE(is(storage::error::sqlite, condition::conflict));

    const auto e = storage::make_error(storage::error::claim_lost, "file 3 was taken over");
    CHECK(e.is(condition::conflict));
    CHECK_FALSE(e.transient());
    CHECK(e.message == "file 3 was taken over");
    CHECK(storage::make_error(storage::error::sqlite, "disk I/O error").transient());
}
