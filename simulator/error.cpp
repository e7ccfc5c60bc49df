#include "simulator/error.hpp"

#include <array>
#include <utility>

namespace stemd::simulator {

namespace {

struct wire_entry {
    error code;
    unsigned status;
    std::string_view name;
};

// clang-format off
constexpr std::array<wire_entry, 11> wire_table = {{
    {error::bad_request, 400, "BAD_REQUEST"},
    {error::unauthorized, 401, "UNAUTHORIZED_ACCESS"},
    {error::insufficient_credits, 402, "INSUFFICIENT_CREDITS"},
    {error::forbidden, 403, "FORBIDDEN"},
    {error::not_found, 404, "RESOURCE_NOT_FOUND"},
    {error::method_not_allowed, 405, "METHOD_NOT_ALLOWED"},
    {error::range_not_satisfiable, 416, "RANGE_NOT_SATISFIABLE"},
    {error::unprocessable, 422, "UNPROCESSABLE_CONTENT"},
    {error::too_many_requests, 429, "TOO_MANY_REQUESTS"},
    {error::internal, 500, "INTERNAL_SERVER_ERROR"},
    {error::unavailable, 503, "SERVICE_UNAVAILABLE"},
}};
// clang-format on

const wire_entry& wire(const boost::system::error_code& code) noexcept {
    if (code.category() == error_category()) {
        for (const auto& entry : wire_table) {
            if (static_cast<int>(entry.code) == code.value()) {
                return entry;
            }
        }
    }
    return wire_table[9]; // internal
}

} // namespace

const boost::system::error_category& error_category() noexcept {
    // clang-format off
    static const table_category category("stemd.simulator", {
        {int(error::bad_request), "the request is malformed", condition::invalid},
        {int(error::unauthorized), "missing or invalid API key", condition::refused},
        {int(error::insufficient_credits), "insufficient credits (simulated)", condition::refused},
        {int(error::forbidden), "the link has expired", condition::refused},
        {int(error::not_found), "no such resource", condition::not_found},
        {int(error::method_not_allowed), "method not allowed", condition::invalid},
        {int(error::range_not_satisfiable), "range not satisfiable", condition::invalid},
        {int(error::unprocessable), "the submission has no audio", condition::invalid},
        {int(error::too_many_requests), "too many requests (simulated)", condition::unavailable},
        {int(error::internal), "internal server error (simulated)", condition::unavailable},
        {int(error::unavailable), "service unavailable (simulated)", condition::unavailable},
    });
    // clang-format on
    return category;
}

boost::system::error_code make_error_code(error e) noexcept {
    return {static_cast<int>(e), error_category()};
}

stemd::error make_error(error code, std::string message) {
    return {make_error_code(code), std::move(message)};
}

unsigned http_status(const boost::system::error_code& code) noexcept {
    return wire(code).status;
}

std::string_view wire_code(const boost::system::error_code& code) noexcept {
    return wire(code).name;
}

} // namespace stemd::simulator
