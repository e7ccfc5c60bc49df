#include "client/fetch_steps.hpp"

#include "client/error.hpp"
#include "client/media_type.hpp"
#include "client/partial_file.hpp"

namespace stemd::client {

namespace http = boost::beast::http;

namespace {

std::string advice(const stemd::error& e) {
    if (e.code == error::address_not_allowed)
        return "the link points to a non-public address and is refused";
    if (e.code == error::scheme_not_allowed)
        return "only https links are allowed";
    if (e.code == error::tls_not_trusted)
        return "the server's TLS certificate is not trusted; check the system trust store or "
               "the configured CA file";
    return "try again later";
}

stemd::error fail(error e, std::string message) {
    return {make_error_code(e), std::move(message)};
}

} // namespace

result<fetch_route> start_route(const std::string& link, const connect_options& connect) {
    auto parsed = parse_http_url(link);
    if (!parsed)
        return stemd::error{parsed.error(), "the download link " + redact(link) +
                                                " is not an absolute http(s) URL; check the "
                                                "link MusicGPT returned"};
    fetch_route route{std::move(*parsed), {}, 0};
    if (!route.url.https && !connect.allow_http)
        return fail(error::scheme_not_allowed,
                    route.where() + ": plain http links are not allowed; use an https link");
    route.visited.insert(route.url.to_string());
    return route;
}

http::request<http::string_body> get_request(const fetch_route& route) {
    http::request<http::string_body> req{http::verb::get, route.url.target, 11};
    req.set(http::field::host, route.url.host_header());
    req.set(http::field::user_agent, "stemd/" STEMD_VERSION);
    req.set(http::field::accept, "*/*");
    return req;
}

result<void> follow_redirect(fetch_route& route, std::string_view location, unsigned status,
                             const download_options& options) {
    const std::string where = route.where();
    if (location.empty())
        return fail(error::bad_redirect, where + ": HTTP " + std::to_string(status) +
                                             " without a Location header; check the link");
    if (route.redirects >= options.max_redirects)
        return fail(error::too_many_redirects, where + ": more than " +
                                                   std::to_string(options.max_redirects) +
                                                   " redirects; check the link");
    auto next = resolve_location(route.url, location);
    if (!next)
        return fail(error::bad_redirect, where + ": redirect to an unusable location " +
                                             redact(location) + "; check the link");
    if (route.url.https && !next->https && !options.connect.allow_http)
        return fail(error::scheme_not_allowed, where + ": redirect from https to plain http " +
                                                   next->redacted() + " is refused");
    if (!route.visited.insert(next->to_string()).second)
        return fail(error::redirect_loop, where + ": redirect back to " + next->redacted() +
                                              ", a URL already visited; check the link");
    ++route.redirects;
    route.url = std::move(*next);
    return {};
}

stemd::error connect_failure(const fetch_route& route, boost::system::error_code ec) {
    auto e = transport_error(ec, "");
    e.message = route.where() + ": " + ec.message() + "; " + advice(e);
    return e;
}

stemd::error network_failure(const fetch_route& route, boost::system::error_code ec,
                             const std::string& what) {
    return transport_error(ec,
                           route.where() + ": " + what + ": " + ec.message() + "; try again later");
}

stemd::error status_failure(const fetch_route& route, unsigned status) {
    const std::string head = route.where() + ": the server answered HTTP " + std::to_string(status);
    if (status == 401 || status == 403 || status == 404 || status == 410)
        return fail(error::link_expired, head + "; the signed link has probably expired: "
                                                "fetch a fresh link and retry");
    if (status == 408 || status == 425 || status == 429 || status / 100 == 5)
        return fail(error::server_busy, head + "; the server is busy or failing: try again later");
    if (status == 206)
        return fail(error::bad_response, head + " to a request without Range; try again later");
    return fail(error::http_status, head + "; retrying will not help: check the link");
}

stemd::error too_large_failure(const fetch_route& route, std::uint64_t bytes,
                               std::uint64_t max_bytes) {
    return fail(error::body_too_large,
                route.where() + ": the file has at least " + std::to_string(bytes) +
                    " bytes, more than the limit of " + std::to_string(max_bytes) +
                    "; raise the download size limit if the file is expected to be this large");
}

stemd::error out_of_time_failure(const fetch_route& route, std::uint64_t bytes,
                                 std::chrono::milliseconds max_duration, std::string_view retry) {
    return fail(error::too_slow, route.where() + ": still unfinished after " +
                                     std::to_string(max_duration.count() / 1000) + " s (" +
                                     std::to_string(bytes) +
                                     " bytes so far), longer than download.max_seconds allows; "
                                     "the server is too slow: retrying " +
                                     std::string(retry));
}

std::string pick_extension(const http_url& url, std::string_view content_type,
                           const std::string& fallback) {
    std::string ext = extension_from_url(url.target);
    if (ext.empty())
        ext = extension_from_content_type(content_type);
    // The fallback is the caller's: one naming a .part or a record, or
    // with a dot, would let this file take another one's name.
    if (ext.empty())
        ext = fallback;
    if (ext.empty() || is_reserved_extension(ext) || ext.find_first_of("./") != std::string::npos)
        ext = "bin";
    return ext;
}

} // namespace stemd::client
