#include "cli/job_table.hpp"

#include "cli/format.hpp"
#include "cli/job_view.hpp"

#include <boost/json/value.hpp>

#include <algorithm>

namespace stemd::cli {

namespace json = boost::json;

namespace {

// SGR colours: green for done, red for failed, yellow for work under way.
std::string_view colour_of(std::string_view status) {
    if (status == "completed")
        return "\x1b[32m";
    if (status == "failed")
        return "\x1b[31m";
    return "\x1b[33m";
}

constexpr std::string_view reset = "\x1b[0m";

using row = std::vector<std::string>;

// Columns padded to their widest cell plus two spaces, the last one not;
// column `coloured` wrapped in its colour when `colour`.
std::vector<std::string> aligned(const std::vector<row>& rows, std::size_t coloured, bool colour) {
    std::vector<std::size_t> widths;
    for (const auto& r : rows) {
        widths.resize(std::max(widths.size(), r.size()));
        for (std::size_t i = 0; i < r.size(); ++i)
            widths[i] = std::max(widths[i], display_columns(r[i]));
    }
    std::vector<std::string> lines;
    for (std::size_t n = 0; n < rows.size(); ++n) {
        std::string line;
        const auto& r = rows[n];
        for (std::size_t i = 0; i < r.size(); ++i) {
            // Not the header: it names the column, it is not a status.
            if (colour && i == coloured && n > 0)
                line += std::string(colour_of(r[i])) + r[i] + std::string(reset);
            else
                line += r[i];
            if (i + 1 < r.size())
                line.append(widths[i] - display_columns(r[i]) + 2, ' ');
        }
        lines.push_back(std::move(line));
    }
    return lines;
}

} // namespace

std::string age_text(millis then, millis now) {
    const millis s = std::max<millis>(0, (now - then) / 1000);
    if (s < 60)
        return std::to_string(s) + "s";
    if (s < 3600)
        return std::to_string(s / 60) + "m";
    if (s < 86400)
        return std::to_string(s / 3600) + "h";
    return std::to_string(s / 86400) + "d";
}

std::string short_task(std::string_view task, std::size_t limit) {
    if (display_columns(task) <= limit || limit < 4)
        return std::string(task);
    return cut_columns(task, limit - 3) + "...";
}

std::vector<std::string> job_table(const json::array& jobs, millis now, bool colour) {
    std::vector<row> rows{{"ID", "STATUS", "FILES", "AGE", "TASK"}};
    for (const auto& job : jobs) {
        if (!job.is_object())
            continue;
        const auto& o = job.get_object();
        const auto created = parse_rfc3339(text_field(o, "created_at"));
        const auto task = text_field(o, "task_id");
        rows.push_back({text_field(o, "id"), text_field(o, "status"), files_done(o),
                        created ? age_text(*created, now) : "-",
                        task.empty() ? "-" : short_task(task)});
    }
    return aligned(rows, 1, colour);
}

std::vector<std::string> event_lines(const json::array& events) {
    std::vector<row> rows;
    for (const auto& event : events) {
        if (!event.is_object())
            continue;
        const auto& o = event.get_object();
        const auto file = text_field(o, "file");
        rows.push_back({text_field(o, "at"), text_field(o, "kind"), file.empty() ? "-" : file,
                        text_field(o, "detail")});
    }
    return aligned(rows, 99, false);
}

} // namespace stemd::cli
