#include "jobs/events.hpp"

#include "common/log.hpp"
#include "jobs/event_hub.hpp"

namespace stemd::jobs {

void note_event(storage::store& store, const std::string& job_id, std::string_view kind,
                std::string_view file, std::string detail) {
    storage::new_event e{.job_id = job_id,
                         .at = now_millis(),
                         .kind = std::string(kind),
                         .file = std::string(file),
                         .detail = std::move(detail)};
    auto appended = store.append_event(e);
    if (!appended) {
        log_warning(job_id, "cannot add a " + std::string(kind) +
                                " event to the job's history: " + appended.error().message);
        return;
    }
    if (!hub().has_subscribers())
        return;
    // Every caller notes an event after the change it tells of is
    // committed, so the job read now has the status it left.
    auto job = store.find(job_id);
    if (!job)
        return; // gone meanwhile (pruned): a reader learns of it from GET /v1/jobs
    hub().publish(
        {.event = {*appended, e.job_id, e.at, e.kind, e.file, e.detail}, .status = job->status});
}

void note_if_final(storage::store& store, storage::job_status was,
                   const storage::job_record& after) {
    if (storage::is_final(was) || !storage::is_final(after.status))
        return;
    if (after.status == storage::job_status::completed)
        note_event(store, after.id, event_kind::completed, "",
                   std::to_string(after.files.size()) + " files");
    else
        note_event(store, after.id, event_kind::failed, "", after.error);
}

} // namespace stemd::jobs
