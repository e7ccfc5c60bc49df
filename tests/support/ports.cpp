#include "tests/support/ports.hpp"

#include "tests/support/fd.hpp"

#include <filesystem>
#include <fstream>
#include <random>
#include <stdexcept>
#include <utility>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>

namespace stemd::test {

namespace {

// Ports a test may reserve: the 10,000 below the ephemeral range, or those
// above it when the range starts too low to leave room.
std::pair<int, int> reservable_ports() {
    int low = 32768, high = 60999;
    std::ifstream("/proc/sys/net/ipv4/ip_local_port_range") >> low >> high;
    if (low - 10000 >= 1024)
        return {low - 10000, low - 1};
    return {high + 1, 65535};
}

bool binds_on_loopback(int port) {
    fd_guard sock(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (sock.get() < 0)
        throw_errno("reserved_port: socket");
    const sockaddr_in addr = loopback_address(port);
    return ::bind(sock.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
}

} // namespace

reserved_port::reserved_port() {
    const auto lock_path = std::filesystem::temp_directory_path() / "stemd-test-ports.lock";
    // Shared by every user's test runs; the lock is what matters, not the mode.
    fd_guard fd(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666));
    if (fd.get() < 0)
        throw_errno("reserved_port: open " + lock_path.string());
    ::fchmod(fd.get(), 0666);

    const auto [first, last] = reservable_ports();
    const int count = last - first + 1;
    std::random_device seed;
    const int start = static_cast<int>(seed() % static_cast<unsigned>(count));
    for (int i = 0; i < count; ++i) {
        const int port = first + (start + i) % count;
        struct flock lock {};
        lock.l_type = F_WRLCK;
        lock.l_whence = SEEK_SET;
        lock.l_start = port;
        lock.l_len = 1;
        if (::fcntl(fd.get(), F_OFD_SETLK, &lock) != 0)
            continue; // another test process holds it
        if (!binds_on_loopback(port)) {
            lock.l_type = F_UNLCK;
            ::fcntl(fd.get(), F_OFD_SETLK, &lock);
            continue; // something outside the tests listens there
        }
        number_ = port;
        lock_fd_ = fd.release();
        return;
    }
    throw std::runtime_error("reserved_port: no free port on 127.0.0.1 in " +
                             std::to_string(first) + "-" + std::to_string(last));
}

reserved_port::~reserved_port() {
    if (lock_fd_ >= 0)
        ::close(lock_fd_); // releases the lock
}

} // namespace stemd::test
