#include "client/address_guard.hpp"

#include <doctest/doctest.h>

#include <string>

using stemd::client::forbidden_reason;

namespace {

std::string reason(const char* text) {
    return std::string(forbidden_reason(boost::asio::ip::make_address(text)));
}

} // namespace

TEST_CASE("address_guard: public addresses pass") {
    for (const char* a : {"8.8.8.8", "1.1.1.1", "93.184.216.34", "223.255.255.255",
                          "2606:4700::1111", "2001:4860:4860::8888", "2a00:1450:4001:80b::200e"}) {
        CAPTURE(a);
        CHECK(reason(a).empty());
    }
}

TEST_CASE("address_guard: IPv4 ranges and their edges") {
    struct row {
        const char* address;
        const char* expected;
    };
    const row rows[] = {
        {"0.0.0.0", "unspecified"},
        {"0.255.255.255", "unspecified"},
        {"1.0.0.0", ""},
        {"9.255.255.255", ""},
        {"10.0.0.0", "private"},
        {"10.255.255.255", "private"},
        {"11.0.0.0", ""},
        {"100.63.255.255", ""},
        {"100.64.0.1", "cgnat"},
        {"100.127.255.255", "cgnat"},
        {"100.128.0.0", ""},
        {"126.255.255.255", ""},
        {"127.0.0.1", "loopback"},
        {"127.255.255.254", "loopback"},
        {"128.0.0.0", ""},
        {"169.253.255.255", ""},
        {"169.254.0.0", "link-local"},
        {"169.254.169.254", "link-local"},
        {"169.255.0.0", ""},
        {"172.15.255.255", ""},
        {"172.16.0.0", "private"},
        {"172.31.255.255", "private"},
        {"172.32.0.0", ""},
        {"191.255.255.255", ""},
        {"192.0.0.0", "ietf-protocol"},
        {"192.0.0.255", "ietf-protocol"},
        {"192.0.1.0", ""},
        {"192.0.2.0", "documentation"},
        {"192.0.2.255", "documentation"},
        {"192.0.3.0", ""},
        {"192.167.255.255", ""},
        {"192.168.0.0", "private"},
        {"192.168.255.255", "private"},
        {"192.169.0.0", ""},
        {"198.17.255.255", ""},
        {"198.18.0.0", "benchmarking"},
        {"198.19.255.255", "benchmarking"},
        {"198.20.0.0", ""},
        {"198.51.99.255", ""},
        {"198.51.100.0", "documentation"},
        {"198.51.100.255", "documentation"},
        {"198.51.101.0", ""},
        {"203.0.112.255", ""},
        {"203.0.113.0", "documentation"},
        {"203.0.113.255", "documentation"},
        {"203.0.114.0", ""},
        {"223.255.255.255", ""},
        {"224.0.0.0", "multicast"},
        {"239.255.255.255", "multicast"},
        {"240.0.0.0", "reserved"},
        {"254.255.255.255", "reserved"},
        {"255.255.255.254", "reserved"},
        {"255.255.255.255", "broadcast"},
    };
    for (const auto& r : rows) {
        CAPTURE(r.address);
        CHECK(reason(r.address) == r.expected);
    }
}

TEST_CASE("address_guard: IPv6 ranges and their edges") {
    struct row {
        const char* address;
        const char* expected;
    };
    const row rows[] = {
        {"::", "unspecified"},
        {"::1", "loopback"},
        {"fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "reserved"},
        {"fc00::", "private"},
        {"fd12:3456:789a::1", "private"},
        {"fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "private"},
        {"fe80::", "link-local"},
        {"febf:ffff::1", "link-local"},
        {"fec0::", "site-local"},
        {"feff:ffff::1", "site-local"},
        {"ff00::", "multicast"},
        {"ff02::1", "multicast"},
        {"2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", ""},
        {"2001:db8::", "documentation"},
        {"2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "documentation"},
        {"2001:db9::", ""},
        {"2001:2::1", "benchmarking"},
        {"100::1", "reserved"},
        {"1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "reserved"},
        {"2000::", ""},
        {"3fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", ""},
        {"4000::1", "reserved"},
        {"64:ff9b:1::1", "private"},
    };
    for (const auto& r : rows) {
        CAPTURE(r.address);
        CHECK(reason(r.address) == r.expected);
    }
}

TEST_CASE("address_guard: IPv4 inside IPv6 is judged as the IPv4 address") {
    struct row {
        const char* address;
        const char* expected;
    };
    const row rows[] = {
        // IPv4-mapped
        {"::ffff:127.0.0.1", "loopback"},
        {"::ffff:10.1.2.3", "private"},
        {"::ffff:169.254.169.254", "link-local"},
        {"::ffff:100.64.0.1", "cgnat"},
        {"::ffff:0.0.0.0", "unspecified"},
        {"::ffff:8.8.8.8", ""},
        {"::ffff:7f00:1", "loopback"},
        // IPv4-compatible
        {"::127.0.0.1", "loopback"},
        {"::192.168.1.1", "private"},
        {"::0.0.0.2", "unspecified"},
        {"::8.8.8.8", ""},
        // NAT64 well-known prefix
        {"64:ff9b::127.0.0.1", "loopback"},
        {"64:ff9b::a00:1", "private"},
        {"64:ff9b::8.8.8.8", ""},
        // 6to4 carries the IPv4 address in bits 16..47
        {"2002:7f00:1::", "loopback"},
        {"2002:c0a8:101::1", "private"},
        {"2002:a9fe:a9fe::", "link-local"},
        {"2002:808:808::1", ""},
    };
    for (const auto& r : rows) {
        CAPTURE(r.address);
        CHECK(reason(r.address) == r.expected);
    }
}
