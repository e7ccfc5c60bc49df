#pragma once

#include <boost/asio/ip/address.hpp>

#include <string_view>

namespace stemd::client {

// Why an address may not be fetched from, or "" when it is a public unicast
// address. Covers IPv4 and IPv6: unspecified, loopback, private (RFC 1918,
// fc00::/7), link-local, CGNAT (100.64/10), multicast, broadcast, reserved,
// documentation ranges, and IPv4-mapped/compatible IPv6 forms of all of them.
std::string_view forbidden_reason(const boost::asio::ip::address& a) noexcept;

} // namespace stemd::client
