#include "config/error.hpp"

#include <utility>

namespace stemd::config {

const boost::system::error_category& error_category() noexcept {
    static const table_category category(
        "stemd.config",
        {{int(error::file_unreadable), "the configuration file could not be read", condition::io},
         {int(error::syntax), "the configuration file is not valid TOML", condition::invalid},
         {int(error::unknown_key), "the configuration names a table or key stemd does not know",
          condition::invalid},
         {int(error::bad_value), "a configuration value has the wrong type or is out of range",
          condition::invalid},
         {int(error::secret_unreadable), "the API key file could not be read", condition::io}});
    return category;
}

boost::system::error_code make_error_code(error e) noexcept {
    return {static_cast<int>(e), error_category()};
}

stemd::error failure(error code, std::string message) {
    return {make_error_code(code), std::move(message)};
}

} // namespace stemd::config
