#pragma once

// GET /files/<task>/<stem>.wav: the generated stems, as a CDN serves them
// (ETag, Range, If-Range), paced to --rate, with the faults the link names
// (see fault_plan.hpp). Included only by the simulator's .cpp files.

#include "listener/http_server.hpp"
#include "simulator/counters.hpp"
#include "simulator/fault_plan.hpp"
#include "simulator/stem_links.hpp"
#include "simulator/task.hpp"

#include <boost/url/url_view.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <utility>

namespace stemd::simulator {

class file_server {
public:
    // `tasks` and `links` belong to the caller and outlive this object;
    // `stats` is shared with the bodies being sent.
    file_server(const task_table& tasks, const stem_links& links, std::uint64_t stem_bytes,
                std::uint64_t rate, std::shared_ptr<counters> stats)
        : tasks_(tasks), links_(links), stem_bytes_(stem_bytes), rate_(rate),
          stats_(std::move(stats)) {}

    // `link` is the request's target, already parsed.
    listener::reply serve(const listener::request& req, const boost::urls::url_view& link);

private:
    listener::reply redirect(const boost::urls::url_view& link, std::uint64_t hop,
                             const fault_plan& plan);

    const task_table& tasks_;
    const stem_links& links_;
    std::uint64_t stem_bytes_;
    std::uint64_t rate_;
    std::shared_ptr<counters> stats_;
    std::set<std::string, std::less<>> faulted_files_; // "task/stem" whose one-shot fault is spent
};

} // namespace stemd::simulator
