#include "server/page_route.hpp"

#include "server/page_assets.hpp"
#include "server/reply.hpp"

#include <string>

namespace stemd::server {

namespace http = boost::beast::http;

namespace {

// Only what an origin is made of: anything else (a space, ';', ',', a
// quote, CR/LF) could add a directive or a header.
bool is_origin(std::string_view text) {
    const auto scheme_end = text.find("://");
    if (scheme_end == std::string_view::npos || text.size() == scheme_end + 3)
        return false;
    const auto scheme = text.substr(0, scheme_end);
    if (scheme != "https" && scheme != "http")
        return false;
    for (const char c : text.substr(scheme_end + 3)) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '.' || c == '-' || c == ':' || c == '[' ||
                        c == ']';
        if (!ok)
            return false;
    }
    return true;
}

void set_page_headers(listener::response& r, std::string_view media_origin) {
    r.set("Content-Security-Policy", page_policy(media_origin));
    r.set("X-Content-Type-Options", "nosniff");
    r.set("Referrer-Policy", "no-referrer");
    r.set("X-Frame-Options", "DENY");
    // Revalidated on every load (cheap: a 304), so a new stemd's page is
    // never mixed with an old one's script.
    r.set(http::field::cache_control, "no-cache");
}

} // namespace

std::string page_policy(std::string_view media_origin) {
    std::string policy(page_security_policy);
    if (media_origin.empty() || !is_origin(media_origin))
        return policy;
    constexpr std::string_view media = "media-src 'self'";
    const auto at = policy.find(media);
    if (at != std::string::npos)
        policy.insert(at + media.size(), " " + std::string(media_origin));
    return policy;
}

bool is_page_path(std::string_view path) {
    return path == "/" || path.starts_with("/assets/");
}

listener::response page_response(const listener::request& req, std::string_view path,
                                 std::string_view media_origin) {
    const auto method = req.method();
    if (method != http::verb::get && method != http::verb::head) {
        return method_not_allowed({"GET", "HEAD"}, path);
    }
    const page_asset* asset = find_page_asset(path);
    if (asset == nullptr) {
        auto r = error_response(404, "no page asset at " + std::string(path));
        set_page_headers(r, media_origin);
        return r;
    }
    listener::response r{http::status::ok, req.version()};
    set_page_headers(r, media_origin);
    r.set(http::field::etag, asset->etag);
    if (const auto inm = req.find(http::field::if_none_match);
        inm != req.end() && etag_matches(inm->value(), asset->etag)) {
        r.result(http::status::not_modified);
        return r;
    }
    r.set(http::field::content_type, asset->content_type);
    if (method == http::verb::head) {
        // The length a GET would send, and no body.
        r.content_length(asset->bytes.size());
        return r;
    }
    r.body().assign(asset->bytes);
    r.prepare_payload();
    return r;
}

} // namespace stemd::server
