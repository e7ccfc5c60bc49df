#pragma once

// What `stemd serve` tells systemd through sd_notify: READY=1 once it
// serves, a one-line STATUS= kept current, WATCHDOG=1 pings from the event
// loop itself, RELOADING=1 … READY=1 around a SIGHUP, STOPPING=1. Without
// $NOTIFY_SOCKET every message is a no-op. Included only by serve.cpp (it
// pulls in Asio).

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace stemd::jobs {
class service;
}

namespace stemd::server {

class systemd_notifier {
public:
    // `status` is asked for the STATUS= line on the loop, every
    // status_interval; it is sent when it changed.
    systemd_notifier(boost::asio::io_context& ctx, std::function<std::string()> status);
    systemd_notifier(const systemd_notifier&) = delete;
    systemd_notifier& operator=(const systemd_notifier&) = delete;

    // READY=1 with the first STATUS=, then the status refresh and, when
    // systemd armed the watchdog ($WATCHDOG_USEC, for this process), a
    // WATCHDOG=1 ping at half its interval: both timers run on the loop
    // that serves requests, so a loop stuck in a blocking call stops them.
    void ready();
    // RELOADING=1 with MONOTONIC_USEC= (what Type=notify-reload, systemd
    // 253 and later, expects; older ones ignore the extra field).
    void reloading();
    // READY=1 again after a reload, with the status.
    void reloaded();
    // STOPPING=1; the timers end.
    void stopping();

    static constexpr std::chrono::seconds status_interval{2};

private:
    void send(const std::string& message);
    void refresh_status();
    void arm_status();
    void arm_watchdog();

    std::function<std::string()> status_;
    std::string last_status_;
    boost::asio::steady_timer status_timer_;
    boost::asio::steady_timer watchdog_timer_;
    std::chrono::microseconds watchdog_every_{0};
    bool stopped_ = false;
};

// The STATUS= line: "3 downloading, 41 MB/s, 12 done today, 0 failed".
// The rate is of the bytes written since the previous line.
class status_line {
public:
    explicit status_line(jobs::service& service);
    std::string operator()();

private:
    jobs::service& service_;
    std::uint64_t last_bytes_ = 0;
    std::chrono::steady_clock::time_point last_at_;
};

// "41 MB/s", "2.5 MB/s", "0 MB/s" (decimal megabytes, as download tools show).
std::string megabytes_per_second(double bytes_per_second);

// Test-only fault for the watchdog test (never set in production): with
// STEMD_TEST_FAULT=stall-loop-on-sigusr2 in the environment at start, a
// SIGUSR2 blocks the loop thread for 30 s, as a blocking call gone wrong
// would. Without it, nothing is registered.
void arm_test_fault(boost::asio::io_context& ctx);

} // namespace stemd::server
