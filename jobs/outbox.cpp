#include "jobs/outbox.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <array>

namespace stemd::jobs {

namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

constexpr std::array<std::chrono::milliseconds, 12> schedule = {5s, 30s, 2min, 10min, 30min, 1h,
                                                                2h, 4h,  4h,   4h,    4h,    4h};

std::string text_at(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

} // namespace

int notify_max_attempts() {
    return static_cast<int>(schedule.size()) + 1;
}

std::optional<std::chrono::milliseconds> notify_retry_delay(int attempts, std::uint64_t random) {
    if (attempts < 1 || attempts > static_cast<int>(schedule.size()))
        return std::nullopt;
    const auto base = schedule[static_cast<std::size_t>(attempts - 1)].count();
    // random / 2^64 in [0, 1), through the top 32 bits to stay exact.
    const double unit = static_cast<double>(random >> 32) / 4294967296.0;
    const double factor = 0.8 + 0.4 * unit;
    return std::chrono::milliseconds(static_cast<std::int64_t>(static_cast<double>(base) * factor));
}

receiver_verdict judge_answer(unsigned status) {
    if (status >= 200 && status < 300)
        return receiver_verdict::delivered;
    if (status >= 400 && status < 500 && status != 408 && status != 429)
        return receiver_verdict::refused;
    return receiver_verdict::retry;
}

std::vector<std::string> command_environment(const storage::notification_record& n) {
    std::vector<std::string> env{"STEMD_EVENT_ID=" + n.id, "STEMD_EVENT_TYPE=" + n.type,
                                 "STEMD_JOB_ID=" + n.job_id};
    boost::system::error_code ec;
    const json::value body = json::parse(n.body, ec);
    const json::object* data = nullptr;
    if (!ec && body.is_object())
        if (const auto* d = body.as_object().if_contains("data"); d && d->is_object())
            data = &d->as_object();
    std::string files;
    if (data)
        if (const auto* list = data->if_contains("files"); list && list->is_array())
            for (const auto& f : list->as_array())
                if (f.is_object())
                    files += (files.empty() ? "" : "\n") + text_at(f.as_object(), "path");
    env.push_back("STEMD_TASK_ID=" + (data ? text_at(*data, "task_id") : ""));
    env.push_back("STEMD_STATUS=" + (data ? text_at(*data, "status") : ""));
    env.push_back("STEMD_ERROR=" + (data ? text_at(*data, "error") : ""));
    env.push_back("STEMD_FILES=" + files);
    env.push_back("STEMD_EVENT_JSON=" + n.body);
    return env;
}

} // namespace stemd::jobs
