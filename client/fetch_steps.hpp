#pragma once

// The steps every GET of a stem shares, whether its bytes go to a file
// (downloader.cpp) or to S3 (s3_download.cpp): checking the link, building
// the request, vetting and following redirects, and saying what a failure
// means. Included only by .cpp files.

#include "client/connection.hpp"
#include "client/downloader.hpp"
#include "client/url.hpp"
#include "common/error.hpp"

#include <boost/beast/http/string_body.hpp>

#include <set>
#include <string>
#include <string_view>

namespace stemd::client {

// Where a download is now, and the hops that led there.
struct fetch_route {
    http_url url;
    std::set<std::string> visited;
    int redirects = 0;

    std::string where() const { return "downloading " + url.redacted(); }
};

// Parses and vets the link (https unless allow_http).
result<fetch_route> start_route(const std::string& link, const connect_options& connect);

// The GET of route.url, without Range.
boost::beast::http::request<boost::beast::http::string_body> get_request(const fetch_route& route);

// Moves the route to `location` (of a 3xx answer `status`), vetting it like
// the first link: bounded, no loop, no https -> http unless allowed.
result<void> follow_redirect(fetch_route& route, std::string_view location, unsigned status,
                             const download_options& options);

// Connecting failed (with advice for refused addresses and untrusted TLS).
stemd::error connect_failure(const fetch_route& route, boost::system::error_code ec);
// Sending or reading failed.
stemd::error network_failure(const fetch_route& route, boost::system::error_code ec,
                             const std::string& what);
// An answer that is not a body, a redirect or a resumed range.
stemd::error status_failure(const fetch_route& route, unsigned status);
stemd::error too_large_failure(const fetch_route& route, std::uint64_t bytes,
                               std::uint64_t max_bytes);
// max_duration ran out; `retry` says what a retry does ("resumes it").
stemd::error out_of_time_failure(const fetch_route& route, std::uint64_t bytes,
                                 std::chrono::milliseconds max_duration, std::string_view retry);

// The extension of a file: the URL path's, else Content-Type's, else the
// fallback; "bin" for anything that could take another file's name.
std::string pick_extension(const http_url& url, std::string_view content_type,
                           const std::string& fallback);

} // namespace stemd::client
