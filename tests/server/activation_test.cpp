#include "server/activation.hpp"

#include <doctest/doctest.h>

using namespace stemd;

TEST_CASE("activation: a passed socket agrees with the listen address that names it") {
    const config::endpoint any4{"0.0.0.0", 8080};
    const config::endpoint any6{"::", 8080};
    const config::endpoint loop{"127.0.0.1", 8081};
    CHECK(server::same_listener(any4, "0.0.0.0:8080"));
    // ListenStream=8080 binds [::]:8080, which takes IPv4 as well.
    CHECK(server::same_listener(any4, "[::]:8080"));
    CHECK(server::same_listener(any6, "0.0.0.0:8080"));
    CHECK(server::same_listener(any6, "[::]:8080"));
    CHECK(server::same_listener(loop, "127.0.0.1:8081"));

    CHECK_FALSE(server::same_listener(any4, "[::]:9090"));
    CHECK_FALSE(server::same_listener(any4, "127.0.0.1:8080"));
    CHECK_FALSE(server::same_listener(loop, "[::]:8081"));
    CHECK_FALSE(server::same_listener(loop, "0.0.0.0:8081"));
}
