#pragma once

// The history of a job as `stemd logs` shows it: the kinds of event and how
// they are appended (store::append_event). An event that cannot be stored
// is logged and dropped: the history is for people, the job's own record
// is what the daemon acts on.

#include "storage/store.hpp"

#include <string>
#include <string_view>

namespace stemd::jobs {

namespace event_kind {
inline constexpr std::string_view created =
    "created"; // a job appeared (submitted here, or adopted)
inline constexpr std::string_view submitted = "submitted"; // MusicGPT accepted it
inline constexpr std::string_view refused = "refused"; // MusicGPT refused it (or was unreachable)
inline constexpr std::string_view webhook = "webhook"; // a delivery recorded
inline constexpr std::string_view webhook_duplicate = "webhook_duplicate"; // a replay ignored
inline constexpr std::string_view lookup = "lookup"; // a status look-up that changed the job
inline constexpr std::string_view download_done = "download_done";
inline constexpr std::string_view download_retry = "download_retry";
inline constexpr std::string_view download_failed = "download_failed";
inline constexpr std::string_view link_expired = "link_expired";
inline constexpr std::string_view retry = "retry"; // `stemd retry`
inline constexpr std::string_view completed = "completed";
inline constexpr std::string_view failed = "failed";
// The user's app told (notify): delivered, refused (a 4xx), to be tried
// again, given up.
inline constexpr std::string_view notify_delivered = "notify_delivered";
inline constexpr std::string_view notify_refused = "notify_refused";
inline constexpr std::string_view notify_retry = "notify_retry";
inline constexpr std::string_view notify_failed = "notify_failed";
} // namespace event_kind

// Appends one event at now_millis() and publishes it to the live readers
// (event_hub.hpp) with the job's status after it. `detail` must already be
// free of secrets and signed links' queries (client::redact).
void note_event(storage::store& store, const std::string& job_id, std::string_view kind,
                std::string_view file, std::string detail);

// A completed or failed event when `after` is final and `was` was not.
void note_if_final(storage::store& store, storage::job_status was,
                   const storage::job_record& after);

} // namespace stemd::jobs
