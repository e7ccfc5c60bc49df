#include "client/error.hpp"

#include <string>

namespace stemd::client {

namespace {

class category final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "stemd.client"; }

    std::string message(int ev) const override {
        switch (static_cast<error>(ev)) {
        case error::bad_url:
            return "not an absolute http or https URL";
        case error::scheme_not_allowed:
            return "plain http is not allowed here; use an https URL";
        case error::address_not_allowed:
            return "the host resolves to a loopback, private or otherwise non-public address";
        case error::no_address:
            return "the host name did not resolve to any usable address";
        case error::timeout:
            return "the remote server made no progress within the allowed time";
        case error::too_many_redirects:
            return "too many redirects";
        case error::redirect_loop:
            return "a redirect leads back to a URL already visited";
        case error::bad_redirect:
            return "a redirect without a usable Location header";
        case error::http_status:
            return "the server answered with an HTTP status that cannot be used";
        case error::body_too_large:
            return "the response body is larger than allowed";
        case error::length_mismatch:
            return "the response body length differs from the announced length";
        case error::bad_response:
            return "the server's answer does not follow the protocol";
        case error::file_io:
            return "reading or writing a local file failed";
        }
        return "unknown stemd.client error " + std::to_string(ev);
    }
};

} // namespace

const boost::system::error_category& error_category() noexcept {
    static const category instance;
    return instance;
}

boost::system::error_code make_error_code(error e) noexcept {
    return {static_cast<int>(e), error_category()};
}

} // namespace stemd::client
