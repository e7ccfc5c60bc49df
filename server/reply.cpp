#include "server/reply.hpp"

#include "common/text.hpp"
#include "jobs/error.hpp"
#include "musicgpt/error.hpp"
#include "server/error.hpp"
#include "server/webhook_signature.hpp"

namespace stemd::server {

namespace json = boost::json;

listener::response json_response(unsigned status, const json::value& body) {
    return listener::json_reply(status, body).message;
}

listener::response error_response(unsigned status, std::string_view reason) {
    return json_response(status, error_body(reason));
}

listener::response error_response(const stemd::error& e) {
    return error_response(http_status(e), e.message);
}

std::string spoken_list(std::span<const std::string_view> items) {
    std::string out;
    for (std::size_t i = 0; i < items.size(); ++i)
        out += std::string(i == 0                  ? ""
                           : i + 1 == items.size() ? " or "
                                                   : ", ") +
               std::string(items[i]);
    return out;
}

listener::response method_not_allowed(std::initializer_list<std::string_view> allowed,
                                      std::string_view route) {
    const std::span<const std::string_view> methods(allowed.begin(), allowed.size());
    auto r = error_response(405, "use " + spoken_list(methods) +
                                     (route.empty() ? "" : " on " + std::string(route)));
    std::string allow;
    for (auto m : methods)
        allow += (allow.empty() ? "" : ", ") + std::string(m);
    r.set(boost::beast::http::field::allow, allow);
    return r;
}

unsigned http_status(const stemd::error& e) {
    const auto& category = e.code.category();
    if (e.code == jobs::error::malformed_request || e.code == error::bad_request ||
        category == musicgpt::error_category())
        return 400;
    if (category == signature_category())
        return 401;
    struct code_row {
        error code;
        unsigned status;
    };
    static constexpr code_row access_table[] = {
        {error::unauthorized, 401},  {error::misdirected, 421},
        {error::cross_origin, 403},  {error::unsupported_media_type, 415},
        {error::csrf_mismatch, 403}, {error::throttled, 429},
    };
    for (const auto& [code, status] : access_table)
        if (e.code == code)
            return status;
    struct row {
        condition cond;
        unsigned status;
    };
    static constexpr row table[] = {
        {condition::not_found, 404}, {condition::conflict, 409}, {condition::invalid, 422},
        {condition::too_large, 413}, {condition::refused, 403},  {condition::unavailable, 503},
        {condition::timeout, 504},   {condition::io, 500},
    };
    for (const auto& [cond, status] : table)
        if (e.is(cond))
            return status;
    return 500;
}

bool etag_matches(std::string_view if_none_match, std::string_view etag) {
    while (!if_none_match.empty()) {
        const auto comma = if_none_match.find(',');
        auto tag = trim(if_none_match.substr(0, comma));
        if (tag == "*")
            return true;
        if (tag.starts_with("W/"))
            tag.remove_prefix(2);
        if (tag == etag)
            return true;
        if (comma == std::string_view::npos)
            break;
        if_none_match.remove_prefix(comma + 1);
    }
    return false;
}

} // namespace stemd::server
