#include "server/error.hpp"

#include <string>

namespace stemd::server {

namespace {

class server_category final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "stemd.server"; }

    std::string message(int ev) const override {
        switch (static_cast<error>(ev)) {
        case error::bad_request:
            return "the request cannot be served";
        }
        return "unknown stemd.server error " + std::to_string(ev);
    }
};

} // namespace

const boost::system::error_category& error_category() noexcept {
    static const server_category instance;
    return instance;
}

boost::system::error_code make_error_code(error e) noexcept {
    return {static_cast<int>(e), error_category()};
}

} // namespace stemd::server
