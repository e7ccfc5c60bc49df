// The test support's own promises where the integration tests lean on them.

#include "support/ports.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <set>
#include <vector>

using namespace stemd::test;

TEST_CASE("reserved ports are outside the ephemeral range, bindable, and never given twice") {
    int low = 32768, high = 60999;
    std::ifstream("/proc/sys/net/ipv4/ip_local_port_range") >> low >> high;

    // 400 draws from 10,000 ports would repeat one almost surely (p > 0.999)
    // without the lock, which is what keeps concurrent tests apart.
    std::vector<std::unique_ptr<reserved_port>> held;
    std::set<int> numbers;
    for (int i = 0; i < 400; ++i) {
        held.push_back(std::make_unique<reserved_port>());
        const int port = held.back()->number();
        CHECK((port < low || port > high));
        CHECK(numbers.insert(port).second);
    }

    int sock = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(sock >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<std::uint16_t>(held.front()->number()));
    CHECK(::bind(sock, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    ::close(sock);
}
