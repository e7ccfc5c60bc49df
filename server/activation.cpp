#include "server/activation.hpp"

#include "common/log.hpp"

#include <systemd/sd-daemon.h>

#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include <sys/socket.h>
#include <unistd.h>

namespace stemd::server {

namespace {

struct free_names {
    void operator()(char** names) const {
        for (char** n = names; n != nullptr && *n != nullptr; ++n)
            std::free(*n);
        std::free(names);
    }
};

struct passed {
    int fd;
    std::string name;
};

bool listening_tcp(int fd) {
    return sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) > 0;
}

bool on_port(int fd, std::uint16_t port) {
    return sd_is_socket_inet(fd, AF_UNSPEC, SOCK_STREAM, 1, port) > 0;
}

} // namespace

passed_sockets take_passed_sockets(const config::endpoint& webhook_listen,
                                   const config::endpoint& api_listen) {
    char** raw = nullptr;
    const int n = sd_listen_fds_with_names(1, &raw);
    std::unique_ptr<char*, free_names> names(raw);
    passed_sockets out;
    if (n < 0) {
        log_warning("", std::string("cannot read the sockets systemd passed ($LISTEN_FDS): ") +
                            std::strerror(-n) + "; binding the configured addresses instead");
        return out;
    }
    std::vector<passed> fds;
    for (int i = 0; i < n; ++i)
        fds.push_back({SD_LISTEN_FDS_START + i, names && names.get()[i] ? names.get()[i] : ""});
    auto take = [&](int& slot, const std::function<bool(const passed&)>& fits) {
        for (auto& p : fds)
            if (slot < 0 && p.fd >= 0 && fits(p))
                slot = std::exchange(p.fd, -1);
    };
    take(out.webhook, [](const passed& p) { return p.name == "webhook"; });
    take(out.api, [](const passed& p) { return p.name == "api"; });
    take(out.webhook, [&](const passed& p) { return on_port(p.fd, webhook_listen.port); });
    take(out.api, [&](const passed& p) { return on_port(p.fd, api_listen.port); });
    take(out.webhook, [](const passed& p) { return listening_tcp(p.fd); });
    take(out.api, [](const passed& p) { return listening_tcp(p.fd); });
    for (const auto& p : fds) {
        if (p.fd < 0)
            continue;
        log_warning("", "systemd passed descriptor " + std::to_string(p.fd) + " (\"" + p.name +
                            "\"), which stemd does not use: it takes two listening TCP sockets, "
                            "webhook and api; closed it");
        ::close(p.fd);
    }
    return out;
}

namespace {

bool any_address(std::string_view host) {
    return host == "0.0.0.0" || host == "::" || host == "[::]";
}

} // namespace

bool same_listener(const config::endpoint& configured, const std::string& passed) {
    if (configured.to_string() == passed)
        return true;
    const auto bound = config::parse_endpoint(passed);
    return bound && bound->port == configured.port && any_address(bound->host) &&
           any_address(configured.host);
}

void log_passed_socket(std::string_view key, const config::endpoint& configured,
                       const std::string& passed, const std::string& source) {
    if (same_listener(configured, passed)) {
        log_info("", std::string(key) + ": using the socket systemd passed, on " + passed);
        return;
    }
    log_warning("", std::string(key) + " = " + configured.to_string() + " in " + source +
                        ", but systemd passed a socket on " + passed +
                        " (stemd.socket): using the passed socket; make the two agree");
}

} // namespace stemd::server
