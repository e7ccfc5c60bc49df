#pragma once

#include "common/error.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace stemd::simulator {

struct listen_address {
    std::string host; // without brackets
    std::uint16_t port = 0;
};

// "host:port" or "[v6]:port"; unlike the daemon's settings, port 0 (any free
// port) is allowed, which tests use. Anything else fails with
// error::bad_request saying how to write it.
result<listen_address> parse_listen_address(std::string_view text);

// `host` as a URL writes it: an IPv6 address in brackets.
std::string url_host(std::string_view host);

// The host links name: an address clients can connect to, not "any
// address" (0.0.0.0 and :: become loopback).
std::string link_host(std::string_view host);

} // namespace stemd::simulator
