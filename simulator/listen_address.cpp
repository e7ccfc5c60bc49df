#include "simulator/listen_address.hpp"

#include "simulator/decimal.hpp"
#include "simulator/error.hpp"

namespace stemd::simulator {

result<listen_address> parse_listen_address(std::string_view text) {
    const auto refuse = [&] {
        return make_error(error::bad_request,
                          "the listen address \"" + std::string(text) +
                              "\" is not host:port; write e.g. 127.0.0.1:8090 or [::1]:8090");
    };
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos || colon == 0) {
        return refuse();
    }
    std::string_view host = text.substr(0, colon);
    if (host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    } else if (host.find(':') != std::string_view::npos) {
        return refuse();
    }
    const auto port = parse_decimal(text.substr(colon + 1));
    if (host.empty() || !port || *port > 65535) {
        return refuse();
    }
    return listen_address{std::string(host), static_cast<std::uint16_t>(*port)};
}

std::string url_host(std::string_view host) {
    return host.find(':') != std::string_view::npos ? "[" + std::string(host) + "]"
                                                    : std::string(host);
}

std::string link_host(std::string_view host) {
    if (host == "0.0.0.0") {
        return "127.0.0.1";
    }
    if (host == "::") {
        return "[::1]";
    }
    return url_host(host);
}

} // namespace stemd::simulator
