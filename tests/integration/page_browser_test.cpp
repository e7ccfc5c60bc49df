// The page in a real browser: headless Chromium driven by Selenium
// (page_browser.py) against the real stemd and `stemd simulate`.

#include "integration/stack.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <unistd.h>

using namespace stemd::test;
using namespace std::chrono_literals;

namespace {

// Without a browser there is nothing to test with: skip, loudly.
void require_browser() {
    std::string missing;
    for (const char* tool : {"/usr/bin/chromium", "/usr/bin/chromedriver"})
        if (::access(tool, X_OK) != 0)
            missing += std::string(missing.empty() ? "" : ", ") + tool;
    if (run({STEMD_PYTHON3, "-c", "import selenium.webdriver"}).exit_code != 0)
        missing += std::string(missing.empty() ? "" : ", ") + "selenium for " STEMD_PYTHON3;
    if (missing.empty())
        return;
    std::cerr << "SKIP: the browser test needs " << missing
              << "; install chromium, chromium-driver and python3-selenium (.ci/install-deps)\n";
    std::exit(77);
}

// Runs page_browser.py with the page open across a restart of stemd: the
// script asks for one by writing restart-request into `control`, and goes on
// once restart-done appears there. Returns the script's exit status.
int drive_browser(stack& s, const std::filesystem::path& artifacts) {
    const auto control = s.ws() / "browser-control";
    std::filesystem::create_directories(control);
    child_process browser({STEMD_PYTHON3, STEMD_PAGE_BROWSER, "--api", s.api_url(), "--token-file",
                           s.token_file().string(), "--artifacts", artifacts.string(), "--control",
                           control.string()},
                          s.ws() / "browser.log");
    // Each step of the script has its own deadline; these only bound a hang.
    const auto request = control / "restart-request";
    const bool asked =
        wait_until([&] { return !browser.running() || std::filesystem::exists(request); }, 80s);
    if (asked && browser.running()) {
        // A plain stop and start, as an upgrade or a crash-restart does.
        s.serve().signal(SIGTERM);
        REQUIRE_MESSAGE(s.serve().wait(20s) >= 0, s.logs());
        s.start_serve();
        write_file(control / "restart-done", "");
    }
    const int status = browser.wait(30s);
    std::cout << browser.log() << std::flush;
    return status;
}

} // namespace

TEST_CASE("the page in headless Chromium: sign in, submit, live to completed, play, waveforms, "
          "retry, a stemd restart, sign out") {
    require_browser();
    // Stems of 512 KiB (about 6 s of audio) at 2 MiB/s, the result 1.5 s
    // after submission: each job is seen moving. One download attempt, so
    // the one-shot fault of the job to retry fails it.
    stack s("page-browser", {.stem_bytes = 512 * 1024,
                             .rate = 2 * 1024 * 1024,
                             .webhook_delay_ms = 1500,
                             .max_attempts = 1});
    s.start_simulator();
    s.start_serve();
    const std::filesystem::path artifacts = STEMD_BROWSER_ARTIFACTS;
    std::filesystem::create_directories(artifacts);
    const int status = drive_browser(s, artifacts);
    if (status == 77)
        std::exit(77);
    CHECK_MESSAGE(status == 0, s.logs());
}
