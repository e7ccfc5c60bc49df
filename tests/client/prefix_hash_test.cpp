#include "client/prefix_hash.hpp"

#include "common/crypto.hpp"
#include "tests/client/download_support.hpp"
#include "tests/support/workspace.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <doctest/doctest.h>

#include <fcntl.h>

#include <chrono>
#include <optional>

namespace net = boost::asio;
using stemd::test::workspace;
using stemd::test::write_file;

TEST_CASE("hash_prefix_on_worker: a wait cancelled from outside answers an error") {
    // OpenSSL starts on first use and keeps some state per thread; started on
    // the worker (which lives until exit) that state is reported as leaked.
    // The daemon starts it on the main thread (its TLS contexts), so does this.
    const stemd::sha256 started;
    workspace dir("prefix-hash-test");
    write_file(dir.path() / "v.part", "abc");
    stemd::unique_fd fd(::open((dir.path() / "v.part").c_str(), O_RDONLY | O_CLOEXEC));
    REQUIRE(static_cast<bool>(fd));

    // The worker is held until the cancel is through: the wait ends first,
    // with no outcome there yet.
    stemd::client::testing::hash_gate gate;
    net::io_context ioc;
    net::cancellation_signal cancel;
    std::optional<stemd::result<stemd::sha256>> got;
    const auto done = [&](std::exception_ptr e, stemd::result<stemd::sha256> r) {
        if (e)
            std::rethrow_exception(e);
        got = std::move(r);
    };
    net::co_spawn(ioc,
                  stemd::client::hash_prefix_on_worker(std::move(fd), 3, dir.path() / "v.part"),
                  net::bind_cancellation_slot(cancel.slot(), done));
    ioc.poll();
    REQUIRE(gate.wait_started());
    cancel.emit(net::cancellation_type::terminal);
    ioc.run_for(std::chrono::seconds(10));
    gate.release();
    // The one worker takes hashes in turn: once a second one is answered
    // the first is over, and nothing of it runs on while the process exits
    // (OpenSSL's exit-time cleanup under a running hash crashes).
    stemd::unique_fd again(::open((dir.path() / "v.part").c_str(), O_RDONLY | O_CLOEXEC));
    REQUIRE(static_cast<bool>(again));
    net::io_context after;
    std::optional<stemd::result<stemd::sha256>> second;
    net::co_spawn(after,
                  stemd::client::hash_prefix_on_worker(std::move(again), 3, dir.path() / "v.part"),
                  [&](std::exception_ptr e, stemd::result<stemd::sha256> r) {
                      if (e)
                          std::rethrow_exception(e);
                      second = std::move(r);
                  });
    after.run_for(std::chrono::seconds(10));
    REQUIRE(second.has_value());
    CHECK(second->value().finish_hex() == stemd::sha256_hex("abc"));
    REQUIRE(got.has_value());
    REQUIRE_FALSE(got->has_value());
    CHECK(got->error().message.find("cancelled") != std::string::npos);
}
