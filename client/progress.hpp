#pragma once

// How far one download has come, as the downloader's chunk loop updates it
// (kept apart from downloader.hpp so that readers need no Asio).

#include <cstdint>
#include <optional>

namespace stemd::client {

struct download_progress {
    std::uint64_t received = 0;         // bytes in the file so far (a resumed prefix counts)
    std::optional<std::uint64_t> total; // its length, once the server said
};

} // namespace stemd::client
