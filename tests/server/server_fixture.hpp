#pragma once

// A jobs::service over a real sqlite_store in a temp dir, never started
// (no MusicGPT call is ever made), and requests to hand to the handlers.

#include "jobs/service.hpp"
#include "listener/http_server.hpp"
#include "storage/sqlite_store.hpp"
#include "tests/support/workspace.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/json/value.hpp>

#include <memory>
#include <string>
#include <string_view>

namespace stemd::server::testing {

struct service_fixture {
    service_fixture();

    // A submitted job whose webhook token is `token`.
    storage::job_record submitted(std::string_view token, std::string task = "task-1",
                                  std::string conversion = "conv-1");

    test::workspace ws{"server"};
    boost::asio::io_context io{1};
    std::shared_ptr<boost::asio::ssl::context> tls;
    storage::sqlite_store store;
    std::unique_ptr<jobs::service> service;
};

listener::request make_request(boost::beast::http::verb method, std::string target,
                               std::string body = {});

// The reply's body as JSON.
boost::json::value body_of(const listener::response& r);

// Checks an error reply: `status`, and the one error shape
// {"ok":false,"error":"..."}; returns its reason.
std::string refused(const listener::response& r, unsigned status);

} // namespace stemd::server::testing
