#include "server/page_route.hpp"

#include "server/page_assets.hpp"
#include "server/reply.hpp"

#include <string>

namespace stemd::server {

namespace http = boost::beast::http;

namespace {

void set_page_headers(listener::response& r) {
    r.set("Content-Security-Policy", page_security_policy);
    r.set("X-Content-Type-Options", "nosniff");
    r.set("Referrer-Policy", "no-referrer");
    r.set("X-Frame-Options", "DENY");
    // Revalidated on every load (cheap: a 304), so a new stemd's page is
    // never mixed with an old one's script.
    r.set(http::field::cache_control, "no-cache");
}

} // namespace

bool is_page_path(std::string_view path) {
    return path == "/" || path.starts_with("/assets/");
}

listener::response page_response(const listener::request& req, std::string_view path) {
    const auto method = req.method();
    if (method != http::verb::get && method != http::verb::head) {
        return method_not_allowed({"GET", "HEAD"}, path);
    }
    const page_asset* asset = find_page_asset(path);
    if (asset == nullptr) {
        auto r = error_response(404, "no page asset at " + std::string(path));
        set_page_headers(r);
        return r;
    }
    listener::response r{http::status::ok, req.version()};
    set_page_headers(r);
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
