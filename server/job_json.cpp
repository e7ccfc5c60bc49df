#include "server/job_json.hpp"

#include "client/media_type.hpp"
#include "client/url.hpp"
#include "common/time.hpp"
#include "server/stem_files.hpp"

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>

namespace stemd::server {

namespace json = boost::json;

namespace {

json::value optional_number(const std::optional<double>& v) {
    return v ? json::value(*v) : json::value(nullptr);
}

// Lists were validated as JSON when the job was created; an unreadable one
// (hand-edited database) shows as empty rather than failing the request.
json::value json_list(const std::string& text) {
    if (text.empty())
        return json::array{};
    boost::system::error_code ec;
    auto v = json::parse(text, ec);
    return ec || !v.is_array() ? json::value(json::array{}) : v;
}

json::object file_to_json(const storage::file_record& f, const jobs::progress_table* progress) {
    json::object o{
        {"name", storage::file_label(f)},
        {"path", f.path},
        {"href", file_href(f)},
        {"media_type", client::audio_content_type(f.path)},
        {"bytes", f.bytes},
        {"sha256", f.sha256},
        {"status", storage::to_string(f.status)},
        {"attempts", f.attempts},
        {"error", f.error},
        {"source", client::redact(f.url)},
    };
    if (!progress || f.status != storage::file_status::downloading)
        return o;
    if (const auto p = progress->find(f.id); p != progress->end()) {
        const auto& got = p->second.progress;
        o["received_bytes"] = got.received;
        o["total_bytes"] = got.total ? json::value(*got.total) : json::value(nullptr);
    }
    return o;
}

} // namespace

json::object notification_to_json(const storage::notification_record& n) {
    const auto time_or_null = [](const std::optional<millis>& t) {
        return t ? json::value(rfc3339(*t)) : json::value(nullptr);
    };
    return json::object{
        {"id", n.id},
        {"event", n.type},
        {"status", n.status},
        {"attempts", n.attempts},
        {"last_error", n.last_error},
        {"next_attempt_at", time_or_null(n.next_attempt_at)},
        {"delivered_at", time_or_null(n.delivered_at)},
    };
}

json::object event_to_json(const storage::event_record& e) {
    return json::object{
        {"id", e.id},     {"at", rfc3339(e.at)}, {"kind", e.kind},
        {"file", e.file}, {"detail", e.detail},
    };
}

json::object job_to_json(const storage::job_record& job, const jobs::progress_table* progress) {
    json::object o{
        {"id", job.id},
        {"task_id", job.task_id},
        {"conversion_id", job.conversion_id},
        {"status", storage::to_string(job.status)},
        {"upstream_status", job.upstream_status},
        {"created_at", rfc3339(job.created_at)},
        {"updated_at", rfc3339(job.updated_at)},
        {"eta", optional_number(job.eta)},
        {"credit_estimate", optional_number(job.credit_estimate)},
        {"conversion_cost", optional_number(job.conversion_cost)},
        {"conversion_duration", optional_number(job.conversion_duration)},
        {"error", job.error},
        {"stems", json_list(job.stems_json)},
        {"preprocessing_options", json_list(job.preprocessing_options_json)},
        {"eco_mode", job.eco_mode},
    };
    if (!job.audio_file.empty())
        o["audio_file"] = job.audio_file;
    else
        o["audio_url"] = client::redact(job.audio_url);
    json::array files;
    for (const auto& f : job.files)
        files.push_back(file_to_json(f, progress));
    o["files"] = std::move(files);
    json::array notifications;
    for (const auto& n : job.notifications)
        notifications.push_back(notification_to_json(n));
    o["notifications"] = std::move(notifications);
    return o;
}

} // namespace stemd::server
