#include "server/notify.hpp"

#include "common/log.hpp"
#include "common/time.hpp"
#include "jobs/metrics.hpp"
#include "jobs/service.hpp"

#include <boost/asio/signal_set.hpp>

#include <systemd/sd-daemon.h>

#include <cmath>
#include <csignal>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <string_view>
#include <thread>

namespace stemd::server {

namespace net = boost::asio;
using boost::system::error_code;
using namespace std::chrono_literals;

namespace {

// Local midnight, as milliseconds since the epoch: "today" as the person
// reading `systemctl status` means it.
millis start_of_today() {
    const std::time_t now = std::time(nullptr);
    std::tm local{};
    ::localtime_r(&now, &local);
    local.tm_hour = 0;
    local.tm_min = 0;
    local.tm_sec = 0;
    local.tm_isdst = -1;
    return static_cast<millis>(std::mktime(&local)) * 1000;
}

std::uint64_t monotonic_usec() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000 +
           static_cast<std::uint64_t>(ts.tv_nsec) / 1000;
}

} // namespace

systemd_notifier::systemd_notifier(net::io_context& ctx, std::function<std::string()> status)
    : status_(std::move(status)), status_timer_(ctx), watchdog_timer_(ctx) {
    std::uint64_t usec = 0;
    // 0: keep $WATCHDOG_USEC/$WATCHDOG_PID; they are only read, and a
    // process stemd starts does not exist.
    if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0)
        watchdog_every_ = std::chrono::microseconds(usec / 2);
}

void systemd_notifier::send(const std::string& message) {
    if (int r = sd_notify(0, message.c_str()); r < 0)
        log_warning("",
                    std::string("cannot notify systemd ($NOTIFY_SOCKET): ") + std::strerror(-r));
}

void systemd_notifier::ready() {
    last_status_ = status_();
    send("READY=1\nSTATUS=" + last_status_);
    arm_status();
    if (watchdog_every_.count() > 0) {
        log_info("", "systemd watchdog armed: pinging every " +
                         std::to_string(watchdog_every_.count() / 1000) + " ms");
        send("WATCHDOG=1");
        arm_watchdog();
    }
}

void systemd_notifier::reloading() {
    if (stopped_) // a signal already queued when the drain began
        return;
    send("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(monotonic_usec()) +
         "\nSTATUS=reloading the configuration");
}

void systemd_notifier::reloaded() {
    if (stopped_)
        return;
    last_status_ = status_();
    send("READY=1\nSTATUS=" + last_status_);
}

void systemd_notifier::stopping() {
    stopped_ = true;
    status_timer_.cancel();
    watchdog_timer_.cancel();
    send("STOPPING=1\nSTATUS=stopping: finishing requests in flight");
}

void systemd_notifier::refresh_status() {
    std::string now = status_();
    if (now == last_status_)
        return;
    last_status_ = std::move(now);
    send("STATUS=" + last_status_);
}

void systemd_notifier::arm_status() {
    status_timer_.expires_after(status_interval);
    status_timer_.async_wait([this](error_code ec) {
        if (ec || stopped_)
            return;
        refresh_status();
        arm_status();
    });
}

void systemd_notifier::arm_watchdog() {
    watchdog_timer_.expires_after(watchdog_every_);
    watchdog_timer_.async_wait([this](error_code ec) {
        if (ec || stopped_)
            return;
        send("WATCHDOG=1");
        arm_watchdog();
    });
}

status_line::status_line(jobs::service& service)
    : service_(service), last_bytes_(jobs::meters().bytes_downloaded.value()),
      last_at_(std::chrono::steady_clock::now()) {}

std::string status_line::operator()() {
    const auto now = std::chrono::steady_clock::now();
    // The counter GET /metrics shows, so that both tell the same rate.
    const std::uint64_t bytes = jobs::meters().bytes_downloaded.value();
    const double seconds = std::chrono::duration<double>(now - last_at_).count();
    const double rate = seconds > 0 ? static_cast<double>(bytes - last_bytes_) / seconds : 0;
    last_bytes_ = bytes;
    last_at_ = now;
    auto counts = service_.activity_since(start_of_today());
    if (!counts)
        return "database unreadable: " + counts.error().message;
    return std::to_string(counts->files_downloading) + " downloading, " +
           megabytes_per_second(rate) + ", " + std::to_string(counts->jobs_completed) +
           " done today, " + std::to_string(counts->jobs_failed) + " failed";
}

std::string megabytes_per_second(double bytes_per_second) {
    const double mb = bytes_per_second / 1e6;
    if (mb >= 9.95 || mb < 0.05)
        return std::to_string(static_cast<long long>(std::llround(mb))) + " MB/s";
    const long long tenths = std::llround(mb * 10);
    return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10) + " MB/s";
}

void arm_test_fault(net::io_context& ctx) {
    const char* fault = std::getenv("STEMD_TEST_FAULT");
    if (fault == nullptr || std::string_view(fault) != "stall-loop-on-sigusr2")
        return;
    log_warning("", "STEMD_TEST_FAULT=stall-loop-on-sigusr2: a test fault, SIGUSR2 stalls the "
                    "event loop for 30 s");
    // Registered now, before the loop runs, so the test's SIGUSR2 never
    // meets the default action (ending the process).
    auto usr2 = std::make_shared<net::signal_set>(ctx, SIGUSR2);
    usr2->async_wait([usr2](error_code ec, int) {
        if (ec)
            return;
        log_warning("", "SIGUSR2 (test fault): stalling the event loop for 30 s");
        std::this_thread::sleep_for(30s);
    });
}

} // namespace stemd::server
