#pragma once

// The S3-compatible server of the tests: tests/support/s3/s3_server.js
// (s3rver 3.7.1 with SigV4 checking and the multipart listing/abort calls
// it lacks) run with node from PATH, its filesystem store in a fresh
// directory, on a reserved loopback port. .ci/install-deps installs node
// and the npm packages; a runner that uses this file defines
// STEMD_S3_SERVER_DIR (the path of tests/support/s3).

#include "tests/support/ports.hpp"
#include "tests/support/process.hpp"
#include "tests/support/workspace.hpp"

#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace stemd::test {

class s3_server {
public:
    // Why the server cannot run here ("" when it can): node not on PATH, or
    // tests/support/s3/node_modules not installed.
    static std::string unavailable_reason();
    // Prints "SKIP: <reason>" and exits 77 (CTest's SKIP_RETURN_CODE) when
    // the server cannot run here; returns otherwise.
    static void skip_unless_available();

    // Starts the server with `bucket` created and waits (bounded) until it
    // answers; throws std::runtime_error with its log when it does not.
    explicit s3_server(std::string bucket = "stemd-test");
    ~s3_server();
    s3_server(const s3_server&) = delete;
    s3_server& operator=(const s3_server&) = delete;

    std::string endpoint() const; // "http://127.0.0.1:<port>"
    int port() const { return port_.number(); }
    const std::string& bucket() const { return bucket_; }
    std::string region() const { return "us-east-1"; }
    // s3rver's only account.
    std::string access_key() const { return "S3RVER"; }
    std::string secret_key() const { return "S3RVER"; }
    // The store's directory: <dir>/<bucket>/<key> layout is s3rver's.
    std::filesystem::path directory() const { return dir_.path() / "store"; }

    // Unfinished multipart uploads as (key, upload id), read from the
    // store's directory (not through the API under test), sorted.
    std::vector<std::pair<std::string, std::string>> leftover_uploads() const;

    // Stops the server (SIGTERM, then SIGKILL after 5 s); the destructor
    // does it too.
    void stop();
    std::string log() const;

private:
    workspace dir_{"s3"};
    reserved_port port_;
    std::string bucket_;
    std::unique_ptr<child_process> child_;
};

} // namespace stemd::test
