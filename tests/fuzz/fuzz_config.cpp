// libFuzzer target: config::parse on arbitrary bytes as the text of a
// stemd.toml. Whatever the text, parse must either refuse with a message or
// return settings whose values lie in their documented ranges.

#include "config/endpoint.hpp"
#include "config/settings.hpp"

#include "tests/fuzz/fuzz_check.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace {

bool in(std::int64_t v, std::int64_t low, std::int64_t high) {
    return v >= low && v <= high;
}

void check_endpoint(const stemd::config::endpoint& e) {
    FUZZ_CHECK(!e.host.empty());
    FUZZ_CHECK(e.port != 0);
    // What is printed must read back as the same endpoint.
    auto again = stemd::config::parse_endpoint(e.to_string());
    FUZZ_CHECK(again);
    FUZZ_CHECK(again->host == e.host && again->port == e.port);
}

// An http(s) URL with a host and without a trailing slash, as the checks
// in endpoint.cpp leave it.
bool is_http_url(std::string_view url) {
    std::string_view rest;
    if (url.starts_with("https://"))
        rest = url.substr(8);
    else if (url.starts_with("http://"))
        rest = url.substr(7);
    else
        return false;
    return !rest.empty() && rest.front() != '/' && !url.ends_with('/');
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto parsed = stemd::config::parse(text, "fuzz.toml");
    if (!parsed) {
        FUZZ_CHECK(parsed.error().code);
        // Text alone can only be wrong, never unreadable.
        FUZZ_CHECK(parsed.error().is(stemd::condition::invalid));
        FUZZ_CHECK(!parsed.error().message.empty());
        return 0;
    }
    const auto& s = *parsed;
    FUZZ_CHECK(s.source == "fuzz.toml");
    check_endpoint(s.webhook.listen);
    check_endpoint(s.api.listen);
    FUZZ_CHECK(in(s.download.concurrency, 1, 64));
    FUZZ_CHECK(in(s.download.max_attempts, 1, 100));
    FUZZ_CHECK(in(s.download.max_bytes, 1, std::int64_t{1} << 40));
    FUZZ_CHECK(in(s.download.idle_timeout, 1, 3600));
    FUZZ_CHECK(in(s.download.max_seconds, 1, 7 * 86400));
    FUZZ_CHECK(in(s.limits.header_bytes, 1024, 1024 * 1024));
    FUZZ_CHECK(in(s.limits.body_bytes, 1024, 64 * 1024 * 1024));
    FUZZ_CHECK(in(s.limits.request_timeout, 1, 3600));
    FUZZ_CHECK(in(s.limits.idle_timeout, 1, 3600));
    FUZZ_CHECK(in(s.limits.max_connections, 1, 100000));
    FUZZ_CHECK(in(s.reconcile.overdue_factor, 1, 100));
    FUZZ_CHECK(in(s.reconcile.overdue_floor, 1, 86400));
    FUZZ_CHECK(in(s.reconcile.status_per_minute, 1, 10000));
    FUZZ_CHECK(s.musicgpt.api_version == "v1" || s.musicgpt.api_version == "v2");
    FUZZ_CHECK(is_http_url(s.musicgpt.base_url));
    // public_url is joined with "/webhook/{token}", so no trailing slash.
    FUZZ_CHECK(s.webhook.public_url.empty() || is_http_url(s.webhook.public_url));
    FUZZ_CHECK(s.webhook.secret.empty() || s.webhook.secret.size() >= 16);
    FUZZ_CHECK(s.webhook.tls_cert.empty() == s.webhook.tls_key.empty());
    FUZZ_CHECK(s.musicgpt.api_key.empty() || s.musicgpt.api_key_file.empty());
    FUZZ_CHECK(!s.storage.database.empty() && !s.storage.output_dir.empty());
    return 0;
}
