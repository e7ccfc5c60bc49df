#include "client/address_guard.hpp"

#include <array>
#include <cstdint>

namespace stemd::client {

namespace {

using std::uint32_t;

struct v4_range {
    uint32_t base;
    int prefix;
    std::string_view reason;
};

constexpr uint32_t v4(unsigned a, unsigned b, unsigned c, unsigned d) noexcept {
    return (a << 24) | (b << 16) | (c << 8) | d;
}

constexpr bool in_v4(uint32_t addr, uint32_t base, int prefix) noexcept {
    const uint32_t mask = prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix);
    return (addr & mask) == (base & mask);
}

// The special-purpose ranges of RFC 6890 and its updates that must never be
// fetched from; the more specific entries come before the ones they sit in.
constexpr std::array v4_forbidden{
    v4_range{v4(0, 0, 0, 0), 8, "unspecified"},
    v4_range{v4(10, 0, 0, 0), 8, "private"},
    v4_range{v4(100, 64, 0, 0), 10, "cgnat"},
    v4_range{v4(127, 0, 0, 0), 8, "loopback"},
    v4_range{v4(169, 254, 0, 0), 16, "link-local"},
    v4_range{v4(172, 16, 0, 0), 12, "private"},
    v4_range{v4(192, 0, 0, 0), 24, "ietf-protocol"},
    v4_range{v4(192, 0, 2, 0), 24, "documentation"},
    v4_range{v4(192, 168, 0, 0), 16, "private"},
    v4_range{v4(198, 18, 0, 0), 15, "benchmarking"},
    v4_range{v4(198, 51, 100, 0), 24, "documentation"},
    v4_range{v4(203, 0, 113, 0), 24, "documentation"},
    v4_range{v4(224, 0, 0, 0), 4, "multicast"},
    v4_range{v4(255, 255, 255, 255), 32, "broadcast"},
    v4_range{v4(240, 0, 0, 0), 4, "reserved"},
};

std::string_view v4_reason(uint32_t addr) noexcept {
    for (const auto& r : v4_forbidden)
        if (in_v4(addr, r.base, r.prefix))
            return r.reason;
    return "";
}

using v6_bytes = boost::asio::ip::address_v6::bytes_type;

struct v6_range {
    v6_bytes base;
    int prefix;
    std::string_view reason;
};

bool in_v6(const v6_bytes& addr, const v6_bytes& base, int prefix) noexcept {
    for (int i = 0; i < 16 && prefix > 0; ++i, prefix -= 8) {
        const unsigned mask = prefix >= 8 ? 0xffu : (0xffu << (8 - prefix)) & 0xffu;
        if ((addr[i] & mask) != (base[i] & mask))
            return false;
    }
    return true;
}

uint32_t v4_at(const v6_bytes& b, int offset) noexcept {
    return v4(b[offset], b[offset + 1], b[offset + 2], b[offset + 3]);
}

// Prefixes whose last 32 bits (or bits 16..47 for 6to4) are an IPv4 address
// that the packet ends up at: judged by that address, so a private IPv4
// cannot be reached through its IPv6 spelling.
constexpr v6_bytes mapped_prefix{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
constexpr v6_bytes nat64_prefix{0x00, 0x64, 0xff, 0x9b};
constexpr v6_bytes six_to_four_prefix{0x20, 0x02};

const std::array v6_forbidden{
    v6_range{{0x01, 0x00}, 64, "reserved"},                        // discard-only
    v6_range{{0x00, 0x64, 0xff, 0x9b, 0x00, 0x01}, 48, "private"}, // local-use NAT64
    v6_range{{0x20, 0x01, 0x00, 0x02, 0x00, 0x00}, 48, "benchmarking"},
    v6_range{{0x20, 0x01, 0x0d, 0xb8}, 32, "documentation"},
    v6_range{{0xfc}, 7, "private"},
    v6_range{{0xfe, 0x80}, 10, "link-local"},
    v6_range{{0xfe, 0xc0}, 10, "site-local"},
    v6_range{{0xff}, 8, "multicast"},
};

std::string_view v6_reason(const boost::asio::ip::address_v6& a) noexcept {
    const v6_bytes b = a.to_bytes();
    if (a.is_unspecified())
        return "unspecified";
    if (a.is_loopback())
        return "loopback";
    if (in_v6(b, mapped_prefix, 96) || in_v6(b, nat64_prefix, 96) || in_v6(b, v6_bytes{}, 96))
        return v4_reason(v4_at(b, 12));
    if (in_v6(b, six_to_four_prefix, 16))
        return v4_reason(v4_at(b, 2));
    for (const auto& r : v6_forbidden)
        if (in_v6(b, r.base, r.prefix))
            return r.reason;
    // Only 2000::/3 is allocated for global unicast; the rest of the space
    // is unassigned and has no business answering a download.
    if ((b[0] & 0xe0) != 0x20)
        return "reserved";
    return "";
}

} // namespace

std::string_view forbidden_reason(const boost::asio::ip::address& a) noexcept {
    if (a.is_v4())
        return v4_reason(a.to_v4().to_uint());
    return v6_reason(a.to_v6());
}

} // namespace stemd::client
