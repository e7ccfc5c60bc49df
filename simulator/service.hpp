#pragma once

// The simulated MusicGPT service: its routes (submit, byId, files, the
// /sim/ endpoints for tests) and the state they share. Included only by the
// simulator's .cpp files.

#include "listener/http_server.hpp"
#include "simulator/call_peak.hpp"
#include "simulator/counters.hpp"
#include "simulator/file_server.hpp"
#include "simulator/simulator.hpp"
#include "simulator/status_limiter.hpp"
#include "simulator/stem_links.hpp"
#include "simulator/task.hpp"
#include "simulator/webhook_sender.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/url/url_view.hpp>

#include <memory>
#include <optional>
#include <set>
#include <string>

namespace stemd::simulator {

class service {
public:
    // `webhook_tls` verifies https webhook URLs; webhooks run on `ex`.
    service(const simulator_options& options,
            std::shared_ptr<boost::asio::ssl::context> webhook_tls,
            boost::asio::any_io_executor ex);
    service(const service&) = delete;
    service& operator=(const service&) = delete;

    void set_public_url(std::string url) { links_.set_public_url(std::move(url)); }
    const std::string& public_url() const { return links_.public_url(); }

    // The handler given to http_server. The shared_ptr keeps the service
    // alive for as long as any request is being answered.
    static boost::asio::awaitable<listener::reply> handle(std::shared_ptr<service> self,
                                                          listener::request& req);

private:
    listener::reply route(const listener::request& req);
    listener::reply submit(const listener::request& req, int api_version);
    listener::reply status(const listener::request& req, const boost::urls::url_view& target);
    listener::reply status_answer(const listener::request& req,
                                  const boost::urls::url_view& target);
    std::optional<listener::reply> by_id_fault(const task& t);
    listener::reply file(const listener::request& req, const boost::urls::url_view& target);
    listener::reply deliveries() const;

    simulator_options options_;
    boost::asio::any_io_executor ex_;
    std::shared_ptr<counters> stats_;
    task_table tasks_;
    stem_links links_;
    status_limiter limiter_;
    call_peak status_peak_; // byId calls per status window, for /sim/stats
    file_server files_;
    std::shared_ptr<webhook_sender> webhooks_;
    // Tasks whose first byId has been answered (the one-shot byId faults).
    std::set<std::string> by_id_faulted_;
    // Set by submit() for sim-webhook-first and taken by handle() at once:
    // the answer waits until this timer's expiry is moved to the past.
    std::shared_ptr<boost::asio::steady_timer> held_answer_;
};

} // namespace stemd::simulator
