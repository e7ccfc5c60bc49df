// GET /healthz on the webhook listener: what a load balancer in front of
// several instances checks before sending a delivery to one.

#include "integration/stack.hpp"

#include <doctest/doctest.h>

using namespace stemd::test;

TEST_CASE("the webhook listener answers a load balancer's GET /healthz") {
    stack s("webhook-health");
    s.start_serve();
    const auto up = http_request(s.webhook_port(), "GET", "/healthz");
    CHECK(up.status == 200);
    CHECK(up.body.starts_with(R"({"ok":true})"));
    CHECK(http_request(s.webhook_port(), "GET", "/healthz?from=haproxy").status == 200);
    // Only the check: nothing else of the API is on this port.
    CHECK(http_request(s.webhook_port(), "GET", "/v1/jobs").status == 404);
    CHECK(http_request(s.webhook_port(), "POST", "/healthz").status == 404);
    s.kill_serve();
    CHECK(http_request(s.webhook_port(), "GET", "/healthz").status == 0);
}
