#include "server/serve_settings.hpp"

#include "common/log.hpp"
#include "common/signing.hpp"
#include "listener/admission.hpp"
#include "server/api_routes.hpp"

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <stdexcept>

namespace stemd::server {

namespace {

// STEMD_TEST_LEASE_MS: a short claim lease, so that a test sees a killed
// process's downloads taken over in seconds rather than a minute. Not a
// setting: a lease shorter than a slow database round trip would let two
// processes download one file.
std::optional<std::chrono::milliseconds> test_lease() {
    const char* text = std::getenv("STEMD_TEST_LEASE_MS");
    if (!text || !*text)
        return std::nullopt;
    const long ms = std::strtol(text, nullptr, 10);
    if (ms < 300)
        throw std::runtime_error("STEMD_TEST_LEASE_MS=" + std::string(text) +
                                 " must be a number of milliseconds from 300; unset it to use "
                                 "the 60 s lease");
    log_warning("", "STEMD_TEST_LEASE_MS=" + std::string(text) + ": a test setting, claims last " +
                        std::string(text) + " ms");
    return std::chrono::milliseconds(ms);
}

} // namespace

jobs::service_options make_service_options(const config::settings& s) {
    jobs::service_options o;
    o.public_url = s.webhook.public_url;
    o.output_dir = s.storage.output_dir;
    o.concurrency = s.download.concurrency;
    o.max_attempts = s.download.max_attempts;
    o.max_link_refreshes = s.download.max_link_refreshes;
    o.download.connect.allow_http = s.download.allow_http;
    o.download.connect.allow_private_addresses = s.download.allow_private_addresses;
    o.download.max_bytes = static_cast<std::uint64_t>(s.download.max_bytes);
    o.download.connect.io_timeout = std::chrono::seconds(s.download.idle_timeout);
    o.download.max_duration = std::chrono::seconds(s.download.max_seconds);
    o.musicgpt.base_url = s.musicgpt.base_url;
    o.musicgpt.api_version = s.musicgpt.api_version;
    o.musicgpt.api_key = s.musicgpt.api_key;
    o.overdue_factor = s.reconcile.overdue_factor;
    o.overdue_floor = std::chrono::seconds(s.reconcile.overdue_floor);
    o.status_per_minute = s.reconcile.status_per_minute;
    o.unknown_task_after = std::chrono::seconds(s.reconcile.unknown_task_after);
    o.keep_days = s.retention.keep_days;
    o.delete_files = s.retention.delete_files;
    o.notify.url = s.notify.url;
    if (!s.notify.url.empty())
        o.notify.key =
            webhook_secret_key(s.notify.signing_secret)
                .value_or(std::vector<unsigned char>{}); // the config check made sure it decodes
    o.notify.allow_http = s.notify.allow_http;
    o.notify.ca_file = s.notify.ca_file;
    o.notify.timeout = std::chrono::seconds(s.notify.timeout_seconds);
    o.notify.command = s.notify.command;
    o.notify.command_timeout = std::chrono::seconds(s.notify.command_timeout_seconds);
    // Another stemd on the same PostgreSQL database may make work runnable
    // at any time; the LISTEN hint is only a hint.
    if (!s.storage.database_uri.empty())
        o.shared_poll = std::chrono::seconds(2);
    o.lease = test_lease().value_or(o.lease);
    return o;
}

listener::server_limits make_limits(const config::limits_settings& l) {
    listener::server_limits out;
    out.header_limit = static_cast<std::size_t>(l.header_bytes);
    out.body_limit = static_cast<std::size_t>(l.body_bytes);
    out.request_timeout = std::chrono::seconds(l.request_timeout);
    out.idle_timeout = std::chrono::seconds(l.idle_timeout);
    out.max_connections = static_cast<std::size_t>(l.max_connections);
    out.max_connections_per_address = static_cast<std::size_t>(l.max_connections_per_address);
    out.max_requests_per_connection = static_cast<std::size_t>(l.max_requests_per_connection);
    return out;
}

listener::server_limits fit_to_file_limit(listener::server_limits limits) {
    const std::uint64_t file_limit = listener::raise_file_limit();
    const std::size_t fitted = listener::fit_connections(limits.max_connections, 2, file_limit);
    if (fitted < limits.max_connections)
        log_warning("", "limits.max_connections = " + std::to_string(limits.max_connections) +
                            " does not fit the open-file limit of " + std::to_string(file_limit) +
                            " (two listeners and " +
                            std::to_string(listener::reserved_descriptors) +
                            " descriptors for the rest): each listener accepts at most " +
                            std::to_string(fitted) +
                            "; raise LimitNOFILE (ulimit -n) or lower limits.max_connections");
    limits.max_connections = fitted;
    return limits;
}

listener::server_limits make_api_limits(listener::server_limits base, const config::settings& s,
                                        const std::filesystem::path& uploads,
                                        const api_access& access) {
    auto out = std::move(base);
    out.screen = [&access](const boost::beast::http::request_header<>& header) {
        return refuse_access(access, header);
    };
    out.spool =
        listener::spool_route{.applies = is_upload,
                              .directory = uploads,
                              .body_limit = static_cast<std::size_t>(s.api.upload_max_bytes)};
    return out;
}

std::filesystem::path prepare_uploads(const config::settings& s) {
    namespace fs = std::filesystem;
    // On a shared PostgreSQL store there is no database file to sit beside.
    const fs::path dir =
        (s.storage.database_uri.empty() ? s.storage.database.parent_path()
                                        : config::api_token_file(s).parent_path()) /
        "uploads";
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (!ec)
        fs::permissions(dir, fs::perms::owner_all, ec);
    if (ec)
        throw std::runtime_error("cannot prepare the upload folder " + dir.string() + ": " +
                                 ec.message() + "; check the permissions of its parent");
    for (const auto& entry : fs::directory_iterator(dir, ec))
        fs::remove(entry.path(), ec);
    return dir;
}

void warn_about(const config::settings& s) {
    for (const auto& w : s.warnings)
        log_warning("", w);
    if (s.musicgpt.api_key.empty())
        log_warning("", "no MusicGPT API key (musicgpt.api_key, MUSICGPT_API_KEY or "
                        "musicgpt.api_key_file): submissions will be refused");
    if (s.webhook.public_url.empty())
        log_warning("", "webhook.public_url is empty: jobs are submitted without a webhook_url "
                        "and complete through MusicGPT's status endpoint (or webhook.secret "
                        "deliveries)");
}

} // namespace stemd::server
