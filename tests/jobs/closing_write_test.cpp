#include "jobs/closing_write.hpp"

#include "storage/error.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <optional>
#include <string>
#include <vector>

using namespace stemd;
using namespace std::chrono_literals;
namespace net = boost::asio;

namespace {

// What close_claim made of a write answering `answers` in turn (the last
// one again once they run out); `stop_at` sets the stopping flag from
// within that try (0: never).
struct outcome {
    std::optional<result<void>> last;
    int tries = 0;
    std::chrono::steady_clock::duration took{};
};

outcome close_with(std::vector<result<void>> answers, int stop_at = 0) {
    net::io_context io;
    outcome out;
    bool stopping = false;
    const auto write = [&]() -> result<void> {
        const auto i = static_cast<std::size_t>(out.tries);
        ++out.tries;
        if (out.tries == stop_at)
            stopping = true;
        return answers[std::min(i, answers.size() - 1)];
    };
    const std::string job = "job-1";
    const std::string what = "end the test's claim";
    const auto started = std::chrono::steady_clock::now();
    net::co_spawn(io, jobs::close_claim(write, stopping, job, what),
                  [&](std::exception_ptr e, result<void> r) {
                      CHECK_FALSE(e);
                      out.last = std::move(r);
                  });
    io.run();
    out.took = std::chrono::steady_clock::now() - started;
    return out;
}

result<void> down() {
    return storage::make_error(storage::error::unavailable,
                               "PostgreSQL at db.example:5432/stemd cannot be reached now");
}

result<void> fine() {
    return {};
}

} // namespace

TEST_CASE("close_claim: a store down is tried again, 0.5 s then doubling, until it answers") {
    const auto o = close_with({down(), down(), fine()});
    REQUIRE(o.last.has_value());
    CHECK(o.last->has_value());
    CHECK(o.tries == 3);
    CHECK(o.took >= 1'400ms); // 0.5 s, then 1 s
    CHECK(o.took < 5s);
}

TEST_CASE("close_claim: any other failure ends it at once, as a success does") {
    const auto refused = close_with(
        {storage::make_error(storage::error::postgres, "PostgreSQL refused the statement")});
    REQUIRE(refused.last.has_value());
    REQUIRE_FALSE(refused.last->has_value());
    CHECK(refused.last->error().code == storage::error::postgres);
    CHECK(refused.tries == 1);

    const auto done = close_with({fine()});
    REQUIRE(done.last.has_value());
    CHECK(done.last->has_value());
    CHECK(done.tries == 1);
    CHECK(done.took < 400ms);
}

TEST_CASE("close_claim: a retry refused because the cut-off commit was recorded ends it") {
    const auto o = close_with(
        {down(), storage::make_error(storage::error::claim_lost, "file 1 is not claimed by a")});
    REQUIRE(o.last.has_value());
    REQUIRE_FALSE(o.last->has_value());
    CHECK(o.last->error().code == storage::error::claim_lost);
    CHECK(o.tries == 2);
}

TEST_CASE("close_claim: stopping ends the tries with the store still down") {
    const auto o = close_with({down()}, 1);
    REQUIRE(o.last.has_value());
    REQUIRE_FALSE(o.last->has_value());
    CHECK(o.last->error().is(condition::unavailable));
    CHECK(o.tries == 1);
}
