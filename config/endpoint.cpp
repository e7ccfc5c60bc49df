#include "config/endpoint.hpp"

#include "common/text.hpp"
#include "config/error.hpp"
#include "config/quoted.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <charconv>

namespace stemd::config {

namespace {

constexpr std::string_view example = " (write host:port, e.g. 127.0.0.1:8081 or [::1]:8081)";

bool is_name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_';
}

bool is_ipv6_char(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' ||
           c == '.';
}

bool ipv4_loopback(const std::string& host) {
    in_addr addr{};
    return ::inet_pton(AF_INET, host.c_str(), &addr) == 1 && (ntohl(addr.s_addr) >> 24) == 127;
}

bool ipv6_loopback(std::string host) {
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    in6_addr addr{};
    return ::inet_pton(AF_INET6, host.c_str(), &addr) == 1 && IN6_IS_ADDR_LOOPBACK(&addr);
}

// The helpers below fail with only the reason; parse_endpoint puts the text
// in front of it.
stemd::error why(std::string reason) {
    return failure(error::bad_value, std::move(reason));
}

result<std::uint16_t> parse_port(std::string_view text) {
    if (text.empty()) {
        return why("the port is missing after ':'");
    }
    unsigned long value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec == std::errc::result_out_of_range) {
        value = 65536; // reported as out of range below
    } else if (ec != std::errc{} || end != text.data() + text.size()) {
        return why("the port \"" + std::string(text) + "\" is not a number");
    }
    if (value < 1 || value > 65535) {
        return why("port " + std::string(text) + " is out of range: use 1 to 65535");
    }
    return static_cast<std::uint16_t>(value);
}

// The host and what follows it (":port", if well written).
struct host_and_rest {
    std::string_view host;
    std::string_view rest;
};

result<host_and_rest> split_bracketed(std::string_view text) {
    const auto close = text.find(']');
    if (close == std::string_view::npos) {
        return why("the IPv6 address has no closing ']'" + std::string(example));
    }
    const std::string_view host = text.substr(1, close - 1);
    if (host.find(':') == std::string_view::npos ||
        !std::all_of(host.begin(), host.end(), is_ipv6_char)) {
        return why("\"" + std::string(host) + "\" in brackets is not an IPv6 address");
    }
    return host_and_rest{host, text.substr(close + 1)};
}

result<host_and_rest> split_named(std::string_view text) {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) {
        return why("the port is missing" + std::string(example));
    }
    const std::string_view host = text.substr(0, colon);
    if (host.find(':') != std::string_view::npos) {
        return why("an IPv6 address must be in brackets, e.g. [::1]:8081");
    }
    if (host.empty()) {
        return why("the host is missing (use 0.0.0.0 for every IPv4 address, [::] for every "
                   "IPv6 address)");
    }
    if (!std::all_of(host.begin(), host.end(), is_name_char)) {
        return why("the host \"" + std::string(host) +
                   "\" is not a host name or IP address (letters, digits, '-', '.', '_')");
    }
    return host_and_rest{host, text.substr(colon)};
}

result<endpoint> split_endpoint(std::string_view text) {
    if (text.empty()) {
        return why("it is empty" + std::string(example));
    }
    auto parts = text.front() == '[' ? split_bracketed(text) : split_named(text);
    if (!parts) {
        return parts.error();
    }
    if (!parts->rest.starts_with(':')) {
        return why("the port is missing" + std::string(example));
    }
    auto port = parse_port(parts->rest.substr(1));
    if (!port) {
        return port.error();
    }
    return endpoint{std::string(parts->host), *port};
}

} // namespace

bool is_loopback_address(std::string_view host) {
    const std::string name = lowercase(host);
    return name == "localhost" || ipv4_loopback(name) || ipv6_loopback(name);
}

std::string endpoint::to_string() const {
    const std::string port_text = std::to_string(port);
    if (host.find(':') != std::string::npos) {
        return "[" + host + "]:" + port_text;
    }
    return host + ":" + port_text;
}

result<endpoint> parse_endpoint(std::string_view text) {
    auto parsed = split_endpoint(text);
    if (!parsed) {
        return failure(error::bad_value,
                       toml_quoted(text) + " is not a valid endpoint: " + parsed.error().message);
    }
    return parsed;
}

std::optional<std::string> check_http_url(std::string& value) {
    const std::string_view text = value;
    std::string_view rest;
    if (text.starts_with("https://")) {
        rest = text.substr(8);
    } else if (text.starts_with("http://")) {
        rest = text.substr(7);
    } else {
        return "is not an http(s) URL: write it like https://host/path";
    }
    if (rest.substr(0, rest.find('/')).empty()) {
        return "has no host: write it like https://host/path";
    }
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte <= 0x20 || byte == 0x7f) {
            return "contains a space or control character: percent-encode it or remove it";
        }
    }
    if (text.find_first_of("?#") != std::string_view::npos) {
        return "has a query or fragment: give only the scheme, host and path";
    }
    while (value.ends_with('/')) {
        value.pop_back();
    }
    return std::nullopt;
}

std::optional<std::string> check_optional_http_url(std::string& value) {
    if (value.empty()) {
        return std::nullopt;
    }
    return check_http_url(value);
}

} // namespace stemd::config
