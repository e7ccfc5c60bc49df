#include "simulator/conversion_json.hpp"

#include "common/time.hpp"
#include "simulator/stem_audio.hpp"

#include <string_view>

namespace stemd::simulator {

namespace json = boost::json;

namespace {

constexpr std::string_view failure_message = "Simulated extraction failure";

std::string iso_time(std::chrono::system_clock::time_point t) {
    return rfc3339(
        std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count());
}

// The seed shape: one top-level key per stem.
json::object v1_webhook_body(const task& t, const stem_links& links) {
    json::object body{{"success", true},
                      {"task_id", t.task_id},
                      {"conversion_id", t.conversion_id},
                      {"audio_path", t.audio_path}};
    for (const auto& stem : t.stems) {
        body[stem] = links.url(t, stem, links.expiry(t.created_at));
    }
    body["conversion_cost"] = 5.0;
    body["conversion_duration"] = 120.5;
    return body;
}

} // namespace

json::object webhook_body(const task& t, const stem_links& links, std::uint64_t stem_bytes) {
    if (t.fail) {
        return {{"success", false},
                {"task_id", t.task_id},
                {"conversion_id", t.conversion_id},
                {"message", failure_message}};
    }
    if (t.api_version == 1) {
        return v1_webhook_body(t, links);
    }
    const std::string map = links.map(t, links.expiry(t.created_at));
    return {{"success", true},
            {"conversion_type", "Extraction"},
            {"task_id", t.task_id},
            {"conversion_id", t.conversion_id},
            {"audio_url", map},
            {"audio_url_wav", map},
            {"conversion_cost", t.cost()},
            {"conversion_duration", stem_audio_seconds(stem_bytes)},
            {"title", "Extraction"}};
}

json::object conversion_record(const task& t, const stem_links& links, std::uint64_t stem_bytes) {
    const bool done = t.ready();
    json::object record{{"task_id", t.task_id},
                        {"conversion_id", t.conversion_id},
                        {"conversion_type", "EXTRACTION"},
                        {"conversion_cost", t.cost()},
                        {"createdAt", iso_time(t.created_at)},
                        {"updatedAt", iso_time(done ? t.finished_at : t.created_at)}};
    if (!done) {
        record["status"] = "IN_QUEUE";
        record["status_msg"] = "Conversion in queue";
    } else if (t.fail) {
        record["status"] = "FAILED";
        record["status_msg"] = failure_message;
    } else {
        const std::string map = links.map(t, links.expiry(std::chrono::system_clock::now()));
        record["status"] = "COMPLETED";
        record["status_msg"] = "Conversion successful";
        record["audio_url"] = map;
        record["audio_url_wav"] = map;
        record["conversion_duration"] = stem_audio_seconds(stem_bytes);
    }
    return record;
}

} // namespace stemd::simulator
