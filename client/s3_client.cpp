#include "client/s3_client.hpp"

#include "client/error.hpp"
#include "client/s3_xml.hpp"
#include "common/crypto.hpp"
#include "common/posix_file.hpp"
#include "common/sigv4.hpp"
#include "common/time.hpp"

#include <boost/beast/http/buffer_body.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <limits>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace stemd::client {

namespace net = boost::asio;
namespace http = boost::beast::http;

namespace {

using query_list = std::vector<std::pair<std::string, std::string>>;
using header_list = std::vector<std::pair<std::string, std::string>>;

// XML answers (errors, upload ids, listings) are small; a listing of
// 1000 uploads with long keys stays well under this.
constexpr std::size_t xml_limit = 4 * 1024 * 1024;
constexpr std::int64_t max_presign_seconds = 7 * 24 * 3600; // S3's limit

// What one request is, for signing, sending and for the error messages.
struct call {
    http::verb verb;
    std::string key; // "" for the bucket itself
    query_list query;
    header_list headers;
    std::span<const char> body;
    std::string what; // "create a multipart upload of"
    // A part upload or the completion of an upload (see s3_error_code).
    bool upload_step = false;
};

std::string object_name(const s3_settings& s, const std::string& key) {
    return "s3://" + s.bucket + (key.empty() ? "" : "/" + key);
}

// "/bucket/key" as it goes on the wire, below any path the endpoint has.
std::string wire_path(const http_url& endpoint, const s3_settings& s, const std::string& key) {
    std::string base = endpoint.target.substr(0, endpoint.target.find('?'));
    while (!base.empty() && base.back() == '/')
        base.pop_back();
    return base + "/" + sigv4::uri_encode(s.bucket, false) +
           (key.empty() ? "" : "/" + sigv4::uri_encode(key, true));
}

result<http_url> endpoint_url(const s3_settings& s) {
    auto url = parse_http_url(s.endpoint);
    if (!url)
        return stemd::error{
            make_error_code(error::bad_url),
            "the S3 endpoint \"" + redact(s.endpoint) +
                "\" is not an http(s) URL; set it like https://s3.eu-west-1.amazonaws.com"};
    return *url;
}

// The advice that goes with S3's error code.
std::string advice(std::string_view code, unsigned status) {
    if (code == "SignatureDoesNotMatch")
        return "check the secret key, and that the endpoint and region are the bucket's";
    if (code == "InvalidAccessKeyId")
        return "check the access key";
    if (code == "AccessDenied")
        return "check that these credentials may read and write the bucket";
    if (code == "NoSuchBucket")
        return "create the bucket or correct its name in storage.output";
    if (code == "RequestTimeTooSkewed")
        return "correct this machine's clock (NTP); retried meanwhile";
    if (code == "ExpiredToken")
        return "renew the temporary credentials (s3.session_token); retried meanwhile";
    if (code == "RequestTimeout")
        return "the request's bytes came too slowly; retried later";
    if (code == "NoSuchKey" || (code.empty() && status == 404))
        return "there is no such object (deleted, or its upload never completed)";
    if (code == "NoSuchUpload")
        return "the upload was completed or aborted meanwhile; a new attempt starts a new one";
    if (code == "EntityTooSmall")
        return "every part but the last must be at least 5 MiB";
    if (code == "XAmzContentSHA256Mismatch" || code == "BadDigest")
        return "the bytes changed on the way; send them again";
    if (code == "InvalidPart" || code == "InvalidPartOrder")
        return "upload the parts again and complete with their ETags in order";
    if (status >= 500 || status == 429 || code == "SlowDown" || code == "InternalError" ||
        code == "ServiceUnavailable")
        return "the server is busy or failing; try again later";
    return "see the S3 server's documentation of this error";
}

stemd::error s3_failure(const call& c, const s3_settings& s, unsigned status,
                        std::string_view body) {
    const std::string code = s3_xml::text(body, "Code").value_or("");
    const std::string message = s3_xml::text(body, "Message").value_or("");
    const boost::system::error_code ec = s3_error_code(status, code, c.upload_step);
    std::string text = "S3 refused to " + c.what + " " + object_name(s, c.key) + " at " +
                       redact(s.endpoint) + ": HTTP " + std::to_string(status);
    if (!code.empty())
        text += " " + code;
    if (!message.empty())
        text += " (" + message + ")";
    return {ec, text + "; " + advice(code, status)};
}

stemd::error transport(const call& c, const s3_settings& s, boost::system::error_code ec) {
    return transport_error(ec, "cannot " + c.what + " " + object_name(s, c.key) + " at " +
                                   redact(s.endpoint) + ": " + ec.message());
}

// The signed request header; Content-Length is the body's size.
http::request<http::empty_body> signed_header(const call& c, const s3_settings& s,
                                              const http_url& endpoint, const std::string& path) {
    const std::string date = sigv4::amz_date(now_millis() / 1000);
    const std::string payload = sha256_hex(std::string_view(c.body.data(), c.body.size()));
    sigv4::request r{std::string(http::to_string(c.verb)), path, c.query, c.headers, payload};
    r.headers.emplace_back("host", endpoint.host_header());
    r.headers.emplace_back("x-amz-date", date);
    r.headers.emplace_back("x-amz-content-sha256", payload);
    if (!s.session_token.empty())
        r.headers.emplace_back("x-amz-security-token", s.session_token);

    const std::string query = sigv4::canonical_query(c.query);
    http::request<http::empty_body> req{c.verb, path + (query.empty() ? "" : "?" + query), 11};
    for (const auto& [name, value] : r.headers)
        req.set(name, value);
    req.set(http::field::authorization,
            sigv4::authorization(r, {s.region, "s3"}, {s.access_key, s.secret_key, s.session_token},
                                 date));
    req.content_length(c.body.size());
    return req;
}

// Opens a connection and sends the whole request; the caller reads.
net::awaitable<result<connection>> send(const call& c, const s3_settings& s,
                                        net::ssl::context& tls) {
    auto endpoint = endpoint_url(s);
    if (!endpoint)
        co_return endpoint.error();
    http_url url = *endpoint;
    auto req = signed_header(c, s, url, wire_path(url, s, c.key));
    url.target = std::string(req.target());
    auto conn = co_await connection::open(url, s.connect, tls);
    if (!conn)
        co_return transport(c, s, conn.error());
    bool sent = false;
    auto written =
        co_await conn->write_streaming(req, [&]() -> boost::system::result<std::span<const char>> {
            if (sent || c.body.empty())
                return std::span<const char>{};
            sent = true;
            return c.body;
        });
    if (!written)
        co_return transport(c, s, written.error());
    co_return std::move(*conn);
}

// One whole exchange; a status outside 2xx (or an <Error> body) is the
// failure S3 described.
net::awaitable<result<http::response<http::string_body>>>
exchange_xml(const call& c, const s3_settings& s, net::ssl::context& tls) {
    auto conn = co_await send(c, s, tls);
    if (!conn)
        co_return conn.error();
    auto res = co_await conn->read(xml_limit);
    co_await conn->close();
    if (!res)
        co_return transport(c, s, res.error());
    const unsigned status = res->result_int();
    if (status < 200 || status > 299 || s3_xml::is_error(res->body()))
        co_return s3_failure(c, s, status, res->body());
    co_return std::move(*res);
}

bool gone(const result<http::response<http::string_body>>& r) {
    return !r && r.error().code == make_error_code(error::not_found);
}

stemd::error file_failure(const s3_settings& s, const std::string& key, const std::string& file,
                          const char* step, int err) {
    return {make_error_code(error::file_io),
            "cannot " + std::string(step) + " " + file + " while fetching " + object_name(s, key) +
                ": " + std::strerror(err) + "; check the disk's space and permissions"};
}

// The body of a refusal, at most 64 KiB of it, for S3's Code and Message.
net::awaitable<std::string> refusal_body(connection& conn,
                                         http::response_parser<http::buffer_body>& parser,
                                         std::span<char> buffer) {
    std::string body;
    while (!parser.is_done() && body.size() < 64 * 1024) {
        auto n = co_await conn.read_some(parser, buffer);
        if (!n || *n == 0)
            break;
        body.append(buffer.data(), *n);
    }
    co_return body;
}

} // namespace

boost::system::error_code s3_error_code(unsigned status, std::string_view code, bool upload_step) {
    // S3's own word that asking again can work, whatever the status (an
    // <Error> may also come with 200, for a completion).
    static constexpr std::string_view retried[] = {
        "RequestTimeout",       "BadDigest",          "XAmzContentSHA256Mismatch",
        "RequestTimeTooSkewed", "ExpiredToken",       "SlowDown",
        "InternalError",        "ServiceUnavailable",
    };
    if (std::find(std::begin(retried), std::end(retried), code) != std::end(retried))
        return make_error_code(error::server_busy);
    // The upload vanished under a part or the completion: the next attempt
    // starts a new one. For an abort or a listing it stays not_found (gone).
    if (code == "NoSuchUpload" && upload_step)
        return make_error_code(error::server_busy);
    if (status == 404)
        return make_error_code(error::not_found);
    if (status >= 500 || status == 429 || status == 408)
        return make_error_code(error::server_busy);
    return make_error_code(error::http_status);
}

s3_client::s3_client(s3_settings s, net::ssl::context& tls) : settings_(std::move(s)), tls_(&tls) {}

net::awaitable<result<std::string>> s3_client::create_upload(const std::string& key,
                                                             const std::string& content_type) {
    call c{http::verb::post, key, {{"uploads", ""}}, {}, {}, "create a multipart upload of"};
    if (!content_type.empty())
        c.headers.emplace_back("content-type", content_type);
    auto res = co_await exchange_xml(c, settings_, *tls_);
    if (!res)
        co_return res.error();
    auto id = s3_xml::text(res->body(), "UploadId");
    if (!id || id->empty())
        co_return stemd::error{
            make_error_code(error::bad_response),
            "S3 at " + redact(settings_.endpoint) + " started an upload of " +
                object_name(settings_, key) +
                " without an UploadId in its answer; is the endpoint an S3 server?"};
    co_return std::move(*id);
}

net::awaitable<result<std::string>> s3_client::upload_part(const std::string& key,
                                                           const std::string& upload_id,
                                                           int part_number,
                                                           std::span<const char> bytes) {
    const std::string what = "upload part " + std::to_string(part_number) + " of";
    if (part_number < 1 || part_number > 10000)
        co_return stemd::error{make_error_code(error::bad_response),
                               "cannot " + what + " " + object_name(settings_, key) +
                                   ": S3 numbers parts from 1 to 10000"};
    call c{http::verb::put,
           key,
           {{"partNumber", std::to_string(part_number)}, {"uploadId", upload_id}},
           {},
           bytes,
           what};
    c.upload_step = true;
    auto res = co_await exchange_xml(c, settings_, *tls_);
    if (!res)
        co_return res.error();
    const auto etag = res->find(http::field::etag);
    if (etag == res->end() || etag->value().empty())
        co_return stemd::error{make_error_code(error::bad_response),
                               "S3 at " + redact(settings_.endpoint) + " took part " +
                                   std::to_string(part_number) + " of " +
                                   object_name(settings_, key) +
                                   " without an ETag; the upload cannot be completed"};
    co_return std::string(etag->value());
}

net::awaitable<result<void>> s3_client::complete_upload(const std::string& key,
                                                        const std::string& upload_id,
                                                        const std::vector<std::string>& etags) {
    std::string body = "<CompleteMultipartUpload>";
    for (std::size_t i = 0; i < etags.size(); ++i)
        body += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" +
                s3_xml::escape(etags[i]) + "</ETag></Part>";
    body += "</CompleteMultipartUpload>";
    call c{http::verb::post,
           key,
           {{"uploadId", upload_id}},
           {{"content-type", "application/xml"}},
           body,
           "complete the multipart upload of"};
    c.upload_step = true;
    auto res = co_await exchange_xml(c, settings_, *tls_);
    if (!res)
        co_return res.error();
    co_return result<void>{};
}

net::awaitable<result<void>> s3_client::abort_upload(const std::string& key,
                                                     const std::string& upload_id) {
    call c{http::verb::delete_,
           key,
           {{"uploadId", upload_id}},
           {},
           {},
           "abort the multipart upload of"};
    auto res = co_await exchange_xml(c, settings_, *tls_);
    if (!res && !gone(res))
        co_return res.error();
    co_return result<void>{};
}

net::awaitable<result<std::vector<std::string>>>
s3_client::unfinished_uploads(const std::string& key) {
    std::vector<std::string> ids;
    query_list query{{"uploads", ""}, {"prefix", key}};
    // Bounded paging: a listing says IsTruncated and where to go on.
    for (int page = 0; page < 100; ++page) {
        call c{http::verb::get, "", query, {}, {}, "list the unfinished uploads of"};
        c.what += " " + object_name(settings_, key) + " in";
        auto res = co_await exchange_xml(c, settings_, *tls_);
        if (!res)
            co_return res.error();
        for (auto& [k, id] : s3_xml::uploads(res->body()))
            if (k == key)
                ids.push_back(std::move(id));
        if (s3_xml::text(res->body(), "IsTruncated").value_or("false") != "true")
            break;
        query = {
            {"uploads", ""},
            {"prefix", key},
            {"key-marker", s3_xml::text(res->body(), "NextKeyMarker").value_or("")},
            {"upload-id-marker", s3_xml::text(res->body(), "NextUploadIdMarker").value_or("")}};
    }
    co_return ids;
}

net::awaitable<result<s3_object>> s3_client::head(const std::string& key) {
    const call c{http::verb::head, key, {}, {}, {}, "look up"};
    auto conn = co_await send(c, settings_, *tls_);
    if (!conn)
        co_return conn.error();
    http::response_parser<http::buffer_body> parser;
    parser.skip(true); // a HEAD answer has no body, whatever Content-Length says
    auto read = co_await conn->read_header(parser);
    co_await conn->close();
    if (!read)
        co_return transport(c, settings_, read.error());
    const auto& res = parser.get();
    if (res.result_int() < 200 || res.result_int() > 299)
        co_return s3_failure(c, settings_, res.result_int(), "");
    s3_object object;
    if (const auto len = parser.content_length())
        object.size = *len;
    object.etag = std::string(res[http::field::etag]);
    object.content_type = std::string(res[http::field::content_type]);
    co_return object;
}

net::awaitable<result<void>> s3_client::remove(const std::string& key) {
    const call c{http::verb::delete_, key, {}, {}, {}, "delete"};
    auto res = co_await exchange_xml(c, settings_, *tls_);
    if (!res && !gone(res))
        co_return res.error();
    co_return result<void>{};
}

net::awaitable<result<std::uint64_t>> s3_client::fetch_to(const std::string& key,
                                                          const std::string& file) {
    const call c{http::verb::get, key, {}, {}, {}, "fetch"};
    auto conn = co_await send(c, settings_, *tls_);
    if (!conn)
        co_return conn.error();
    http::response_parser<http::buffer_body> parser;
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    auto read = co_await conn->read_header(parser);
    if (!read) {
        co_await conn->close();
        co_return transport(c, settings_, read.error());
    }
    std::vector<char> buffer(64 * 1024);
    const unsigned status = parser.get().result_int();
    if (status < 200 || status > 299) {
        const std::string body = co_await refusal_body(*conn, parser, buffer);
        co_await conn->close();
        co_return s3_failure(c, settings_, status, body);
    }
    auto failed = [&](stemd::error e) {
        std::error_code ignored;
        std::filesystem::remove(file, ignored);
        return e;
    };
    unique_fd fd(::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (!fd || ::fchmod(fd.get(), 0600) != 0) {
        const int err = errno;
        co_await conn->close();
        co_return failed(file_failure(settings_, key, file, "create", err));
    }
    std::uint64_t total = 0;
    while (!parser.is_done()) {
        auto n = co_await conn->read_some(parser, buffer);
        if (!n) {
            co_await conn->close();
            co_return failed(transport(c, settings_, n.error()));
        }
        if (*n == 0)
            break;
        if (!write_all(fd.get(), buffer.data(), *n)) {
            const int err = errno;
            co_await conn->close();
            co_return failed(file_failure(settings_, key, file, "write", err));
        }
        total += *n;
    }
    co_await conn->close();
    if (!parser.is_done())
        co_return failed(transport(c, settings_, make_error_code(error::length_mismatch)));
    const int sync_err = ::fsync(fd.get()) != 0 ? errno : fd.close();
    if (sync_err != 0)
        co_return failed(file_failure(settings_, key, file, "sync", sync_err));
    co_return total;
}

std::string s3_client::presigned(std::string_view method, const std::string& key,
                                 std::chrono::seconds lifetime,
                                 std::optional<std::int64_t> now_unix) const {
    auto endpoint = endpoint_url(settings_);
    if (!endpoint)
        return "";
    const std::string path = wire_path(*endpoint, settings_, key);
    const std::string date = sigv4::amz_date(now_unix.value_or(now_millis() / 1000));
    const sigv4::request r{std::string(method), path, {}, {{"host", endpoint->host_header()}}, ""};
    const std::int64_t expires = std::clamp<std::int64_t>(lifetime.count(), 1, max_presign_seconds);
    const std::string query = sigv4::presigned_query(
        r, {settings_.region, "s3"},
        {settings_.access_key, settings_.secret_key, settings_.session_token}, date, expires);
    http_url url = *endpoint;
    url.target = path + "?" + query;
    return url.to_string();
}

} // namespace stemd::client
