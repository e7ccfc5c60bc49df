#include "simulator/fault_plan.hpp"

#include "simulator/decimal.hpp"
#include "simulator/error.hpp"

#include <optional>
#include <string>

namespace stemd::simulator {

namespace {

constexpr std::string_view fault_marker = "sim-fault=";
constexpr std::string_view webhook_first_marker = "sim-webhook-first";
constexpr std::uint64_t default_stall_seconds = 5;
constexpr std::uint64_t max_stall_seconds = 3600;
constexpr std::uint64_t max_redirect_hops = 20;

// `NAME-DIGITS` as the number; nullopt when `word` is not that shape.
std::optional<std::uint64_t> numbered(std::string_view word, std::string_view name) {
    if (!word.starts_with(name) || word.size() <= name.size() + 1 || word[name.size()] != '-') {
        return std::nullopt;
    }
    return parse_decimal(word.substr(name.size() + 1));
}

// Adds the fault `word` names to `plan`; false when it names none.
bool add_fault(std::string_view word, fault_plan& plan) {
    if (word == "503-once") {
        plan.unavailable_once = true;
    } else if (word == "close-mid") {
        plan.close_mid = true;
    } else if (word == "short") {
        plan.short_body = true;
    } else if (word == "no-range") {
        plan.no_range = true;
    } else if (word == "redirect-loop") {
        plan.redirect_loop = true;
    } else if (word == "gone") {
        plan.gone = true;
    } else if (word == "byid-404") {
        plan.by_id_unknown = true;
    } else if (word == "byid-500-once") {
        plan.by_id_failing_once = true;
    } else if (word == "byid-503-once") {
        plan.by_id_busy_once = true;
    } else if (word == "stall") {
        plan.stall = std::chrono::seconds(default_stall_seconds);
    } else if (const auto s = numbered(word, "stall"); s && *s > 0 && *s <= max_stall_seconds) {
        plan.stall = std::chrono::seconds(*s);
    } else if (const auto n = numbered(word, "redirect"); n && *n > 0 && *n <= max_redirect_hops) {
        plan.redirects = *n;
    } else {
        return false;
    }
    return true;
}

} // namespace

std::string known_faults() {
    std::string out;
    for (const auto& kind : fault_table) {
        out += (out.empty() ? "" : ", ") + std::string(kind.name);
    }
    return out;
}

result<fault_plan> parse_faults(std::string_view text) {
    fault_plan plan;
    while (!text.empty()) {
        const auto comma = text.find(',');
        const std::string_view word = text.substr(0, comma);
        text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
        if (!add_fault(word, plan)) {
            return make_error(error::bad_request, "unknown simulated fault \"" + std::string(word) +
                                                      "\"; known: " + known_faults());
        }
    }
    return plan;
}

audio_markers read_markers(std::string_view audio_url) {
    audio_markers out;
    for (const unsigned status : {402U, 429U, 500U}) {
        if (audio_url.find("sim-error=" + std::to_string(status)) != std::string_view::npos) {
            out.forced_status = status;
            break;
        }
    }
    out.fail = audio_url.find("sim-fail") != std::string_view::npos;
    out.no_webhook = audio_url.find("sim-no-webhook") != std::string_view::npos;
    if (const auto at = audio_url.find(fault_marker); at != std::string_view::npos) {
        const std::string_view rest = audio_url.substr(at + fault_marker.size());
        out.faults =
            rest.substr(0, rest.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-,"));
    }
    if (const auto at = audio_url.find(webhook_first_marker); at != std::string_view::npos) {
        out.webhook_first = true;
        const std::string_view rest = audio_url.substr(at + webhook_first_marker.size());
        if (rest.starts_with("=/")) {
            const std::string_view path = rest.substr(1);
            out.webhook_path = path.substr(
                0, path.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                          "0123456789-._~/"));
        }
    }
    return out;
}

stemd::error forced_error(unsigned status) {
    switch (status) {
    case 402:
        return make_error(error::insufficient_credits, "Insufficient credits (simulated)");
    case 429:
        return make_error(error::too_many_requests, "Too many requests (simulated)");
    default:
        return make_error(error::internal, "Internal server error (simulated)");
    }
}

} // namespace stemd::simulator
