#pragma once

// MusicGPT's error answers: what it says when it will not do what was asked.

#include <optional>
#include <string>
#include <string_view>

namespace stemd::musicgpt {

// An answer that did not give what was asked: an HTTP status other than
// 2xx, a body that is not a JSON object, or one saying "success": false.
// An expected answer of MusicGPT's, so it travels as a value.
struct refusal {
    unsigned http_status = 0;
    std::string error_code; // MusicGPT's error_code, e.g. INSUFFICIENT_CREDITS
    std::string message;    // MusicGPT's message, or what was wrong with the answer
    std::optional<double> retry_after_seconds; // from Retry-After (set by the client)
};

// The refusal an answer amounts to, or nullopt when it is a 2xx JSON object
// that does not say "success": false. Texts from the body are cut to fit
// one log line; the caller removes any secret the server echoed.
std::optional<refusal> refusal_in(unsigned http_status, std::string_view body);

} // namespace stemd::musicgpt
