// Socket activation with the real binary: stemd takes the listening
// sockets it is handed (as systemd passes them, fds 3 and 4 named by
// $LISTEN_FDNAMES), so a request sent while no stemd runs waits in the
// socket's backlog and is answered by the next one.

#include "integration/stack.hpp"
#include "support/fd.hpp"

#include <doctest/doctest.h>

#include <sys/socket.h>

using namespace stemd;
using namespace stemd::test;
using namespace std::chrono_literals;

namespace {

int listening_socket(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        throw_errno("socket");
    const int on = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    const sockaddr_in addr = loopback_address(port);
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(fd, 64) != 0)
        throw_errno("bind/listen 127.0.0.1:" + std::to_string(port));
    return fd;
}

serve_launch activated(int webhook_fd, int api_fd, const std::string& names) {
    serve_launch l;
    l.env = {{"LISTEN_FDS", "2"}, {"LISTEN_FDNAMES", names}};
    l.extras.fds = {webhook_fd, api_fd};
    l.extras.pid_variables = {"LISTEN_PID"};
    return l;
}

} // namespace

TEST_CASE("socket activation: a request sent between two daemons is answered by the second") {
    stack s("socket-activation");
    s.start_simulator();
    // The passed webhook socket is on another port than webhook.listen says.
    reserved_port passed_webhook;
    fd_guard webhook(listening_socket(passed_webhook.number()));
    fd_guard api(listening_socket(s.api_port()));

    // Named, as one socket unit per listener names them.
    s.start_serve(activated(webhook.get(), api.get(), "webhook:api"));
    auto logs = s.serve_logs();
    CHECK_MESSAGE(logs.find("api.listen: using the socket systemd passed, on 127.0.0.1:" +
                            std::to_string(s.api_port())) != std::string::npos,
                  logs);
    CHECK(logs.find("webhook.listen = 127.0.0.1:" + std::to_string(s.webhook_port()) + " in " +
                    s.config_file().string() + ", but systemd passed a socket on 127.0.0.1:" +
                    std::to_string(passed_webhook.number()) +
                    " (stemd.socket): using the passed "
                    "socket") != std::string::npos);
    CHECK(http_request(passed_webhook.number(), "POST", "/webhook/x", "{}").status == 404);

    s.kill_serve();
    // No stemd runs: the kernel queues these connections on the sockets.
    raw_connection to_api(s.api_port());
    REQUIRE(to_api.send(raw_get("/healthz")));
    raw_connection to_webhook(passed_webhook.number());
    REQUIRE(to_webhook.send("POST /webhook/not-a-token HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                            "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"));

    // Both named alike, as deploy/stemd.socket passes them: told apart by
    // api.listen's port, and the webhook's by the order.
    s.start_serve(activated(webhook.get(), api.get(), "stemd:stemd"));
    CHECK(to_api.read_response(10s).status == 200);
    CHECK(to_webhook.read_response(10s).status == 404);
    CHECK(s.serve().log().find("using the passed socket") != std::string::npos);
}
