#include "client/downloader.hpp"

#include "client/error.hpp"
#include "common/crypto.hpp"

#include <boost/asio/ssl/error.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/system/system_error.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <optional>
#include <set>
#include <stdexcept>
#include <vector>

namespace stemd::client {

namespace net = boost::asio;
namespace http = boost::beast::http;
namespace fs = std::filesystem;

using download_outcome = boost::system::result<download_result, download_failure>;

void throw_exception_from_error(const download_failure& f, const boost::source_location&) {
    throw boost::system::system_error(f.code, f.message);
}

namespace {

constexpr std::uint32_t header_limit = 16 * 1024;
constexpr std::size_t chunk_size = 64 * 1024;

// ---- extensions ---------------------------------------------------------

std::string lowercase(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](char c) {
        return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    });
    return out;
}

bool is_audio_extension(std::string_view ext) {
    static constexpr std::array<std::string_view, 13> known{"mp3",  "wav", "flac", "ogg",  "oga",
                                                            "opus", "m4a", "aac",  "aiff", "aif",
                                                            "webm", "mp4", "wma"};
    return std::find(known.begin(), known.end(), ext) != known.end();
}

// The audio extension of the URL's last path segment, or "".
std::string extension_from_url(const http_url& url) {
    const std::string_view target = url.target;
    const std::string_view path = target.substr(0, target.find('?'));
    const std::string_view segment = path.substr(path.rfind('/') + 1);
    const auto dot = segment.rfind('.');
    if (dot == std::string_view::npos)
        return "";
    std::string ext = lowercase(segment.substr(dot + 1));
    return is_audio_extension(ext) ? ext : "";
}

std::string extension_from_content_type(std::string_view content_type) {
    std::string type = lowercase(content_type.substr(0, content_type.find(';')));
    while (!type.empty() && std::isspace(static_cast<unsigned char>(type.back())) != 0)
        type.pop_back();
    const auto first = type.find_first_not_of(" \t");
    type.erase(0, first == std::string::npos ? type.size() : first);

    static constexpr std::pair<std::string_view, std::string_view> map[] = {
        {"audio/mpeg", "mp3"},    {"audio/wav", "wav"},      {"audio/x-wav", "wav"},
        {"audio/wave", "wav"},    {"audio/vnd.wave", "wav"}, {"audio/flac", "flac"},
        {"audio/x-flac", "flac"}, {"audio/ogg", "ogg"},      {"audio/opus", "opus"},
        {"audio/aac", "aac"},     {"audio/mp4", "m4a"},      {"audio/x-m4a", "m4a"},
        {"audio/aiff", "aiff"},   {"audio/x-aiff", "aiff"},  {"audio/webm", "webm"},
    };
    for (const auto& [mime, ext] : map)
        if (mime == type)
            return std::string(ext);
    return "";
}

// ---- Content-Range ------------------------------------------------------

struct content_range {
    std::uint64_t first = 0;
    std::uint64_t last = 0;
    std::optional<std::uint64_t> total; // absent for "/*"
};

bool parse_number(std::string_view s, std::uint64_t& out) {
    if (s.empty())
        return false;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc{} && end == s.data() + s.size();
}

// "bytes FIRST-LAST/TOTAL" or "bytes FIRST-LAST/*".
std::optional<content_range> parse_content_range(std::string_view v) {
    constexpr std::string_view unit = "bytes ";
    if (v.substr(0, unit.size()) != unit)
        return std::nullopt;
    v.remove_prefix(unit.size());
    const auto dash = v.find('-');
    const auto slash = v.find('/');
    if (dash == std::string_view::npos || slash == std::string_view::npos || dash > slash)
        return std::nullopt;
    content_range r;
    if (!parse_number(v.substr(0, dash), r.first) ||
        !parse_number(v.substr(dash + 1, slash - dash - 1), r.last) || r.first > r.last)
        return std::nullopt;
    const std::string_view total = v.substr(slash + 1);
    if (total != "*") {
        std::uint64_t t = 0;
        if (!parse_number(total, t) || t <= r.last)
            return std::nullopt;
        r.total = t;
    }
    return r;
}

// ---- files --------------------------------------------------------------

class unique_fd {
public:
    explicit unique_fd(int fd = -1) noexcept : fd_(fd) {}
    unique_fd(const unique_fd&) = delete;
    unique_fd& operator=(const unique_fd&) = delete;
    ~unique_fd() {
        if (fd_ >= 0)
            ::close(fd_);
    }
    int get() const noexcept { return fd_; }
    // Closes now so that the caller sees close()'s error (NFS reports
    // write-back failures there).
    int close() noexcept {
        const int rc = ::close(fd_);
        fd_ = -1;
        return rc;
    }

private:
    int fd_;
};

// "writing /x/y.mp3.part: No space left on device; ..."
download_failure file_failure(std::string_view verb, const fs::path& p, int err,
                              std::string_view detail = {}) {
    std::string message = std::string(verb) + " " + p.string() + std::string(detail) + ": " +
                          std::strerror(err) +
                          "; free disk space or fix the directory's permissions, then retry";
    return {make_error_code(error::file_io), 0, true, false, std::move(message)};
}

bool write_all(int fd, const char* data, std::size_t size) {
    while (size > 0) {
        const ssize_t n = ::write(fd, data, size);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        data += n;
        size -= static_cast<std::size_t>(n);
    }
    return true;
}

// Feeds the first `limit` bytes of a file into `hash` (all of it when
// limit is absent); returns how many there were.
boost::system::result<std::uint64_t, download_failure>
hash_file(const fs::path& p, sha256& hash, std::optional<std::uint64_t> limit = std::nullopt) {
    unique_fd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0)
        return file_failure("opening", p, errno);
    std::vector<char> buffer(chunk_size);
    std::uint64_t total = 0;
    while (!limit || total < *limit) {
        std::size_t want = buffer.size();
        if (limit)
            want = static_cast<std::size_t>(std::min<std::uint64_t>(want, *limit - total));
        const ssize_t n = ::read(fd.get(), buffer.data(), want);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return file_failure("reading", p, errno);
        }
        if (n == 0)
            break;
        hash.update(std::string_view(buffer.data(), static_cast<std::size_t>(n)));
        total += static_cast<std::uint64_t>(n);
    }
    if (limit && total != *limit)
        return download_failure{make_error_code(error::file_io), 0, true, false,
                                "reading " + p.string() +
                                    ": the partial download shrank while being resumed; retry"};
    return total;
}

// A rename is durable only once the directory entry itself is on disk.
int fsync_directory(const fs::path& dir) {
    unique_fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd.get() < 0 || ::fsync(fd.get()) != 0)
        return errno;
    return 0;
}

// What an earlier run left behind for this name.
struct disk_state {
    std::string extension;             // of the files below, "" when none found
    std::optional<fs::path> complete;  // the final file
    std::optional<std::uint64_t> part; // size of the .part file
};

std::optional<std::uint64_t> regular_file_size(const fs::path& p) {
    std::error_code ec;
    if (!fs::is_regular_file(p, ec))
        return std::nullopt;
    const auto size = fs::file_size(p, ec);
    if (ec)
        return std::nullopt;
    return size;
}

// The extension part of "{name}.{ext}" or "{name}.{ext}.part"; "" when
// `file` is neither.
std::string_view extension_in(std::string_view file, std::string_view name, bool part) {
    if (file.size() <= name.size() + 1 || file.substr(0, name.size()) != name ||
        file[name.size()] != '.')
        return "";
    std::string_view rest = file.substr(name.size() + 1);
    constexpr std::string_view suffix = ".part";
    const bool is_part =
        rest.size() > suffix.size() && rest.substr(rest.size() - suffix.size()) == suffix;
    if (is_part != part)
        return "";
    if (part)
        rest.remove_suffix(suffix.size());
    return rest.find('.') == std::string_view::npos ? rest : "";
}

// With no extension in the URL, the files are found by name: a .part
// (the largest, should there be several) is resumed; otherwise any
// "{name}.{ext}" is the finished file.
boost::system::result<disk_state, download_failure> scan_directory(const fs::path& dir,
                                                                   const std::string& name) {
    disk_state found;
    std::string complete_ext;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string file = it->path().filename().string();
        const auto size = regular_file_size(it->path());
        if (!size)
            continue;
        if (auto ext = extension_in(file, name, true); !ext.empty()) {
            if (!found.part || *size > *found.part) {
                found.part = *size;
                found.extension = ext;
            }
        } else if (auto final_ext = extension_in(file, name, false); !final_ext.empty()) {
            complete_ext = final_ext;
        }
    }
    if (ec)
        return file_failure("listing", dir, ec.value());
    if (!found.part && !complete_ext.empty()) {
        found.extension = complete_ext;
        found.complete = dir / (name + "." + complete_ext);
    }
    return found;
}

boost::system::result<disk_state, download_failure>
inspect_disk(const fs::path& dir, const std::string& name, const std::string& url_extension) {
    if (url_extension.empty())
        return scan_directory(dir, name);
    disk_state found;
    found.extension = url_extension;
    const fs::path final_path = dir / (name + "." + url_extension);
    found.part = regular_file_size(fs::path(final_path) += ".part");
    if (!found.part && regular_file_size(final_path))
        found.complete = final_path;
    return found;
}

// ---- failures -----------------------------------------------------------

bool is_tls_verify_failure(const boost::system::error_code& ec) {
    return ec.category() == net::error::get_ssl_category() &&
           ERR_GET_REASON(static_cast<unsigned long>(ec.value())) ==
               SSL_R_CERTIFICATE_VERIFY_FAILED;
}

// Refusals by policy or by certificate do not change on their own.
bool is_retryable(const boost::system::error_code& ec) {
    if (ec == error::bad_url || ec == error::scheme_not_allowed || ec == error::address_not_allowed)
        return false;
    return !is_tls_verify_failure(ec);
}

std::string advice(const boost::system::error_code& ec) {
    if (ec == error::address_not_allowed)
        return "the link points to a non-public address and is refused";
    if (ec == error::scheme_not_allowed)
        return "only https links are allowed";
    if (is_tls_verify_failure(ec))
        return "the server's TLS certificate is not trusted; check the system trust store or "
               "the configured CA file";
    return "try again later";
}

// ---- the download -------------------------------------------------------

class download_job {
public:
    download_job(const download_request& r, const download_options& o, net::ssl::context& tls)
        : request_(r), options_(o), tls_(tls) {}

    net::awaitable<download_outcome> run();

private:
    // One request; an empty optional means "go again" (redirect or restart),
    // with the state already updated.
    using step = boost::system::result<std::optional<download_result>, download_failure>;

    net::awaitable<step> attempt();
    step follow_redirect(const http::response_parser<http::buffer_body>& parser);
    net::awaitable<step> receive(connection& conn,
                                 http::response_parser<http::buffer_body>& parser);
    download_outcome finish(unique_fd& fd, sha256& hash, std::uint64_t bytes, std::uint64_t start);
    download_outcome already_complete(const fs::path& file) const;
    step status_failure(unsigned status) const;
    download_failure too_large(std::uint64_t bytes) const;

    download_failure fail(boost::system::error_code ec, bool retryable, std::string message) const {
        return {ec, status_, retryable, false, std::move(message)};
    }
    std::string where() const { return "downloading " + url_.redacted(); }
    fs::path final_path() const { return request_.directory / (request_.name + "." + extension_); }
    fs::path part_path() const { return fs::path(final_path()) += ".part"; }
    void remove_part() const {
        std::error_code ignored;
        fs::remove(part_path(), ignored);
    }

    const download_request& request_;
    const download_options& options_;
    net::ssl::context& tls_;

    http_url url_;
    std::set<std::string> visited_;
    int redirects_ = 0;
    std::string extension_;         // "" until the URL, a file or the answer says
    std::uint64_t resume_from_ = 0; // .part bytes offered to the server via Range
    unsigned status_ = 0;
};

net::awaitable<download_outcome> download_job::run() {
    if (request_.name.empty() || request_.name.find('/') != std::string::npos ||
        request_.name == "." || request_.name == "..")
        throw std::invalid_argument("download: name must be a plain file name");

    auto parsed = parse_http_url(request_.url);
    if (!parsed)
        co_return fail(parsed.error(), false,
                       "the download link " + redact(request_.url) +
                           " is not an absolute http(s) URL; check the link MusicGPT returned");
    url_ = std::move(*parsed);
    if (!url_.https && !options_.connect.allow_http)
        co_return fail(make_error_code(error::scheme_not_allowed), false,
                       where() + ": plain http links are not allowed; use an https link");
    visited_.insert(url_.to_string());

    std::error_code ec;
    fs::create_directories(request_.directory, ec);
    if (ec)
        co_return file_failure("creating directory", request_.directory, ec.value());

    auto disk = inspect_disk(request_.directory, request_.name, extension_from_url(url_));
    if (!disk)
        co_return disk.error();
    extension_ = disk->extension;
    if (disk->complete)
        co_return already_complete(*disk->complete);
    resume_from_ = disk->part.value_or(0);

    for (;;) {
        auto s = co_await attempt();
        if (!s)
            co_return s.error();
        if (*s)
            co_return std::move(**s);
    }
}

net::awaitable<download_job::step> download_job::attempt() {
    auto opened = co_await connection::open(url_, options_.connect, tls_);
    if (!opened)
        co_return fail(opened.error(), is_retryable(opened.error()),
                       where() + ": " + opened.error().message() + "; " + advice(opened.error()));
    connection conn = std::move(*opened);

    http::request<http::string_body> req{http::verb::get, url_.target, 11};
    req.set(http::field::host, url_.host_header());
    req.set(http::field::user_agent, "stemd/" STEMD_VERSION);
    req.set(http::field::accept, "*/*");
    if (resume_from_ > 0)
        req.set(http::field::range, "bytes=" + std::to_string(resume_from_) + "-");

    http::response_parser<http::buffer_body> parser;
    parser.header_limit(header_limit);
    // The limit is enforced while writing, where the resumed bytes count too.
    parser.body_limit(boost::none);

    if (auto w = co_await conn.write(req); !w)
        co_return fail(w.error(), is_retryable(w.error()),
                       where() + ": sending the request failed: " + w.error().message() +
                           "; try again later");
    if (auto h = co_await conn.read_header(parser); !h)
        co_return fail(h.error(), is_retryable(h.error()),
                       where() + ": reading the response header failed: " + h.error().message() +
                           "; try again later");

    status_ = parser.get().result_int();
    if (status_ == 200 || (status_ == 206 && resume_from_ > 0))
        co_return co_await receive(conn, parser);
    co_await conn.close();
    if (status_ / 100 == 3)
        co_return follow_redirect(parser);
    if (status_ == 416 && resume_from_ > 0) {
        // No such range: the file changed, or the .part already holds all
        // of it but nothing proves which. Starting over settles both.
        remove_part();
        resume_from_ = 0;
        co_return std::optional<download_result>();
    }
    co_return status_failure(status_);
}

download_job::step download_job::status_failure(unsigned status) const {
    const std::string head = where() + ": the server answered HTTP " + std::to_string(status);
    const auto code = make_error_code(error::http_status);
    if (status == 401 || status == 403 || status == 404 || status == 410) {
        download_failure f = fail(code, true,
                                  head + "; the signed link has probably expired: "
                                         "fetch a fresh link and retry");
        f.link_expired = true;
        return f;
    }
    if (status == 408 || status == 425 || status == 429 || status / 100 == 5)
        return fail(code, true, head + "; the server is busy or failing: try again later");
    if (status == 206)
        return fail(make_error_code(error::bad_response), true,
                    head + " to a request without Range; try again later");
    return fail(code, false, head + "; retrying will not help: check the link");
}

download_job::step
download_job::follow_redirect(const http::response_parser<http::buffer_body>& parser) {
    const auto location = parser.get()[http::field::location];
    if (location.empty())
        return fail(make_error_code(error::bad_redirect), false,
                    where() + ": HTTP " + std::to_string(status_) +
                        " without a Location header; check the link");
    if (redirects_ >= options_.max_redirects)
        return fail(make_error_code(error::too_many_redirects), false,
                    where() + ": more than " + std::to_string(options_.max_redirects) +
                        " redirects; check the link");
    auto next = resolve_location(url_, location);
    if (!next)
        return fail(make_error_code(error::bad_redirect), false,
                    where() + ": redirect to an unusable location " +
                        redact(std::string_view(location.data(), location.size())) +
                        "; check the link");
    if (url_.https && !next->https && !options_.connect.allow_http)
        return fail(make_error_code(error::scheme_not_allowed), false,
                    where() + ": redirect from https to plain http " + next->redacted() +
                        " is refused");
    if (!visited_.insert(next->to_string()).second)
        return fail(make_error_code(error::redirect_loop), false,
                    where() + ": redirect back to " + next->redacted() +
                        ", a URL already visited; check the link");
    ++redirects_;
    url_ = std::move(*next);
    return std::optional<download_result>();
}

net::awaitable<download_job::step>
download_job::receive(connection& conn, http::response_parser<http::buffer_body>& parser) {
    const auto& head = parser.get();
    if (extension_.empty()) {
        extension_ = extension_from_url(url_);
        if (extension_.empty())
            extension_ = extension_from_content_type(head[http::field::content_type]);
        if (extension_.empty())
            extension_ = request_.fallback_extension;
    }

    // Where the body starts in the file, and how long the file must end up.
    std::uint64_t start = 0;
    std::optional<std::uint64_t> expected;
    if (status_ == 206) {
        const auto range = parse_content_range(head[http::field::content_range]);
        if (!range || range->first != resume_from_) {
            // Not the piece asked for: take the whole file afresh.
            co_await conn.close();
            remove_part();
            resume_from_ = 0;
            co_return std::optional<download_result>();
        }
        if (parser.content_length() && *parser.content_length() != range->last - range->first + 1) {
            co_await conn.close();
            co_return fail(make_error_code(error::bad_response), true,
                           where() +
                               ": Content-Length and Content-Range disagree; try again later");
        }
        start = range->first;
        expected = range->total ? *range->total : range->last + 1;
    } else if (parser.content_length()) {
        expected = *parser.content_length();
    }
    if (expected && *expected > options_.max_bytes) {
        co_await conn.close();
        remove_part();
        co_return too_large(*expected);
    }

    sha256 hash;
    const fs::path part = part_path();
    if (start > 0) {
        // The digest covers the whole file, so the kept bytes go in first.
        if (auto kept = hash_file(part, hash, start); !kept) {
            co_await conn.close();
            co_return kept.error();
        }
    }
    const int mode = O_WRONLY | O_CREAT | O_CLOEXEC | (start > 0 ? O_APPEND : O_TRUNC);
    unique_fd fd(::open(part.c_str(), mode, 0644));
    if (fd.get() < 0) {
        const int err = errno;
        co_await conn.close();
        co_return file_failure("opening", part, err);
    }

    std::vector<char> buffer(chunk_size);
    std::uint64_t received = 0;
    while (!parser.is_done()) {
        auto n = co_await conn.read_some(parser, buffer);
        if (!n) {
            // What arrived is on disk and is resumed next time.
            co_return fail(n.error(), is_retryable(n.error()),
                           where() + ": the transfer broke off after " +
                               std::to_string(start + received) + " bytes: " + n.error().message() +
                               "; retrying resumes it");
        }
        if (start + received + *n > options_.max_bytes) {
            fd.close();
            co_await conn.close();
            remove_part();
            co_return too_large(start + received + *n);
        }
        if (!write_all(fd.get(), buffer.data(), *n)) {
            const int err = errno;
            co_await conn.close();
            co_return file_failure("writing", part, err);
        }
        hash.update(std::string_view(buffer.data(), *n));
        received += *n;
    }
    co_await conn.close();

    const std::uint64_t bytes = start + received;
    if (expected && bytes != *expected) {
        // Too few bytes are a prefix worth resuming; too many are not.
        if (bytes > *expected) {
            fd.close();
            remove_part();
        }
        co_return fail(make_error_code(error::length_mismatch), true,
                       where() + ": received " + std::to_string(bytes) + " bytes of " +
                           std::to_string(*expected) + "; retrying resumes it");
    }
    auto done = finish(fd, hash, bytes, start);
    if (!done)
        co_return done.error();
    co_return std::optional<download_result>(std::move(*done));
}

download_failure download_job::too_large(std::uint64_t bytes) const {
    return fail(make_error_code(error::body_too_large), false,
                where() + ": the file has at least " + std::to_string(bytes) +
                    " bytes, more than the limit of " + std::to_string(options_.max_bytes) +
                    "; raise the download size limit if the file is expected to be this large");
}

download_outcome download_job::finish(unique_fd& fd, sha256& hash, std::uint64_t bytes,
                                      std::uint64_t start) {
    const fs::path part = part_path();
    const fs::path final_file = final_path();
    if (::fsync(fd.get()) != 0)
        return file_failure("flushing", part, errno);
    if (fd.close() != 0)
        return file_failure("closing", part, errno);
    if (::rename(part.c_str(), final_file.c_str()) != 0)
        return file_failure("renaming", part, errno, " to " + final_file.string());
    if (const int err = fsync_directory(request_.directory); err != 0)
        return file_failure("flushing directory", request_.directory, err);
    return download_result{final_file, bytes, hash.finish_hex(), start, false};
}

download_outcome download_job::already_complete(const fs::path& file) const {
    sha256 hash;
    auto size = hash_file(file, hash);
    if (!size)
        return size.error();
    return download_result{file, *size, hash.finish_hex(), 0, true};
}

} // namespace

net::awaitable<download_outcome> download(const download_request& r,
                                          const download_options& options, net::ssl::context& tls) {
    download_job job(r, options, tls);
    co_return co_await job.run();
}

} // namespace stemd::client
