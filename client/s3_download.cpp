#include "client/s3_download.hpp"

#include "client/error.hpp"
#include "client/fetch_steps.hpp"
#include "client/media_type.hpp"

#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>

#include <optional>
#include <vector>

namespace stemd::client {

namespace net = boost::asio;
namespace http = boost::beast::http;

namespace {

constexpr std::size_t chunk_size = 64 * 1024;

using body_parser = http::response_parser<http::buffer_body>;

class s3_download_job {
public:
    s3_download_job(const s3_download_request& r, const download_options& o, net::ssl::context& tls,
                    s3_client& s3)
        : request_(r), options_(o), tls_(tls), s3_(s3) {}

    net::awaitable<result<s3_stored>> run();

private:
    // nullopt: go again (a redirect was followed).
    using step = result<std::optional<s3_stored>>;

    net::awaitable<step> attempt();
    net::awaitable<step> receive(connection& conn, body_parser& parser);
    net::awaitable<result<void>> copy_body(connection& conn, body_parser& parser,
                                           s3_upload& upload);

    const s3_download_request& request_;
    const download_options& options_;
    net::ssl::context& tls_;
    s3_client& s3_;
    fetch_route route_;
    std::chrono::steady_clock::time_point deadline_;
};

net::awaitable<result<s3_stored>> s3_download_job::run() {
    if (request_.key_base.empty() || request_.key_base.back() == '/')
        throw std::invalid_argument("download_to_s3: key_base must name an object");
    deadline_ = std::chrono::steady_clock::now() + options_.max_duration;
    auto route = start_route(request_.url, options_.connect);
    if (!route)
        co_return route.error();
    route_ = std::move(*route);
    for (;;) {
        auto s = co_await attempt();
        if (!s)
            co_return s.error();
        if (*s)
            co_return std::move(**s);
    }
}

net::awaitable<s3_download_job::step> s3_download_job::attempt() {
    auto opened = co_await connection::open(route_.url, options_.connect, tls_);
    if (!opened)
        co_return connect_failure(route_, opened.error());
    connection conn = std::move(*opened);
    auto req = get_request(route_);
    body_parser parser;
    parser.header_limit(static_cast<std::uint32_t>(response_header_limit));
    parser.body_limit(boost::none); // enforced by the upload, as bytes arrive
    if (auto w = co_await conn.write(req); !w)
        co_return network_failure(route_, w.error(), "sending the request failed");
    if (auto h = co_await conn.read_header(parser); !h)
        co_return network_failure(route_, h.error(), "reading the response header failed");
    const unsigned status = parser.get().result_int();
    if (status == 200)
        co_return co_await receive(conn, parser);
    co_await conn.close();
    if (status / 100 == 3) {
        const auto location = parser.get()[http::field::location];
        auto followed =
            follow_redirect(route_, {location.data(), location.size()}, status, options_);
        if (!followed)
            co_return followed.error();
        co_return std::optional<s3_stored>();
    }
    co_return status_failure(route_, status);
}

net::awaitable<s3_download_job::step> s3_download_job::receive(connection& conn,
                                                               body_parser& parser) {
    const auto content_type = parser.get()[http::field::content_type];
    const std::string key = request_.key_base + "." +
                            pick_extension(route_.url, content_type, request_.fallback_extension);
    std::optional<std::uint64_t> expected;
    if (parser.content_length())
        expected = *parser.content_length();
    if (expected && *expected > options_.max_bytes) {
        co_await conn.close();
        co_return too_large_failure(route_, *expected, options_.max_bytes);
    }
    if (request_.progress)
        *request_.progress = {0, expected};
    s3_upload upload(s3_, key, options_.max_bytes, s3_part_size_for(expected, request_.part_size),
                     request_.job_id);
    // The type of the key's extension, as the local file route serves a
    // file, not whatever the remote server said (it may say nothing, or
    // application/octet-stream for an mp3). Named, not a temporary of the
    // co_await: GCC 12 destroys such temporaries twice.
    const std::string type = audio_content_type(key);
    if (auto begun = co_await upload.begin(type); !begun) {
        co_await conn.close();
        co_return begun.error();
    }
    if (auto copied = co_await copy_body(conn, parser, upload); !copied) {
        co_await upload.abort();
        co_return copied.error();
    }
    const std::optional<std::string> no_digest; // named, as above
    auto stored = co_await upload.finish(expected, no_digest);
    if (!stored)
        co_return stored.error();
    co_return std::optional<s3_stored>(std::move(*stored));
}

// Each chunk is handed to the upload before the next is read: while a part
// is being uploaded, the download waits.
net::awaitable<result<void>> s3_download_job::copy_body(connection& conn, body_parser& parser,
                                                        s3_upload& upload) {
    std::vector<char> buffer(chunk_size);
    while (!parser.is_done()) {
        auto n = co_await conn.read_some(parser, buffer);
        if (!n)
            co_return transport_error(
                n.error(), route_.where() + ": the transfer broke off after " +
                               std::to_string(upload.size()) + " bytes: " + n.error().message() +
                               "; retrying starts the upload over");
        if (std::chrono::steady_clock::now() > deadline_) {
            co_await conn.close();
            co_return out_of_time_failure(route_, upload.size() + *n, options_.max_duration,
                                          "starts the upload over");
        }
        if (upload.size() + *n > options_.max_bytes) {
            co_await conn.close();
            co_return too_large_failure(route_, upload.size() + *n, options_.max_bytes);
        }
        if (auto written = co_await upload.write({buffer.data(), *n}); !written) {
            co_await conn.close();
            co_return written.error();
        }
        if (options_.on_bytes)
            options_.on_bytes(*n);
        if (request_.progress)
            request_.progress->received = upload.size();
    }
    co_await conn.close();
    co_return result<void>{};
}

} // namespace

net::awaitable<result<s3_stored>> download_to_s3(const s3_download_request& r,
                                                 const download_options& options,
                                                 net::ssl::context& tls, s3_client& s3) {
    s3_download_job job(r, options, tls, s3);
    co_return co_await job.run();
}

} // namespace stemd::client
