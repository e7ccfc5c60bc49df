#include "server/error.hpp"

namespace stemd::server {

const boost::system::error_category& error_category() noexcept {
    static const table_category c(
        "stemd.server",
        {
            {int(error::bad_request), "the request cannot be served", condition::invalid},
            {int(error::unauthorized), "the request lacks the API token", condition::refused},
            {int(error::misdirected), "the request names another host", condition::refused},
            {int(error::cross_origin), "the request comes from another origin", condition::refused},
            {int(error::unsupported_media_type), "the request body has the wrong type",
             condition::invalid},
            {int(error::file_refused), "the named file is not opened", condition::invalid},
            {int(error::part_too_large), "a form part is too large", condition::too_large},
            {int(error::upload_unreadable), "the spooled upload cannot be read", condition::io},
            {int(error::csrf_mismatch), "the request lacks the session's CSRF token",
             condition::refused},
            {int(error::body_too_large), "the request body is too large", condition::too_large},
            {int(error::throttled), "too many failed sign-ins", condition::unavailable},
            {int(error::no_such_file), "the job has no such file", condition::not_found},
            {int(error::file_not_ready), "the file is not downloaded yet", condition::conflict},
            {int(error::file_withheld), "the file on disk is not served", condition::refused},
        });
    return c;
}

boost::system::error_code make_error_code(error e) noexcept {
    return {static_cast<int>(e), error_category()};
}

stemd::error make_error(error e, std::string message) {
    return {make_error_code(e), std::move(message)};
}

} // namespace stemd::server
