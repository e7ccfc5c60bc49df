#include "storage/outbox_body.hpp"

#include "common/json_text.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

namespace stemd::storage {

namespace json = boost::json;

namespace {

json::value id_or_null(const std::string& id) {
    return id.empty() ? json::value(nullptr) : json::value(id);
}

} // namespace

// Only files on disk are listed: a failed job's unfinished files have no
// size or digest to give.
std::string outbox_event_body(const job_record& job, std::string_view type, millis now) {
    json::array files;
    for (const auto& f : job.files) {
        if (f.status != file_status::done)
            continue;
        files.push_back(json::object{
            {"name", file_label(f)}, {"path", f.path}, {"bytes", f.bytes}, {"sha256", f.sha256}});
    }
    json::object data{{"job_id", job.id},
                      {"task_id", id_or_null(job.task_id)},
                      {"conversion_id", id_or_null(job.conversion_id)},
                      {"status", to_string(job.status)},
                      {"error", job.error},
                      {"files", std::move(files)}};
    json::object event{{"type", type}, {"timestamp", rfc3339(now)}, {"data", std::move(data)}};
    return json_text(event);
}

} // namespace stemd::storage
