#include "server/file_route.hpp"

#include "common/log.hpp"
#include "common/text.hpp"
#include "jobs/object_store.hpp"
#include "jobs/service.hpp"
#include "server/object_files.hpp"
#include "server/reply.hpp"
#include "server/stem_files.hpp"

#include <boost/beast/http/field.hpp>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>

#include <unistd.h>

namespace stemd::server {

namespace net = boost::asio;
namespace http = boost::beast::http;

namespace {

// Each read of the body: small enough that one pread from the page cache
// or a local disk holds the io thread only briefly, large enough to keep
// the socket busy.
constexpr std::size_t chunk_bytes = 64 * 1024;

// A decimal number of at most 19 digits (no sign, no space); nullopt
// otherwise, so that no value wraps.
std::optional<std::uint64_t> read_number(std::string_view text) {
    if (text.empty() || text.size() > 19)
        return std::nullopt;
    std::uint64_t n = 0;
    for (const char c : text) {
        if (c < '0' || c > '9')
            return std::nullopt;
        n = n * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return n;
}

// If-Range: the range applies only when it is this strong ETag; a date
// (there is no Last-Modified to compare it with) or another tag means the
// whole file.
bool if_range_holds(const listener::request& req, std::string_view etag) {
    const auto found = req.find(http::field::if_range);
    return found == req.end() || trim(found->value()) == etag;
}

// A name for Content-Disposition that needs no quoting or escaping.
std::string download_name(const std::string& path) {
    std::string name = std::filesystem::path(path).filename().string();
    for (char& c : name) {
        const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                           (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
        if (!plain)
            c = '_';
    }
    return name.empty() ? std::string("stem") : name;
}

// The body bytes first..first+length-1 of `fd`, one chunk per call, then "".
listener::reply streamed(listener::response header, std::shared_ptr<unique_fd> fd,
                         std::uint64_t first, std::uint64_t length, std::string job_id) {
    auto stream = [fd = std::move(fd), at = first, left = length,
                   job_id = std::move(job_id)]() mutable -> net::awaitable<std::string> {
        std::string chunk(static_cast<std::size_t>(std::min<std::uint64_t>(left, chunk_bytes)),
                          '\0');
        if (chunk.empty())
            co_return std::string();
        const auto n = ::pread(fd->get(), chunk.data(), chunk.size(), static_cast<off_t>(at));
        if (n <= 0) {
            // Shrunk or unreadable since it was opened: the reply ends short,
            // and the client sees a body shorter than its Content-Length.
            log_warning(job_id, std::string("cannot read a served file: ") +
                                    (n == 0 ? "it ended early" : std::strerror(errno)));
            left = 0;
            co_return std::string();
        }
        chunk.resize(static_cast<std::size_t>(n));
        at += static_cast<std::uint64_t>(n);
        left -= static_cast<std::uint64_t>(n);
        co_return chunk;
    };
    return {std::move(header), std::move(stream)};
}

listener::response base_header(const std::string& etag, unsigned status) {
    listener::response r{static_cast<http::status>(status), 11};
    r.set(http::field::etag, etag);
    r.set(http::field::accept_ranges, "bytes");
    r.set(http::field::cache_control, "private, no-cache");
    // A stem is served on the page's own origin: a browser must not take it
    // for HTML or script, whatever its bytes look like.
    r.set("X-Content-Type-Options", "nosniff");
    return r;
}

listener::reply serve(stem_file f, const listener::request& req) {
    const std::string etag = "\"" + f.record.sha256 + "\"";
    if (const auto inm = req.find(http::field::if_none_match);
        inm != req.end() && etag_matches(inm->value(), etag))
        return {base_header(etag, 304), {}};
    byte_range range;
    if (const auto h = req.find(http::field::range); h != req.end() && if_range_holds(req, etag))
        range = parse_range(h->value(), f.size);
    if (range.what == byte_range::kind::unsatisfiable) {
        auto r = error_response(416, "the range " + std::string(req[http::field::range]) +
                                         " is not within the file's " + std::to_string(f.size) +
                                         " bytes");
        r.set(http::field::content_range, "bytes */" + std::to_string(f.size));
        r.set(http::field::accept_ranges, "bytes");
        return {std::move(r), {}};
    }
    const bool partial = range.what == byte_range::kind::partial;
    const std::uint64_t first = partial ? range.first : 0;
    const std::uint64_t length = partial ? range.last - range.first + 1 : f.size;
    auto r = base_header(etag, partial ? 206 : 200);
    r.set(http::field::content_type, f.media_type);
    r.set(http::field::content_disposition,
          "inline; filename=\"" + download_name(f.record.path) + "\"");
    if (partial)
        r.set(http::field::content_range, "bytes " + std::to_string(range.first) + "-" +
                                              std::to_string(range.last) + "/" +
                                              std::to_string(f.size));
    r.content_length(length);
    if (req.method() == http::verb::head)
        return {std::move(r), {}};
    return streamed(std::move(r), std::make_shared<unique_fd>(std::move(f.fd)), first, length,
                    f.record.job_id);
}

} // namespace

byte_range parse_range(std::string_view header, std::uint64_t size) {
    header = trim(header);
    constexpr std::string_view unit = "bytes=";
    if (header.size() < unit.size() || lowercase(header.substr(0, unit.size())) != unit)
        return {};
    const auto spec = trim(header.substr(unit.size()));
    const auto dash = spec.find('-');
    if (spec.find(',') != std::string_view::npos || dash == std::string_view::npos)
        return {};
    const auto from = spec.substr(0, dash);
    const auto to = spec.substr(dash + 1);
    if (from.empty()) { // -n: the last n bytes
        const auto n = read_number(to);
        if (!n)
            return {};
        if (*n == 0 || size == 0)
            return {byte_range::kind::unsatisfiable};
        return {byte_range::kind::partial, size - std::min(*n, size), size - 1};
    }
    const auto first = read_number(from);
    const auto last = to.empty() ? std::optional<std::uint64_t>(UINT64_MAX) : read_number(to);
    if (!first || !last || *last < *first)
        return {};
    if (*first >= size)
        return {byte_range::kind::unsatisfiable};
    return {byte_range::kind::partial, *first, std::min(*last, size - 1)};
}

std::optional<listener::reply> file_reply(jobs::service& service, const listener::request& req,
                                          std::string_view encoded_path) {
    auto target = parse_file_target(encoded_path);
    if (!target || !target->rest.empty())
        return std::nullopt;
    if (req.method() != http::verb::get && req.method() != http::verb::head)
        return listener::reply{method_not_allowed({"GET", "HEAD"}, "/v1/jobs/{key}/files/{file}"),
                               {}};
    auto record = done_file(service, target->key, target->file);
    if (record && jobs::is_object_path(record->path) && service.objects())
        return object_redirect(*service.objects(), *record, req.method());
    auto file = record ? open_record(service, *record) : result<stem_file>(record.error());
    if (!file) {
        if (http_status(file.error()) == 500) {
            log_error("",
                      "cannot serve a file of job " + target->key + ": " + file.error().message);
            return listener::reply{error_response(500, "cannot read the job; see the stemd log"),
                                   {}};
        }
        return listener::reply{error_response(file.error()), {}};
    }
    return serve(std::move(*file), req);
}

} // namespace stemd::server
