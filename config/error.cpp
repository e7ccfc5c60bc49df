#include "config/error.hpp"

#include <stdexcept>

namespace stemd::config {

namespace {

class category final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "stemd.config"; }

    std::string message(int value) const override {
        switch (static_cast<error>(value)) {
        case error::file_unreadable:
            return "the configuration file could not be read";
        case error::syntax:
            return "the configuration file is not valid TOML";
        case error::unknown_key:
            return "the configuration names a table or key stemd does not know";
        case error::bad_value:
            return "a configuration value has the wrong type or is out of range";
        case error::secret_unreadable:
            return "the API key file could not be read";
        }
        return "unknown stemd.config error " + std::to_string(value);
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

void throw_exception_from_error(const problem& p, const boost::source_location&) {
    // The message already says what, where and what to do; the code's own
    // text would only repeat it.
    throw std::runtime_error(p.message);
}

} // namespace stemd::config
