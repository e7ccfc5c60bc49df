#pragma once

// POST /v1/doctor: the checks of `stemd doctor` that only the running
// daemon can make, answered as {"ok":bool,"checks":[...]}:
//  - "api key", "clock" and "output dir" (doctor_probes.hpp), made with
//    the key the daemon holds and as the user it runs as: the key file
//    (e.g. a systemd credential) and the output folder are often beyond
//    the reach of whoever runs the CLI;
//  - "public url": the daemon asks its own webhook.public_url for a
//    one-time probe path (probe_book.hpp) and passes only when its own
//    webhook listener saw that probe arrive;
//  - "stuck jobs": the jobs over their bound (jobs/overdue.hpp).
// Included only by .cpp files.

#include "listener/http_server.hpp"
#include "server/probe_book.hpp"

#include <string>

namespace boost::asio::ssl {
class context;
}
namespace stemd::jobs {
class service;
}

namespace stemd::server {

struct doctor_context {
    jobs::service& service;
    probe_book& probes;
    std::string public_url;                            // webhook.public_url
    std::string listen;                                // webhook.listen, for messages
    boost::asio::ssl::context* musicgpt_tls = nullptr; // for the key check; null: not made
};

boost::asio::awaitable<listener::response> handle_doctor(doctor_context& ctx);

} // namespace stemd::server
