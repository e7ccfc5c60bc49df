#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace stemd::test {

// A child process (fork/exec) whose stdout+stderr go to a log file
// (truncated first), stdin from /dev/null. args[0] is the program's path (no
// PATH search); extra_env is added to (or overrides) this process's
// environment. Throws std::runtime_error when the program cannot be started
// (missing, not executable, bad working_dir).
class child_process {
public:
    child_process(std::vector<std::string> args, std::filesystem::path log_file,
                  std::map<std::string, std::string> extra_env = {},
                  std::filesystem::path working_dir = {});
    ~child_process(); // SIGKILL + reap if still running
    child_process(const child_process&) = delete;
    child_process& operator=(const child_process&) = delete;

    int pid() const { return pid_; }
    bool running();
    void signal(int sig);
    // Waits for exit up to `timeout`; returns the exit status (128+signal
    // when killed), or -1 on timeout. Polls every 10 ms.
    int wait(std::chrono::milliseconds timeout);
    std::string log() const;

private:
    int pid_ = -1;
    bool exited_ = false; // reaped: pid_ may belong to another process now
    int status_ = -1;     // decoded exit status once exited_
    std::filesystem::path log_file_;
};

struct run_result {
    int exit_code = -1;
    std::string out; // stdout
    std::string err; // stderr
};

// Runs a command to completion (bounded by `timeout`, then SIGKILL, and
// exit_code 128+9) capturing stdout and stderr. Same argument and start-up
// failure rules as child_process.
run_result run(const std::vector<std::string>& args,
               std::chrono::milliseconds timeout = std::chrono::seconds(30),
               std::map<std::string, std::string> extra_env = {});

// Polls `ready` every 20 ms until it returns true or `timeout` passes.
bool wait_until(const std::function<bool()>& ready, std::chrono::milliseconds timeout);

// A TCP port on 127.0.0.1 for a server a test starts, held until destroyed.
// It lies outside the kernel's ephemeral range, so no outgoing connection
// can take it as a source port while the test restarts its server; and an
// open-file-description lock on one byte of a shared file keeps concurrent
// test processes from being given the same port. Throws when none is free.
class reserved_port {
public:
    reserved_port();
    ~reserved_port();
    reserved_port(const reserved_port&) = delete;
    reserved_port& operator=(const reserved_port&) = delete;

    int number() const { return number_; }

private:
    int number_ = 0;
    int lock_fd_ = -1;
};

// Reads a whole file ("" if missing).
std::string read_file(const std::filesystem::path& p);

// SHA-256 of bytes, lowercase hex, computed with OpenSSL directly (not with
// stemd's own code).
std::string sha256_hex(const std::string& bytes);

// A blocking HTTP/1.1 request over a plain loopback socket, written without
// stemd's client code so the tests do not trust what they test. Sends
// "Connection: close", Content-Length always, and Content-Type unless
// `content_type` is empty. Reads a Content-Length, chunked or until-close body;
// gives up when nothing arrives for 5 s.
struct http_answer {
    int status = 0;      // 0: connection failed or no complete response (body says why)
    std::string body;    // decoded (chunked encoding removed)
    std::string headers; // header lines after the status line, each ending in CRLF
};
// `extra_headers` are raw header lines, each ending in CRLF.
http_answer http_request(int port, const std::string& method, const std::string& target,
                         const std::string& body = "",
                         const std::string& content_type = "application/json",
                         const std::string& extra_headers = "");

// A blocking TCP connection to 127.0.0.1:port for tests that misbehave on
// purpose (slow senders, oversized headers, held-open keep-alive), written
// without stemd's code.
class raw_connection {
public:
    explicit raw_connection(int port); // throws std::runtime_error if it cannot connect
    ~raw_connection();
    raw_connection(const raw_connection&) = delete;
    raw_connection& operator=(const raw_connection&) = delete;

    // False once the peer has closed or reset the connection.
    bool send(const std::string& bytes);
    // Reads one response (Content-Length or chunked body); status 0 (and
    // the reason in body) when the connection closes first or `timeout`
    // passes.
    http_answer read_response(std::chrono::milliseconds timeout = std::chrono::seconds(5));
    // True once the peer closes (EOF or reset) within `timeout`; whatever
    // arrives meanwhile is discarded.
    bool closed_within(std::chrono::milliseconds timeout);

private:
    int fd_ = -1;
};

} // namespace stemd::test
