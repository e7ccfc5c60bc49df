#include "server/waveform_route.hpp"

#include "audio/error.hpp"
#include "audio/waveform.hpp"
#include "client/worker.hpp"
#include "common/log.hpp"
#include "common/whole_number.hpp"
#include "jobs/object_store.hpp"
#include "jobs/service.hpp"
#include "server/error.hpp"
#include "server/object_files.hpp"
#include "server/reply.hpp"
#include "server/stem_files.hpp"

#include <boost/asio/thread_pool.hpp>
#include <boost/url/url_view.hpp>

#include <atomic>
#include <cstdio>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

namespace stemd::server {

namespace net = boost::asio;
namespace http = boost::beast::http;

namespace {

// A number as JSON without an exponent: up to `decimals` places, trailing
// zeros dropped ("0.5", "1", "0").
std::string plain_number(double v, int decimals) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    std::string s(buf);
    if (s.find('.') != std::string::npos) {
        s.erase(s.find_last_not_of('0') + 1);
        if (s.back() == '.')
            s.pop_back();
    }
    return s == "-0" ? "0" : s;
}

// The answer's body, built as text: Boost.JSON writes 0.5 as 5E-1, and a
// picture of 4096 points reads better (and is a third smaller) in plain
// decimals.
std::string waveform_json(const audio::waveform& w) {
    std::string out = "{\"ok\":true,\"points\":" + std::to_string(w.peaks.size()) + ",\"peaks\":[";
    for (std::size_t i = 0; i < w.peaks.size(); ++i)
        out += (i == 0 ? "" : ",") + plain_number(w.peaks[i], 4);
    out += "],\"seconds\":" + plain_number(w.seconds, 3) +
           ",\"sample_rate\":" + std::to_string(w.sample_rate) +
           ",\"channels\":" + std::to_string(w.channels) + "}";
    return out;
}

// The most recently used waveforms' bodies by (SHA-256, points). Touched
// from the io thread only; the mutex keeps it correct should that change.
class body_cache {
public:
    std::shared_ptr<const std::string> find(const std::string& key) {
        std::lock_guard lock(mutex_);
        auto it = index_.find(key);
        if (it == index_.end())
            return nullptr;
        order_.splice(order_.begin(), order_, it->second);
        return it->second->second;
    }
    void put(const std::string& key, std::shared_ptr<const std::string> body) {
        std::lock_guard lock(mutex_);
        if (auto it = index_.find(key); it != index_.end()) {
            order_.erase(it->second);
            index_.erase(it);
        }
        order_.emplace_front(key, std::move(body));
        index_[key] = order_.begin();
        if (order_.size() > waveform_cache_entries) {
            index_.erase(order_.back().first);
            order_.pop_back();
        }
    }

private:
    using entry = std::pair<std::string, std::shared_ptr<const std::string>>;
    std::mutex mutex_;
    std::list<entry> order_;
    std::map<std::string, std::list<entry>::iterator> index_;
};

body_cache& cache() {
    static body_cache c;
    return c;
}

// Holds one of the max_waveform_decodes places while it lives.
class decode_slot {
public:
    static std::optional<decode_slot> take() {
        if (running().fetch_add(1) >= max_waveform_decodes) {
            running().fetch_sub(1);
            return std::nullopt;
        }
        return decode_slot();
    }
    decode_slot(decode_slot&& o) noexcept : held_(std::exchange(o.held_, false)) {}
    decode_slot& operator=(decode_slot&&) = delete;
    ~decode_slot() {
        if (held_)
            running().fetch_sub(1);
    }

private:
    decode_slot() = default;
    static std::atomic<int>& running() {
        static std::atomic<int> n{0};
        return n;
    }
    bool held_ = true;
};

result<int> read_points(const boost::urls::url_view& url) {
    auto found = url.params().find("points");
    if (found == url.params().end())
        return default_waveform_points;
    const std::string text = (*found).value;
    const auto bad =
        make_error(error::bad_request,
                   "points must be a whole number from " + std::to_string(min_waveform_points) +
                       " to " + std::to_string(max_waveform_points) + ", not \"" + text + "\"");
    const auto points = whole_number<int>(text);
    if (!points || *points < min_waveform_points || *points > max_waveform_points)
        return bad;
    return *points;
}

listener::response body_response(const std::string& body) {
    listener::response r{http::status::ok, 11};
    r.set(http::field::content_type, "application/json");
    r.body() = body;
    r.prepare_payload();
    return r;
}

// 415 for what cannot be decoded, 503 for a decode cut short, a logged
// 500 for a file that cannot be read.
listener::response decode_failure(const stemd::error& e, std::string_view key,
                                  std::string_view file) {
    if (e.code == audio::error::unsupported || e.code == audio::error::malformed)
        return error_response(415, "no waveform for " + std::string(file) + ": " + e.message);
    if (e.code == audio::error::abandoned)
        return error_response(503, "the waveform was not finished (stemd is stopping); try again");
    log_error(std::string(key), "cannot decode " + std::string(file) + ": " + e.message);
    return error_response(500, "cannot read the file to draw its waveform; see the stemd log");
}

} // namespace

net::awaitable<listener::response> waveform(jobs::service& service, http::verb method,
                                            std::string_view key, std::string_view file,
                                            const boost::urls::url_view& url) {
    if (method != http::verb::get)
        co_return method_not_allowed({"GET"}, "/v1/jobs/{key}/files/{file}/waveform");
    auto points = read_points(url);
    if (!points)
        co_return error_response(points.error());
    auto record = done_file(service, key, file);
    if (!record)
        co_return error_response(record.error());
    const std::string cache_key = record->sha256 + "/" + std::to_string(*points);
    // A local file is checked before a cached answer is given; an object
    // is fetched only when there is none.
    const bool object = jobs::is_object_path(record->path) && service.objects();
    auto stem = object ? result<stem_file>(make_error(error::file_withheld, "not fetched"))
                       : open_record(service, *record);
    if (!object && !stem)
        co_return error_response(stem.error());
    if (auto cached = cache().find(cache_key))
        co_return body_response(*cached);
    // Taken before an object is fetched: a page asking for every stem's
    // waveform at once must not fetch whole objects only to be told 503.
    auto slot = decode_slot::take();
    if (!slot)
        co_return error_response(503, std::to_string(max_waveform_decodes) +
                                          " waveforms are being computed already; try again "
                                          "in a moment");
    if (object)
        stem = co_await fetch_object(*service.objects(), *record);
    if (!stem) {
        log_warning(record->job_id,
                    "cannot fetch " + record->path + " for its waveform: " + stem.error().message);
        co_return error_response(stem.error());
    }
    // Its own workers: a decode waits neither for the io thread nor behind
    // an upload's scan.
    static net::thread_pool pool(max_waveform_decodes);
    auto decode = [fd = std::make_shared<unique_fd>(std::move(stem->fd)),
                   n = *points](const std::atomic<bool>& abandoned) {
        return audio::decode_waveform(fd->get(), n, &abandoned);
    };
    auto decoded = co_await client::on_worker<result<audio::waveform>>(pool, std::move(decode));
    if (!decoded)
        co_return error_response(503,
                                 "the waveform was not finished (stemd is stopping); try again");
    if (!*decoded)
        co_return decode_failure(decoded->error(), key, file);
    auto body = std::make_shared<const std::string>(waveform_json(**decoded));
    cache().put(cache_key, body);
    co_return body_response(*body);
}

} // namespace stemd::server
