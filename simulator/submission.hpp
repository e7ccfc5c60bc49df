#pragma once

// POST /api/public/v{1,2}/Extraction: a submission checked in the order a
// real service would (who, what shape, what content, and only then the
// business errors: credits, rate) and turned into a task.

#include "client/url.hpp"
#include "common/error.hpp"
#include "listener/http_server.hpp"
#include "simulator/simulator.hpp"
#include "simulator/task.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

namespace stemd::simulator {

struct submission {
    std::shared_ptr<task> accepted;
    std::optional<client::http_url> webhook;
    std::uint64_t uploaded_bytes = 0;
    std::string uploaded_sha256; // of the audio_file part; "" without one
    // sim-webhook-first: the webhook is attempted before the answer goes out.
    bool webhook_first = false;
};

// The Authorization header's value against the required key (any non-empty
// value when `api_key` is ""); error::unauthorized otherwise.
result<void> check_authorization(std::string_view given, std::string_view api_key);

// A new task for the submission, or the refusal MusicGPT would answer.
result<submission> accept(const listener::request& req, int api_version,
                          const simulator_options& options);

} // namespace stemd::simulator
