#include "simulator/submission.hpp"

#include "client/form_data.hpp"
#include "common/crypto.hpp"
#include "common/text.hpp"
#include "simulator/error.hpp"
#include "simulator/fault_plan.hpp"

#include <boost/beast/http/field.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <boost/uuid/random_generator.hpp>
#include <boost/uuid/uuid_io.hpp>

#include <algorithm>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace stemd::simulator {

namespace http = boost::beast::http;
namespace json = boost::json;

namespace {

using client::find_part;
using client::form_part;
using client::parse_form_data;

const std::vector<std::string>& known_stems() {
    // clang-format off
    static const std::vector<std::string> stems = {
        "vocals", "male_vocal", "female_vocal", "lead_vocal", "back_vocal", "guitar",
        "acoustic_guitar", "electric_guitar", "rhythm_guitar", "solo_guitar", "drums",
        "kick_drum", "snare_drum", "toms", "hi_hat", "ride", "crash", "piano", "keys",
        "strings", "winds", "bass", "instrumental"};
    // clang-format on
    return stems;
}

const std::vector<std::string> default_stems = {"drums", "bass", "piano", "guitar"};
const std::set<std::string> known_preprocessing = {"Denoise", "Deecho", "Dereverb"};

stemd::error bad_request(std::string message) {
    return make_error(error::bad_request, std::move(message));
}

std::string new_uuid() {
    static thread_local boost::uuids::random_generator generate;
    return boost::uuids::to_string(generate());
}

// The `stems` field: a JSON list of known stem names, duplicates dropped.
result<std::vector<std::string>> read_stems(const form_part* field) {
    if (field == nullptr || trim(field->content).empty()) {
        return default_stems;
    }
    boost::system::error_code ec;
    const json::value v = json::parse(field->content, ec);
    if (ec || !v.is_array()) {
        return bad_request("stems must be a JSON list of strings, e.g. [\"vocals\",\"drums\"]");
    }
    std::vector<std::string> stems;
    for (const auto& item : v.get_array()) {
        if (!item.is_string()) {
            return bad_request("stems must be a JSON list of strings");
        }
        std::string name(item.get_string());
        const auto& known = known_stems();
        if (std::find(known.begin(), known.end(), name) == known.end()) {
            return bad_request("unknown stem \"" + name + "\"; known stems: " + join(known, ", "));
        }
        if (std::find(stems.begin(), stems.end(), name) == stems.end()) {
            stems.push_back(std::move(name));
        }
    }
    return stems.empty() ? default_stems : stems;
}

result<void> check_preprocessing(const form_part* field) {
    if (field == nullptr || trim(field->content).empty()) {
        return {};
    }
    boost::system::error_code ec;
    const json::value v = json::parse(field->content, ec);
    const auto allowed = [](const json::value& item) {
        return item.is_string() && known_preprocessing.contains(std::string(item.get_string()));
    };
    if (ec || !v.is_array() || !std::all_of(v.get_array().begin(), v.get_array().end(), allowed)) {
        return bad_request("preprocessing_options must be a JSON list of \"Denoise\", "
                           "\"Deecho\", \"Dereverb\"");
    }
    return {};
}

// The optional webhook_url field.
result<std::optional<client::http_url>> read_webhook(const form_part* field) {
    if (field == nullptr || trim(field->content).empty()) {
        return std::optional<client::http_url>{};
    }
    auto url = client::parse_http_url(trim(field->content));
    if (!url) {
        return bad_request("webhook_url must be an absolute http(s) URL");
    }
    return std::optional<client::http_url>(std::move(*url));
}

std::shared_ptr<task> new_task(int api_version, std::vector<std::string> stems,
                               std::string_view audio_url, const audio_markers& markers,
                               std::chrono::milliseconds delay) {
    auto t = std::make_shared<task>();
    t->api_version = api_version;
    t->task_id = new_uuid();
    t->conversion_id = new_uuid();
    t->stems = std::move(stems);
    t->audio_path = std::string(audio_url);
    t->fail = markers.fail;
    t->faults = std::string(markers.faults);
    t->created_at = std::chrono::system_clock::now();
    t->finished_at = t->created_at + delay;
    t->ready_at = std::chrono::steady_clock::now() + delay;
    return t;
}

} // namespace

result<void> check_authorization(std::string_view given, std::string_view api_key) {
    given = trim(given);
    // constant_time_equal: response timing does not reveal how much of a
    // guessed key was right.
    if (given.empty() || (!api_key.empty() && !constant_time_equal(given, api_key))) {
        return make_error(error::unauthorized,
                          "Missing or invalid API key in the Authorization header");
    }
    return {};
}

result<submission> accept(const listener::request& req, int api_version,
                          const simulator_options& options) {
    if (auto allowed = check_authorization(req[http::field::authorization], options.api_key);
        !allowed) {
        return allowed.error();
    }
    const auto form = parse_form_data(req[http::field::content_type], req.body());
    if (!form) {
        return bad_request(form.error().message);
    }
    const form_part* audio_url = find_part(*form, "audio_url");
    const form_part* audio_file = find_part(*form, "audio_file");
    const bool has_url = audio_url != nullptr && !audio_url->content.empty();
    const bool has_file = audio_file != nullptr && !audio_file->content.empty();
    if (!has_url && !has_file) {
        return make_error(error::unprocessable, "Either audio_url or audio_file must be provided");
    }
    auto stems = read_stems(find_part(*form, "stems"));
    if (!stems) {
        return stems.error();
    }
    if (auto checked = check_preprocessing(find_part(*form, "preprocessing_options")); !checked) {
        return checked.error();
    }
    auto webhook = read_webhook(find_part(*form, "webhook_url"));
    if (!webhook) {
        return webhook.error();
    }
    const std::string_view url_text = has_url ? audio_url->content : std::string_view{};
    const audio_markers markers = read_markers(url_text);
    if (markers.forced_status != 0) {
        return forced_error(markers.forced_status);
    }
    if (auto faults = parse_faults(markers.faults); !faults) {
        return faults.error();
    }
    if (markers.no_webhook) {
        webhook->reset();
    }
    if (webhook && *webhook && !markers.webhook_path.empty()) {
        (*webhook)->target = std::string(markers.webhook_path);
    }
    const auto delay = markers.webhook_first ? std::chrono::milliseconds(0) : options.webhook_delay;
    return submission{new_task(api_version, std::move(*stems), url_text, markers, delay),
                      std::move(*webhook), has_file ? audio_file->content.size() : 0,
                      has_file ? sha256_hex(audio_file->content) : std::string(),
                      markers.webhook_first};
}

} // namespace stemd::simulator
