#pragma once

// A conversion the simulator accepted, and the table of them.

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace stemd::simulator {

struct task {
    int api_version = 2;
    std::string task_id;
    std::string conversion_id;
    std::vector<std::string> stems;
    std::string audio_path; // the submitted audio_url; "" for uploads
    bool fail = false;
    std::string faults; // "sim-fault=..." from the audio_url: the stem links carry it
    std::chrono::steady_clock::time_point ready_at;
    std::chrono::system_clock::time_point created_at;
    std::chrono::system_clock::time_point finished_at;

    double cost() const { return api_version == 1 ? 5.0 : 0.157; }
    // The conversion has finished (completed or failed) by now.
    bool ready() const { return std::chrono::steady_clock::now() >= ready_at; }
};

class task_table {
public:
    void add(std::shared_ptr<task> t);
    // nullptr when there is no such task.
    std::shared_ptr<const task> find(std::string_view task_id) const;
    std::shared_ptr<const task> find_by_conversion(std::string_view conversion_id) const;
    std::size_t size() const { return tasks_.size(); }

private:
    std::map<std::string, std::shared_ptr<task>, std::less<>> tasks_;
    std::map<std::string, std::string, std::less<>> task_by_conversion_;
};

} // namespace stemd::simulator
