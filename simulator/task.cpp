#include "simulator/task.hpp"

#include <utility>

namespace stemd::simulator {

void task_table::add(std::shared_ptr<task> t) {
    task_by_conversion_.emplace(t->conversion_id, t->task_id);
    tasks_.emplace(t->task_id, std::move(t));
}

std::shared_ptr<const task> task_table::find(std::string_view task_id) const {
    const auto it = tasks_.find(task_id);
    return it == tasks_.end() ? nullptr : it->second;
}

std::shared_ptr<const task> task_table::find_by_conversion(std::string_view conversion_id) const {
    const auto it = task_by_conversion_.find(conversion_id);
    return it == task_by_conversion_.end() ? nullptr : find(it->second);
}

} // namespace stemd::simulator
