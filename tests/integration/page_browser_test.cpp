// The page in a real browser: headless Chromium driven by Selenium
// (page_browser.py) against the real stemd and `stemd simulate`.

#include "integration/stack.hpp"

#include <doctest/doctest.h>

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

} // namespace

TEST_CASE("the page in headless Chromium: sign in, submit, live to completed, play, waveform, "
          "retry") {
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
    auto r = run({STEMD_PYTHON3, STEMD_PAGE_BROWSER, "--api", s.api_url(), "--token-file",
                  s.token_file().string(), "--artifacts", artifacts.string()},
                 90s);
    std::cout << r.out << std::flush;
    if (r.exit_code == 77) {
        std::cerr << r.err;
        std::exit(77);
    }
    CHECK_MESSAGE(r.exit_code == 0, r.err << "\n" << s.logs());
}
