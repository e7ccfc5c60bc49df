#include "client/downloader.hpp"

#include "client/content_range.hpp"
#include "client/error.hpp"
#include "client/fetch_steps.hpp"
#include "client/media_type.hpp"
#include "client/partial_file.hpp"
#include "client/prefix_hash.hpp"

#include <boost/beast/http/empty_body.hpp>

#include <optional>
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
    net::awaitable<step> receive(connection& conn, body_parser& parser);
    void choose_extension(const body_parser& parser);
    result<std::optional<body_plan>> plan_body(const body_parser& parser);
    net::awaitable<result<void>> copy_body(connection& conn, body_parser& parser,
                                           partial_file& file);
    step complete(partial_file& file, const body_plan& plan);
    stemd::error too_large(std::uint64_t bytes) const {
        return too_large_failure(route_, bytes, options_.max_bytes);
    }
    stemd::error network(boost::system::error_code ec, const std::string& what) const {
        return network_failure(route_, ec, what);
    }

    void note_progress(std::uint64_t received, std::optional<std::uint64_t> total) const {
        if (request_.progress)
            *request_.progress = {received, total};
    }

    std::string where() const { return route_.where(); }
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

    fetch_route route_;
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
    auto route = start_route(request_.url, options_.connect);
    if (!route)
        return route.error();
    route_ = std::move(*route);
    object_ = route_.url.redacted();

    if (auto opened = open_directory(); !opened)
        return opened;
    auto disk = inspect_disk(*dir_, request_.name, extension_from_url(route_.url.target));
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
    auto opened = co_await connection::open(route_.url, options_.connect, tls_);
    if (!opened)
        co_return connect_failure(route_, opened.error());
    connection conn = std::move(*opened);

    auto req = get_request(route_);
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
    if (status_ / 100 == 3) {
        const auto location = parser.get()[http::field::location];
        auto followed =
            follow_redirect(route_, {location.data(), location.size()}, status_, options_);
        if (!followed)
            co_return followed.error();
        co_return std::optional<download_result>();
    }
    if (status_ == 416 && resume_from_ > 0) {
        // No such range: the file changed, or the .part already holds all
        // of it but nothing proves which. Starting over settles both.
        co_return restart();
    }
    co_return status_failure(route_, status_);
}

void download_job::choose_extension(const body_parser& parser) {
    if (extension_.empty())
        extension_ = pick_extension(route_.url, parser.get()[http::field::content_type],
                                    request_.fallback_extension);
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
            // The bytes of the last read are dropped: the .part stays a clean prefix.
            co_return out_of_time_failure(route_, file.size() + *n, options_.max_duration,
                                          "resumes it");
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

} // namespace

net::awaitable<result<download_result>>
download(const download_request& r, const download_options& options, net::ssl::context& tls) {
    download_job job(r, options, tls);
    co_return co_await job.run();
}

} // namespace stemd::client
