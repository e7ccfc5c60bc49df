#include "client/url.hpp"

#include "client/error.hpp"

#include <boost/url.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace stemd::client {

namespace urls = boost::urls;

namespace {

constexpr std::uint16_t default_port(bool https) noexcept {
    return https ? 443 : 80;
}

// DNS names as a resolver accepts them; anything else (spaces, control
// characters, '@' after decoding...) would end up in the Host header.
bool is_plain_host_name(std::string_view name) noexcept {
    return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return std::isalnum(u) != 0 || c == '-' || c == '.' || c == '_';
    });
}

std::string lowercase(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](char c) {
        return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    });
    return s;
}

// The host as a resolver wants it: IPv6 without brackets, names decoded and
// lowercased (DNS ignores case, and redirect-loop detection compares them).
boost::system::result<std::string> host_of(const urls::url_view& u) {
    switch (u.host_type()) {
    case urls::host_type::ipv4:
        return u.host_ipv4_address().to_string();
    case urls::host_type::ipv6:
        return u.host_ipv6_address().to_string();
    case urls::host_type::name: {
        std::string name = lowercase(u.host_name());
        if (!is_plain_host_name(name))
            return make_error_code(error::bad_url);
        return name;
    }
    case urls::host_type::none:
    case urls::host_type::ipvfuture:
        break;
    }
    return make_error_code(error::bad_url);
}

// An empty port ("http://h:/") means the default, as RFC 3986 allows.
boost::system::result<std::uint16_t> port_of(const urls::url_view& u, bool https) {
    const std::string_view text = u.port();
    if (!u.has_port() || text.empty())
        return default_port(https);
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || value == 0 || value > 65535)
        return make_error_code(error::bad_url);
    return static_cast<std::uint16_t>(value);
}

boost::system::result<http_url> from_view(const urls::url_view& u) {
    http_url out;
    switch (u.scheme_id()) {
    case urls::scheme::https:
        out.https = true;
        break;
    case urls::scheme::http:
        out.https = false;
        break;
    default:
        return make_error_code(error::bad_url);
    }
    // Credentials in a URL would be sent nowhere (we never use them) but
    // would end up in logs; such links are refused rather than rewritten.
    if (!u.has_authority() || u.has_userinfo())
        return make_error_code(error::bad_url);
    auto host = host_of(u);
    if (!host)
        return host.error();
    auto port = port_of(u, out.https);
    if (!port)
        return port.error();
    out.host = std::move(*host);
    out.port = *port;
    out.target = u.encoded_path();
    if (out.target.empty())
        out.target = "/";
    if (u.has_query()) {
        out.target += '?';
        out.target += u.encoded_query();
    }
    return out;
}

std::string authority(const http_url& u) {
    std::string s = u.host.find(':') != std::string::npos ? "[" + u.host + "]" : u.host;
    if (u.port != default_port(u.https)) {
        s += ':';
        s += std::to_string(u.port);
    }
    return s;
}

} // namespace

std::string http_url::host_header() const {
    return authority(*this);
}

std::string http_url::to_string() const {
    return (https ? "https://" : "http://") + authority(*this) + target;
}

std::string http_url::redacted() const {
    return (https ? "https://" : "http://") + authority(*this) + target.substr(0, target.find('?'));
}

boost::system::result<http_url> parse_http_url(std::string_view text) {
    auto u = urls::parse_uri(text);
    if (!u)
        return make_error_code(error::bad_url);
    return from_view(*u);
}

boost::system::result<http_url> resolve_location(const http_url& base, std::string_view location) {
    auto ref = urls::parse_uri_reference(location);
    if (!ref || location.empty())
        return make_error_code(error::bad_url);
    const std::string base_text = base.to_string();
    auto base_view = urls::parse_uri(base_text);
    if (!base_view)
        return make_error_code(error::bad_url);
    urls::url resolved;
    if (!urls::resolve(*base_view, *ref, resolved))
        return make_error_code(error::bad_url);
    return from_view(resolved);
}

std::string redact(std::string_view url) {
    auto u = urls::parse_uri_reference(url);
    if (!u)
        return "(invalid URL)";
    std::string out;
    if (u->has_scheme()) {
        out += u->scheme();
        out += ':';
    }
    if (u->has_authority()) {
        out += "//";
        out += u->encoded_host_and_port();
    }
    out += u->encoded_path();
    return out;
}

} // namespace stemd::client
