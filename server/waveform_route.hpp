#pragma once

// GET /v1/jobs/{key}/files/{file}/waveform?points=N: the waveform picture
// of a done stem, decoded by audio/ on a worker thread (never the io
// thread), kept in a bounded in-memory cache by (SHA-256, points), with at
// most a few decodes at once. Included only by .cpp files.

#include "listener/http_server.hpp"

#include <string_view>

namespace boost::urls {
class url_view;
}

namespace stemd::jobs {
class service;
}

namespace stemd::server {

inline constexpr int min_waveform_points = 16;
inline constexpr int max_waveform_points = 4096;
inline constexpr int default_waveform_points = 800;
// Decodes running at once; one more is answered 503.
inline constexpr int max_waveform_decodes = 2;
// Waveforms kept (each at most 4096 points: a few tens of KiB of JSON).
inline constexpr std::size_t waveform_cache_entries = 256;

// 200 {"ok":true,"points","peaks","seconds","sample_rate","channels"}; 400
// for a bad points value, 404 unknown job or file, 409 a file not done
// yet, 415 a file audio/ cannot decode, 503 when max_waveform_decodes are
// running; 405 for a method other than GET.
boost::asio::awaitable<listener::response> waveform(jobs::service& service,
                                                    boost::beast::http::verb method,
                                                    std::string_view key, std::string_view file,
                                                    const boost::urls::url_view& url);

} // namespace stemd::server
