#include "tests/support/s3_server.hpp"

#include "tests/support/http_probe.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <stdexcept>

#include <signal.h>
#include <unistd.h>

#ifndef STEMD_S3_SERVER_DIR
#error "a runner using tests/support/s3_server.cpp defines STEMD_S3_SERVER_DIR"
#endif

namespace stemd::test {

namespace {

const std::filesystem::path server_dir = STEMD_S3_SERVER_DIR;

// node's path from PATH, or "" when it is not there.
std::string find_node() {
    const char* path = std::getenv("PATH");
    std::stringstream dirs(path ? path : "");
    std::string dir;
    while (std::getline(dirs, dir, ':')) {
        if (dir.empty())
            continue;
        const auto candidate = std::filesystem::path(dir) / "node";
        if (::access(candidate.c_str(), X_OK) == 0)
            return candidate.string();
    }
    return "";
}

} // namespace

std::string s3_server::unavailable_reason() {
    if (find_node().empty())
        return "node is not on PATH; install Debian's nodejs and npm (.ci/install-deps)";
    if (!std::filesystem::exists(server_dir / "node_modules" / "s3rver" / "package.json"))
        return "s3rver is not installed in " + server_dir.string() +
               "/node_modules; run `npm ci --prefix " + server_dir.string() +
               "` (.ci/install-deps does)";
    return "";
}

void s3_server::skip_unless_available() {
    const std::string reason = unavailable_reason();
    if (reason.empty())
        return;
    std::cerr << "SKIP: the S3 test server cannot run: " << reason << '\n';
    std::exit(77);
}

s3_server::s3_server(std::string bucket) : bucket_(std::move(bucket)) {
    const std::string reason = unavailable_reason();
    if (!reason.empty())
        throw std::runtime_error("the S3 test server cannot run: " + reason);
    child_ = std::make_unique<child_process>(
        std::vector<std::string>{find_node(), (server_dir / "s3_server.js").string(), "--directory",
                                 (dir_ / "store").string(), "--port",
                                 std::to_string(port_.number()), "--bucket", bucket_},
        dir_ / "s3_server.log");
    const bool ready = wait_until(
        [&] {
            return !child_->running() ||
                   http_request(port_.number(), "GET", "/" + bucket_, "", "").status != 0;
        },
        std::chrono::seconds(20));
    if (!ready || !child_->running())
        throw std::runtime_error("the S3 test server did not start on port " +
                                 std::to_string(port_.number()) + ":\n" + child_->log());
}

s3_server::~s3_server() {
    stop();
}

std::string s3_server::endpoint() const {
    return "http://127.0.0.1:" + std::to_string(port_.number());
}

std::vector<std::pair<std::string, std::string>> s3_server::leftover_uploads() const {
    std::vector<std::pair<std::string, std::string>> uploads;
    const auto dir = dir_.path() / "store" / bucket_ / "._S3rver_uploads";
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
        const auto key_file = entry.path() / "key";
        if (std::filesystem::exists(key_file))
            uploads.emplace_back(read_file(key_file), entry.path().filename().string());
    }
    std::sort(uploads.begin(), uploads.end());
    return uploads;
}

void s3_server::stop() {
    if (!child_ || !child_->running())
        return;
    child_->signal(SIGTERM);
    if (child_->wait(std::chrono::seconds(5)) == -1) {
        child_->signal(SIGKILL);
        child_->wait(std::chrono::seconds(5));
    }
}

std::string s3_server::log() const {
    return child_ ? child_->log() : "";
}

} // namespace stemd::test
