#include "server/activation.hpp"

#include "common/log.hpp"

#include <systemd/sd-daemon.h>

#include <cstdlib>
#include <cstring>
#include <memory>

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

} // namespace

passed_sockets take_passed_sockets() {
    char** raw = nullptr;
    const int n = sd_listen_fds_with_names(1, &raw);
    std::unique_ptr<char*, free_names> names(raw);
    passed_sockets out;
    if (n < 0) {
        log_warning("", std::string("cannot read the sockets systemd passed ($LISTEN_FDS): ") +
                            std::strerror(-n) + "; binding the configured addresses instead");
        return out;
    }
    for (int i = 0; i < n; ++i) {
        const int fd = SD_LISTEN_FDS_START + i;
        const std::string name = names && names.get()[i] ? names.get()[i] : "unknown";
        int* slot = name == "webhook" ? &out.webhook : name == "api" ? &out.api : nullptr;
        if (slot == nullptr || *slot >= 0 || sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) <= 0) {
            log_warning("", "systemd passed descriptor " + std::to_string(fd) + " named \"" + name +
                                "\", which stemd does not use (it takes one listening TCP "
                                "socket each named webhook and api: FileDescriptorName= in "
                                "stemd.socket); closed it");
            ::close(fd);
            continue;
        }
        *slot = fd;
    }
    return out;
}

void log_passed_socket(std::string_view key, const config::endpoint& configured,
                       const std::string& passed, const std::string& source) {
    if (configured.to_string() == passed) {
        log_info("", std::string(key) + ": using the socket systemd passed, on " + passed);
        return;
    }
    log_warning("", std::string(key) + " = " + configured.to_string() + " in " + source +
                        ", but systemd passed a socket on " + passed +
                        " (stemd.socket): using the passed socket; make the two agree");
}

} // namespace stemd::server
