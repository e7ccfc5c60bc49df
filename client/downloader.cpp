#include "client/downloader.hpp"

#include "client/content_range.hpp"
#include "client/error.hpp"
#include "client/media_type.hpp"
#include "client/partial_file.hpp"
#include "client/prefix_hash.hpp"

#include <boost/beast/http/empty_body.hpp>

#include <optional>
#include <set>
#include <stdexcept>
#include <vector>

namespace stemd::client {

namespace net = boost::asio;
namespace http = boost::beast::http;
namespace fs = std::filesystem;

namespace {

constexpr std::size_t chunk_size = 64 * 1024;

using body_parser = http::response_parser<http::buffer_body>;

// ---- failures -----------------------------------------------------------

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

// ---- the download -------------------------------------------------------

class download_job {
public:
    download_job(const download_request& r, const download_options& o, net::ssl::context& tls)
        : request_(r), options_(o), tls_(tls) {}

    net::awaitable<result<download_result>> run();

private:
    // One request; an empty optional means "go again" (redirect or restart),
    // with the state already updated.
    using step = result<std::optional<download_result>>;

    // Where a 200/206 body starts in the file, and how long the file must
    // end up.
    struct body_plan {
        std::uint64_t start = 0;
        std::optional<std::uint64_t> expected;
    };

    result<void> start();
    net::awaitable<step> attempt();
    step follow_redirect(const body_parser& parser);
    net::awaitable<step> receive(connection& conn, body_parser& parser);
    void choose_extension(const body_parser& parser);
    result<std::optional<body_plan>> plan_body(const body_parser& parser);
    net::awaitable<result<void>> copy_body(connection& conn, body_parser& parser,
                                           partial_file& file);
    step complete(partial_file& file, const body_plan& plan);
    step status_failure(unsigned status) const;
    stemd::error too_large(std::uint64_t bytes) const;
    stemd::error out_of_time(std::uint64_t bytes) const;
    stemd::error network(boost::system::error_code ec, const std::string& what) const;

    void note_progress(std::uint64_t received, std::optional<std::uint64_t> total) const {
        if (request_.progress)
            *request_.progress = {received, total};
    }

    std::string where() const { return "downloading " + url_.redacted(); }
    std::string final_name() const { return request_.name + "." + extension_; }
    fs::path final_path() const { return *dir_ / final_name(); }
    result<void> open_directory();
    result<void> lock_part();
    net::awaitable<result<void>> prepare_part(std::uint64_t start);
    result<void> drop_part() {
        auto dropped = file_ ? file_->discard() : remove_part(*dir_, final_name());
        file_.reset();
        return dropped;
    }
    // Fails only when the deleted record could not be made durable: the
    // fresh transfer must not write before that.
    step restart() {
        auto dropped = drop_part();
        resume_from_ = 0;
        record_.reset();
        if (!dropped)
            return dropped.error();
        return std::optional<download_result>();
    }
    bool same_version(const body_parser& parser, const content_range& range) const;
    void remember_version(const body_parser& parser, const body_plan& plan);

    const download_request& request_;
    const download_options& options_;
    net::ssl::context& tls_;

    http_url url_;
    std::set<std::string> visited_;
    int redirects_ = 0;
    std::string extension_;         // "" until the URL, a file or the answer says
    std::uint64_t resume_from_ = 0; // .part bytes offered to the server via Range
    unsigned status_ = 0;
    std::optional<fs::path> complete_;    // found complete on disk
    std::string object_;                  // the link without its query: what the .part holds
    std::optional<resume_record> record_; // of the .part being resumed
    std::chrono::steady_clock::time_point deadline_;
    std::optional<directory> dir_;
    std::optional<partial_file> file_; // the locked .part, once its name is known
};

// The server's name for this version of the object: its ETag, else its
// Last-Modified.
std::string validator_of(const body_parser& parser) {
    const auto& h = parser.get();
    auto v = h[http::field::etag];
    if (v.empty())
        v = h[http::field::last_modified];
    return std::string(v);
}

// Checks the link, creates the directory and looks at what an earlier run
// left there.
result<void> download_job::start() {
    auto parsed = parse_http_url(request_.url);
    if (!parsed)
        return stemd::error{parsed.error(), "the download link " + redact(request_.url) +
                                                " is not an absolute http(s) URL; check the "
                                                "link MusicGPT returned"};
    url_ = std::move(*parsed);
    if (!url_.https && !options_.connect.allow_http)
        return fail(error::scheme_not_allowed,
                    where() + ": plain http links are not allowed; use an https link");
    visited_.insert(url_.to_string());
    object_ = url_.redacted();

    if (auto opened = open_directory(); !opened)
        return opened;
    auto disk = inspect_disk(*dir_, request_.name, extension_from_url(url_.target));
    if (!disk)
        return disk.error();
    extension_ = disk->extension;
    complete_ = disk->complete;
    resume_from_ = disk->part.value_or(0);
    if (resume_from_ > 0) {
        // Locked before anything about it is decided or changed.
        if (auto locked = lock_part(); !locked)
            return locked;
        // What it holds now that nobody else can write it.
        resume_from_ = file_->size_on_disk();
        // Only a .part whose record names this object is worth offering.
        record_ = load_resume_record(*dir_, final_name());
        if (!record_ || record_->object != object_) {
            if (auto again = restart(); !again)
                return again.error();
        }
    }
    // A resumed file starts at its .part's size.
    note_progress(resume_from_, record_ && record_->total > 0
                                    ? std::optional<std::uint64_t>(record_->total)
                                    : std::nullopt);
    return {};
}

result<void> download_job::open_directory() {
    const fs::path root = request_.root.empty() ? request_.directory : request_.root;
    const fs::path below = request_.directory.lexically_relative(root);
    if (below.empty() || *below.begin() == "..")
        throw std::invalid_argument("download: directory must lie under root");
    auto opened = directory::open(root, below);
    if (!opened)
        return opened.error();
    dir_.emplace(std::move(*opened));
    return {};
}

result<void> download_job::lock_part() {
    if (file_)
        return {};
    auto opened = partial_file::open(*dir_, final_name());
    if (!opened)
        return opened.error();
    file_.emplace(std::move(*opened));
    return {};
}

// Readies the locked .part for bytes from `start` on: emptied, or its
// first `start` bytes hashed on the worker and kept.
net::awaitable<result<void>> download_job::prepare_part(std::uint64_t start) {
    if (start == 0) {
        if (auto forgotten = forget_resume_record(*dir_, final_name()); !forgotten)
            co_return forgotten;
        co_return file_->start_over();
    }
    auto reader = file_->reader();
    if (!reader)
        co_return reader.error();
    // Up to max_bytes to read: not on the io thread.
    auto hashed = co_await hash_prefix_on_worker(std::move(*reader), start, file_->path());
    if (!hashed)
        co_return hashed.error();
    co_return file_->resume_after(start, std::move(*hashed));
}

net::awaitable<result<download_result>> download_job::run() {
    if (request_.name.empty() || request_.name.find('/') != std::string::npos ||
        request_.name == "." || request_.name == "..")
        throw std::invalid_argument("download: name must be a plain file name");
    deadline_ = std::chrono::steady_clock::now() + options_.max_duration;
    if (auto started = start(); !started)
        co_return started.error();
    if (complete_) {
        auto digest = digest_file(*dir_, final_name());
        if (!digest)
            co_return digest.error();
        co_return download_result{*complete_, digest->bytes, std::move(digest->sha256), 0, true};
    }
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
    if (!opened) {
        auto e = transport_error(opened.error(), "");
        e.message = where() + ": " + opened.error().message() + "; " + advice(e);
        co_return e;
    }
    connection conn = std::move(*opened);

    http::request<http::string_body> req{http::verb::get, url_.target, 11};
    req.set(http::field::host, url_.host_header());
    req.set(http::field::user_agent, "stemd/" STEMD_VERSION);
    req.set(http::field::accept, "*/*");
    if (resume_from_ > 0) {
        // If-Range: the rest of this version, or else the whole current one.
        req.set(http::field::range, "bytes=" + std::to_string(resume_from_) + "-");
        req.set(http::field::if_range, record_->validator);
    }

    body_parser parser;
    parser.header_limit(static_cast<std::uint32_t>(response_header_limit));
    // The limit is enforced while writing, where the resumed bytes count too.
    parser.body_limit(boost::none);

    if (auto w = co_await conn.write(req); !w)
        co_return network(w.error(), "sending the request failed");
    if (auto h = co_await conn.read_header(parser); !h)
        co_return network(h.error(), "reading the response header failed");

    status_ = parser.get().result_int();
    if (status_ == 200 || (status_ == 206 && resume_from_ > 0))
        co_return co_await receive(conn, parser);
    co_await conn.close();
    if (status_ / 100 == 3)
        co_return follow_redirect(parser);
    if (status_ == 416 && resume_from_ > 0) {
        // No such range: the file changed, or the .part already holds all
        // of it but nothing proves which. Starting over settles both.
        co_return restart();
    }
    co_return status_failure(status_);
}

stemd::error download_job::network(boost::system::error_code ec, const std::string& what) const {
    return transport_error(ec, where() + ": " + what + ": " + ec.message() + "; try again later");
}

download_job::step download_job::status_failure(unsigned status) const {
    const std::string head = where() + ": the server answered HTTP " + std::to_string(status);
    if (status == 401 || status == 403 || status == 404 || status == 410)
        return fail(error::link_expired, head + "; the signed link has probably expired: "
                                                "fetch a fresh link and retry");
    if (status == 408 || status == 425 || status == 429 || status / 100 == 5)
        return fail(error::server_busy, head + "; the server is busy or failing: try again later");
    if (status == 206)
        return fail(error::bad_response, head + " to a request without Range; try again later");
    return fail(error::http_status, head + "; retrying will not help: check the link");
}

download_job::step download_job::follow_redirect(const body_parser& parser) {
    const auto location = parser.get()[http::field::location];
    if (location.empty())
        return fail(error::bad_redirect, where() + ": HTTP " + std::to_string(status_) +
                                             " without a Location header; check the link");
    if (redirects_ >= options_.max_redirects)
        return fail(error::too_many_redirects, where() + ": more than " +
                                                   std::to_string(options_.max_redirects) +
                                                   " redirects; check the link");
    auto next = resolve_location(url_, location);
    if (!next)
        return fail(error::bad_redirect,
                    where() + ": redirect to an unusable location " +
                        redact(std::string_view(location.data(), location.size())) +
                        "; check the link");
    if (url_.https && !next->https && !options_.connect.allow_http)
        return fail(error::scheme_not_allowed, where() + ": redirect from https to plain http " +
                                                   next->redacted() + " is refused");
    if (!visited_.insert(next->to_string()).second)
        return fail(error::redirect_loop, where() + ": redirect back to " + next->redacted() +
                                              ", a URL already visited; check the link");
    ++redirects_;
    url_ = std::move(*next);
    return std::optional<download_result>();
}

void download_job::choose_extension(const body_parser& parser) {
    if (!extension_.empty())
        return;
    extension_ = extension_from_url(url_.target);
    if (extension_.empty())
        extension_ = extension_from_content_type(parser.get()[http::field::content_type]);
    // The fallback is the caller's: one naming a .part or a record, or
    // with a dot, would let this file take another one's name.
    if (extension_.empty())
        extension_ = request_.fallback_extension;
    if (extension_.empty() || is_reserved_extension(extension_) ||
        extension_.find_first_of("./") != std::string::npos)
        extension_ = "bin";
}

// An empty optional: the answer is not the piece asked for, so the file is
// taken afresh.
result<std::optional<download_job::body_plan>> download_job::plan_body(const body_parser& parser) {
    body_plan plan;
    if (status_ == 206) {
        const auto range = parse_content_range(parser.get()[http::field::content_range]);
        if (!range || range->first != resume_from_ || !same_version(parser, *range)) {
            if (auto again = restart(); !again)
                return again.error();
            return std::optional<body_plan>();
        }
        if (parser.content_length() && *parser.content_length() != range->last - range->first + 1)
            return fail(error::bad_response,
                        where() + ": Content-Length and Content-Range disagree; try again later");
        plan.start = range->first;
        plan.expected = range->total ? *range->total : range->last + 1;
    } else if (parser.content_length()) {
        plan.expected = *parser.content_length();
    }
    if (plan.expected && *plan.expected > options_.max_bytes) {
        (void)drop_part(); // failing anyway, and nothing more is written
        return too_large(*plan.expected);
    }
    return plan;
}

net::awaitable<download_job::step> download_job::receive(connection& conn, body_parser& parser) {
    choose_extension(parser);
    if (auto locked = lock_part(); !locked) {
        co_await conn.close();
        co_return locked.error();
    }
    auto plan = plan_body(parser);
    if (!plan || !*plan) {
        co_await conn.close();
        if (!plan)
            co_return plan.error();
        co_return std::optional<download_result>();
    }
    if (auto prepared = co_await prepare_part((*plan)->start); !prepared) {
        co_await conn.close();
        co_return prepared.error();
    }
    if ((*plan)->start == 0)
        remember_version(parser, **plan);
    note_progress((*plan)->start, (*plan)->expected);
    if (auto copied = co_await copy_body(conn, parser, *file_); !copied)
        co_return copied.error();
    co_return complete(*file_, **plan);
}

// Closes the connection, except after a broken transfer: then there is
// nothing left to close politely.
net::awaitable<result<void>> download_job::copy_body(connection& conn, body_parser& parser,
                                                     partial_file& file) {
    std::vector<char> buffer(chunk_size);
    while (!parser.is_done()) {
        auto n = co_await conn.read_some(parser, buffer);
        if (!n) {
            // What arrived is on disk and is resumed next time.
            co_return transport_error(n.error(), where() + ": the transfer broke off after " +
                                                     std::to_string(file.size()) + " bytes: " +
                                                     n.error().message() + "; retrying resumes it");
        }
        if (std::chrono::steady_clock::now() > deadline_) {
            co_await conn.close();
            co_return out_of_time(file.size() + *n);
        }
        if (const auto total = file.size() + *n; total > options_.max_bytes) {
            (void)file.discard(); // failing anyway, and nothing more is written
            co_await conn.close();
            co_return too_large(total);
        }
        if (auto written = file.write({buffer.data(), *n}); !written) {
            co_await conn.close();
            co_return written.error();
        }
        if (options_.on_bytes)
            options_.on_bytes(*n);
        if (request_.progress)
            request_.progress->received = file.size();
    }
    co_await conn.close();
    co_return result<void>{};
}

download_job::step download_job::complete(partial_file& file, const body_plan& plan) {
    const std::uint64_t bytes = file.size();
    if (plan.expected && bytes != *plan.expected) {
        // Too few bytes are a prefix worth resuming; too many are not.
        if (bytes > *plan.expected)
            (void)file.discard(); // failing anyway, and nothing more is written
        return fail(error::length_mismatch, where() + ": received " + std::to_string(bytes) +
                                                " bytes of " + std::to_string(*plan.expected) +
                                                "; retrying resumes it");
    }
    auto digest = file.finish();
    if (!digest)
        return digest.error();
    return std::optional<download_result>(
        download_result{final_path(), bytes, std::move(*digest), plan.start, false});
}

// A 206 continues the .part only if it is the version and length the
// record names (a server ignoring If-Range must not splice another one on).
bool download_job::same_version(const body_parser& parser, const content_range& range) const {
    if (!record_)
        return false;
    const std::string validator = validator_of(parser);
    if (!validator.empty() && validator != record_->validator)
        return false;
    return !range.total || record_->total == 0 || *range.total == record_->total;
}

// Without a validator from the server there is no record, so a .part left
// by this transfer is never resumed: nothing could prove it is the same
// object next time. A record that cannot be written has the same effect.
void download_job::remember_version(const body_parser& parser, const body_plan& plan) {
    std::string validator = validator_of(parser);
    if (validator.empty())
        return;
    record_ = resume_record{object_, std::move(validator), plan.expected.value_or(0)};
    if (!save_resume_record(*dir_, final_name(), *record_))
        record_.reset();
}

// The bytes of the last read are dropped: the .part stays a clean prefix.
stemd::error download_job::out_of_time(std::uint64_t bytes) const {
    return fail(error::too_slow,
                where() + ": still unfinished after " +
                    std::to_string(options_.max_duration.count() / 1000) + " s (" +
                    std::to_string(bytes) +
                    " bytes so far), longer than download.max_seconds allows; the server is too "
                    "slow: retrying resumes it");
}

stemd::error download_job::too_large(std::uint64_t bytes) const {
    return fail(error::body_too_large,
                where() + ": the file has at least " + std::to_string(bytes) +
                    " bytes, more than the limit of " + std::to_string(options_.max_bytes) +
                    "; raise the download size limit if the file is expected to be this large");
}

} // namespace

net::awaitable<result<download_result>>
download(const download_request& r, const download_options& options, net::ssl::context& tls) {
    download_job job(r, options, tls);
    co_return co_await job.run();
}

} // namespace stemd::client
