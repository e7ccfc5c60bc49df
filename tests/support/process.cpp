#include "tests/support/process.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <utility>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace stemd::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

[[noreturn]] void throw_errno(const std::string& what) {
    throw std::runtime_error(what + ": " + std::strerror(errno));
}

// Closes a file descriptor when it goes out of scope.
class fd_guard {
public:
    explicit fd_guard(int fd = -1) : fd_(fd) {}
    ~fd_guard() { reset(); }
    fd_guard(const fd_guard&) = delete;
    fd_guard& operator=(const fd_guard&) = delete;

    int get() const { return fd_; }
    int release() { return std::exchange(fd_, -1); }
    void reset(int fd = -1) {
        if (fd_ >= 0)
            ::close(fd_);
        fd_ = fd;
    }

private:
    int fd_;
};

int open_or_throw(const char* path, int flags, const std::string& what) {
    int fd = ::open(path, flags | O_CLOEXEC, 0644);
    if (fd < 0)
        throw_errno(what + " (" + path + ")");
    return fd;
}

// argv and envp for execve, built before fork() because the child of a
// multi-threaded parent may only make async-signal-safe calls.
class exec_image {
public:
    exec_image(const std::vector<std::string>& args,
               const std::map<std::string, std::string>& extra_env)
        : args_(args) {
        if (args_.empty())
            throw std::invalid_argument("child process: empty argument list");
        for (char** e = environ; *e != nullptr; ++e) {
            std::string entry = *e;
            std::string name = entry.substr(0, entry.find('='));
            if (!extra_env.contains(name))
                env_.push_back(std::move(entry));
        }
        for (const auto& [name, value] : extra_env)
            env_.push_back(name + "=" + value);
        for (auto& a : args_)
            argv_.push_back(a.data());
        argv_.push_back(nullptr);
        for (auto& e : env_)
            envp_.push_back(e.data());
        envp_.push_back(nullptr);
    }
    exec_image(const exec_image&) = delete; // argv_ and envp_ point into this object
    exec_image& operator=(const exec_image&) = delete;

    const char* path() const { return argv_[0]; }
    char* const* argv() const { return argv_.data(); }
    char* const* envp() const { return envp_.data(); }

private:
    std::vector<std::string> args_;
    std::vector<std::string> env_;
    std::vector<char*> argv_;
    std::vector<char*> envp_;
};

// The child's standard streams and working directory.
struct child_setup {
    int stdin_fd = -1;
    int stdout_fd = -1;
    int stderr_fd = -1;
    const char* working_dir = nullptr; // null: inherit
};

[[noreturn]] void exec_child(const exec_image& image, const child_setup& setup, int report_fd) {
    // Only async-signal-safe calls from here on. A failure is reported to the
    // parent through report_fd (close-on-exec, so a successful exec closes it).
    if (::dup2(setup.stdin_fd, STDIN_FILENO) >= 0 && ::dup2(setup.stdout_fd, STDOUT_FILENO) >= 0 &&
        ::dup2(setup.stderr_fd, STDERR_FILENO) >= 0 &&
        (setup.working_dir == nullptr || ::chdir(setup.working_dir) == 0)) {
        ::execve(image.path(), image.argv(), image.envp());
    }
    int err = errno;
    (void)!::write(report_fd, &err, sizeof err);
    ::_exit(127);
}

// Forks and execs; throws (after reaping the child) when exec failed, so a
// typo in a test's command line is reported as such rather than as exit 127.
int spawn(const exec_image& image, const child_setup& setup) {
    int report[2];
    if (::pipe2(report, O_CLOEXEC) != 0)
        throw_errno("child process: pipe2");
    fd_guard report_read(report[0]);
    fd_guard report_write(report[1]);

    pid_t pid = ::fork();
    if (pid < 0)
        throw_errno("child process: fork");
    if (pid == 0)
        exec_child(image, setup, report_write.get());

    report_write.reset();
    int child_errno = 0;
    ssize_t n;
    do {
        n = ::read(report_read.get(), &child_errno, sizeof child_errno);
    } while (n < 0 && errno == EINTR);
    if (n > 0) {
        ::waitpid(pid, nullptr, 0);
        throw std::runtime_error(
            std::string("child process: cannot start ") + image.path() +
            (setup.working_dir ? std::string(" in ") + setup.working_dir : std::string()) + ": " +
            std::strerror(child_errno));
    }
    return pid;
}

// Exit code as a shell reports it: the status, or 128 + the killing signal.
int decode_status(int status) {
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return -1;
}

// Reaps `pid` if it has exited; returns the decoded exit code.
std::optional<int> try_reap(int pid) {
    int status = 0;
    pid_t r;
    do {
        r = ::waitpid(pid, &status, WNOHANG);
    } while (r < 0 && errno == EINTR);
    if (r == pid)
        return decode_status(status);
    if (r < 0) // not our child any more (reaped elsewhere): nothing to wait for
        return -1;
    return std::nullopt;
}

void kill_and_reap(int pid) {
    ::kill(pid, SIGKILL);
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
}

} // namespace

// ---------------------------------------------------------------- child_process

child_process::child_process(std::vector<std::string> args, std::filesystem::path log_file,
                             std::map<std::string, std::string> extra_env,
                             std::filesystem::path working_dir)
    : log_file_(std::move(log_file)) {
    exec_image image(args, extra_env);
    fd_guard null_in(open_or_throw("/dev/null", O_RDONLY, "child process: open"));
    fd_guard log(open_or_throw(log_file_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND,
                               "child process: open log file"));
    child_setup setup{null_in.get(), log.get(), log.get(),
                      working_dir.empty() ? nullptr : working_dir.c_str()};
    pid_ = spawn(image, setup);
}

child_process::~child_process() {
    if (running())
        kill_and_reap(pid_);
}

bool child_process::running() {
    if (exited_)
        return false;
    if (auto code = try_reap(pid_)) {
        exited_ = true;
        status_ = *code;
        return false;
    }
    return true;
}

void child_process::signal(int sig) {
    // Never signal a reaped pid: the number may already belong to someone else.
    if (running())
        ::kill(pid_, sig);
}

int child_process::wait(std::chrono::milliseconds timeout) {
    auto deadline = steady_clock::now() + timeout;
    while (running()) {
        if (steady_clock::now() >= deadline)
            return -1;
        std::this_thread::sleep_for(milliseconds(10));
    }
    return status_;
}

std::string child_process::log() const {
    return read_file(log_file_);
}

// ------------------------------------------------------------------------- run

namespace {

// Reads what is available from `fd` into `out`; returns false at EOF or error.
bool drain(int fd, std::string& out) {
    char buf[4096];
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
        out.append(buf, static_cast<std::size_t>(n));
        return true;
    }
    return n < 0 && (errno == EINTR || errno == EAGAIN);
}

} // namespace

run_result run(const std::vector<std::string>& args, std::chrono::milliseconds timeout,
               std::map<std::string, std::string> extra_env) {
    exec_image image(args, extra_env);
    int out_pipe[2];
    int err_pipe[2];
    if (::pipe2(out_pipe, O_CLOEXEC) != 0)
        throw_errno("run: pipe2");
    fd_guard out_read(out_pipe[0]);
    fd_guard out_write(out_pipe[1]);
    if (::pipe2(err_pipe, O_CLOEXEC) != 0)
        throw_errno("run: pipe2");
    fd_guard err_read(err_pipe[0]);
    fd_guard err_write(err_pipe[1]);
    fd_guard null_in(open_or_throw("/dev/null", O_RDONLY, "run: open"));

    int pid = spawn(image, {null_in.get(), out_write.get(), err_write.get(), nullptr});
    out_write.reset();
    err_write.reset();

    run_result result;
    auto deadline = steady_clock::now() + timeout;
    auto remaining_ms = [&] {
        auto left = std::chrono::duration_cast<milliseconds>(deadline - steady_clock::now());
        return static_cast<int>(std::max<milliseconds::rep>(left.count(), 0));
    };

    // Read both pipes together so a child filling one of them never blocks.
    bool out_open = true;
    bool err_open = true;
    while ((out_open || err_open) && remaining_ms() > 0) {
        pollfd fds[2] = {{out_open ? out_read.get() : -1, POLLIN, 0},
                         {err_open ? err_read.get() : -1, POLLIN, 0}};
        int ready = ::poll(fds, 2, remaining_ms());
        if (ready < 0 && errno != EINTR)
            break;
        if (fds[0].revents != 0)
            out_open = drain(out_read.get(), result.out);
        if (fds[1].revents != 0)
            err_open = drain(err_read.get(), result.err);
    }

    // Both pipes closed usually means the child is exiting; give it the rest
    // of the time, then kill it.
    while (true) {
        if (auto code = try_reap(pid)) {
            result.exit_code = *code;
            return result;
        }
        if (remaining_ms() <= 0)
            break;
        std::this_thread::sleep_for(milliseconds(std::min(10, remaining_ms())));
    }
    kill_and_reap(pid);
    result.exit_code = 128 + SIGKILL;
    return result;
}

// ----------------------------------------------------------------- small tools

bool wait_until(const std::function<bool()>& ready, std::chrono::milliseconds timeout) {
    auto deadline = steady_clock::now() + timeout;
    while (true) {
        if (ready())
            return true;
        if (steady_clock::now() >= deadline)
            return false;
        std::this_thread::sleep_for(milliseconds(20));
    }
}

namespace {

// Ports a test may reserve: the 10,000 below the ephemeral range, or those
// above it when the range starts too low to leave room.
std::pair<int, int> reservable_ports() {
    int low = 32768, high = 60999;
    std::ifstream("/proc/sys/net/ipv4/ip_local_port_range") >> low >> high;
    if (low - 10000 >= 1024)
        return {low - 10000, low - 1};
    return {high + 1, 65535};
}

bool binds_on_loopback(int port) {
    fd_guard sock(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (sock.get() < 0)
        throw_errno("reserved_port: socket");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    return ::bind(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
}

} // namespace

reserved_port::reserved_port() {
    const auto lock_path = std::filesystem::temp_directory_path() / "stemd-test-ports.lock";
    // Shared by every user's test runs; the lock is what matters, not the mode.
    fd_guard fd(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666));
    if (fd.get() < 0)
        throw_errno("reserved_port: open " + lock_path.string());
    ::fchmod(fd.get(), 0666);

    const auto [first, last] = reservable_ports();
    const int count = last - first + 1;
    std::random_device seed;
    const int start = static_cast<int>(seed() % static_cast<unsigned>(count));
    for (int i = 0; i < count; ++i) {
        const int port = first + (start + i) % count;
        struct flock lock {};
        lock.l_type = F_WRLCK;
        lock.l_whence = SEEK_SET;
        lock.l_start = port;
        lock.l_len = 1;
        if (::fcntl(fd.get(), F_OFD_SETLK, &lock) != 0)
            continue; // another test process holds it
        if (!binds_on_loopback(port)) {
            lock.l_type = F_UNLCK;
            ::fcntl(fd.get(), F_OFD_SETLK, &lock);
            continue; // something outside the tests listens there
        }
        number_ = port;
        lock_fd_ = fd.release();
        return;
    }
    throw std::runtime_error("reserved_port: no free port on 127.0.0.1 in " +
                             std::to_string(first) + "-" + std::to_string(last));
}

reserved_port::~reserved_port() {
    if (lock_fd_ >= 0)
        ::close(lock_fd_); // releases the lock
}

std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in)
        return {};
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string sha256_hex(const std::string& bytes) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr) != 1)
        throw std::runtime_error("sha256_hex: EVP_Digest failed");
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(length * 2);
    for (unsigned int i = 0; i < length; ++i) {
        out.push_back(hex[digest[i] >> 4]);
        out.push_back(hex[digest[i] & 0x0f]);
    }
    return out;
}

// ---------------------------------------------------------------- http_request

namespace {

enum class parse_state { incomplete, complete, malformed };

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

// The value of header `name` (case-insensitive) in CRLF-separated `headers`.
std::optional<std::string> header_value(const std::string& headers, const std::string& name) {
    std::istringstream lines(headers);
    std::string line;
    std::string wanted = lower(name);
    while (std::getline(lines, line)) {
        if (!line.empty() && line.back() == '\r')
            line.pop_back();
        auto colon = line.find(':');
        if (colon == std::string::npos || lower(line.substr(0, colon)) != wanted)
            continue;
        auto start = line.find_first_not_of(" \t", colon + 1);
        auto end = line.find_last_not_of(" \t");
        return start == std::string::npos ? std::string() : line.substr(start, end - start + 1);
    }
    return std::nullopt;
}

// Decodes a chunked body starting at `data`; `incomplete` until the last
// chunk and the trailer section have arrived.
parse_state decode_chunked(std::string_view data, std::string& body) {
    body.clear();
    std::size_t pos = 0;
    while (true) {
        auto line_end = data.find("\r\n", pos);
        if (line_end == std::string_view::npos)
            return parse_state::incomplete;
        std::string size_text(data.substr(pos, line_end - pos));
        size_text = size_text.substr(0, size_text.find(';')); // drop chunk extensions
        std::size_t size = 0;
        try {
            std::size_t used = 0;
            size = std::stoul(size_text, &used, 16);
            if (used == 0)
                return parse_state::malformed;
        } catch (const std::exception&) {
            return parse_state::malformed;
        }
        pos = line_end + 2;
        if (size == 0)
            break;
        if (data.size() < pos + size + 2)
            return parse_state::incomplete;
        if (data.substr(pos + size, 2) != "\r\n")
            return parse_state::malformed;
        body.append(data.substr(pos, size));
        pos += size + 2;
    }
    // Trailer fields, ended by an empty line.
    while (true) {
        auto line_end = data.find("\r\n", pos);
        if (line_end == std::string_view::npos)
            return parse_state::incomplete;
        if (line_end == pos)
            return parse_state::complete;
        pos = line_end + 2;
    }
}

// "HTTP/1.1 200 OK" -> 200; 0 when the line is not an HTTP/1.x status line.
int parse_status_line(const std::string& line) {
    if (line.size() < 12 || line.compare(0, 7, "HTTP/1.") != 0 || line[8] != ' ')
        return 0;
    int status = 0;
    for (std::size_t i = 9; i < 12; ++i) {
        if (!std::isdigit(static_cast<unsigned char>(line[i])))
            return 0;
        status = status * 10 + (line[i] - '0');
    }
    if (line.size() > 12 && line[12] != ' ')
        return 0;
    return status >= 100 ? status : 0;
}

// Parses what has arrived so far. `at_eof` lets a body without a length end
// with the connection.
parse_state parse_response(const std::string& raw, bool at_eof, bool head_request,
                           http_answer& answer) {
    auto header_end = raw.find("\r\n\r\n");
    if (header_end == std::string::npos)
        return at_eof ? parse_state::malformed : parse_state::incomplete;

    auto status_end = raw.find("\r\n");
    int status = parse_status_line(raw.substr(0, status_end));
    if (status == 0)
        return parse_state::malformed;
    answer.status = status;
    answer.headers =
        status_end == header_end ? "" : raw.substr(status_end + 2, header_end - status_end);

    std::string_view rest(raw);
    rest.remove_prefix(header_end + 4);
    if (head_request || status == 204 || status == 304 || status < 200) {
        answer.body.clear();
        return parse_state::complete;
    }
    auto encoding = header_value(answer.headers, "Transfer-Encoding");
    if (encoding && lower(*encoding).find("chunked") != std::string::npos) {
        auto state = decode_chunked(rest, answer.body);
        return state == parse_state::incomplete && at_eof ? parse_state::malformed : state;
    }
    if (auto length_text = header_value(answer.headers, "Content-Length")) {
        std::size_t length = 0;
        try {
            length = std::stoull(*length_text);
        } catch (const std::exception&) {
            return parse_state::malformed;
        }
        if (rest.size() < length)
            return at_eof ? parse_state::malformed : parse_state::incomplete;
        answer.body = std::string(rest.substr(0, length));
        return parse_state::complete;
    }
    answer.body = std::string(rest);
    return at_eof ? parse_state::complete : parse_state::incomplete;
}

bool send_all(int fd, const std::string& data) {
    std::size_t sent = 0;
    while (sent < data.size()) {
        ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        sent += static_cast<std::size_t>(n);
    }
    return true;
}

http_answer failed(int port, const std::string& why) {
    http_answer answer;
    answer.body = "http_request to 127.0.0.1:" + std::to_string(port) + ": " + why;
    return answer;
}

} // namespace

http_answer http_request(int port, const std::string& method, const std::string& target,
                         const std::string& body, const std::string& content_type,
                         const std::string& extra_headers) {
    fd_guard sock(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (sock.get() < 0)
        return failed(port, std::string("socket: ") + std::strerror(errno));
    timeval five_seconds{5, 0};
    ::setsockopt(sock.get(), SOL_SOCKET, SO_RCVTIMEO, &five_seconds, sizeof five_seconds);
    ::setsockopt(sock.get(), SOL_SOCKET, SO_SNDTIMEO, &five_seconds, sizeof five_seconds);

    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    if (::connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
        return failed(port, std::string("connect: ") + std::strerror(errno));

    std::string request = method + " " + target +
                          " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                          "\r\nConnection: close\r\n";
    if (!content_type.empty())
        request += "Content-Type: " + content_type + "\r\n";
    request += extra_headers;
    request += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    if (!send_all(sock.get(), request))
        return failed(port, std::string("send: ") + std::strerror(errno));

    // Stop at the end of the message rather than waiting for the close, so a
    // server that ignores "Connection: close" does not cost the timeout.
    http_answer answer;
    std::string raw;
    char buf[16384];
    bool head_request = method == "HEAD";
    while (true) {
        ssize_t n = ::recv(sock.get(), buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return failed(port, "no complete response within 5 s (" + std::to_string(raw.size()) +
                                    " bytes received)");
        bool at_eof = n <= 0; // a reset after a full response still counts as its end
        if (n > 0)
            raw.append(buf, static_cast<std::size_t>(n));
        switch (parse_response(raw, at_eof, head_request, answer)) {
        case parse_state::complete:
            return answer;
        case parse_state::malformed:
            return failed(port, raw.empty() ? "connection closed without a response"
                                            : "malformed or truncated response (" +
                                                  std::to_string(raw.size()) + " bytes)");
        case parse_state::incomplete:
            break;
        }
    }
}

// ---------------------------------------------------------------- raw_connection

raw_connection::raw_connection(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0)
        throw_errno("raw_connection: socket");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        const int saved = errno;
        ::close(fd_);
        errno = saved;
        throw_errno("raw_connection: connect to 127.0.0.1:" + std::to_string(port));
    }
}

raw_connection::~raw_connection() {
    if (fd_ >= 0)
        ::close(fd_);
}

bool raw_connection::send(const std::string& bytes) { return send_all(fd_, bytes); }

namespace {

// Waits for the socket to become readable until `deadline`; false on timeout.
bool readable_before(int fd, steady_clock::time_point deadline) {
    for (;;) {
        auto left = std::chrono::duration_cast<milliseconds>(deadline - steady_clock::now());
        pollfd p{fd, POLLIN, 0};
        int n = ::poll(&p, 1, static_cast<int>(std::max<milliseconds::rep>(left.count(), 0)));
        if (n < 0 && errno == EINTR)
            continue;
        return n > 0;
    }
}

} // namespace

http_answer raw_connection::read_response(milliseconds timeout) {
    const auto deadline = steady_clock::now() + timeout;
    http_answer answer;
    std::string raw;
    char buf[16384];
    for (;;) {
        if (!readable_before(fd_, deadline)) {
            answer.status = 0;
            answer.body = "no complete response in time (" + std::to_string(raw.size()) +
                          " bytes received)";
            return answer;
        }
        ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR)
            continue;
        bool at_eof = n <= 0;
        if (n > 0)
            raw.append(buf, static_cast<std::size_t>(n));
        switch (parse_response(raw, at_eof, false, answer)) {
        case parse_state::complete:
            return answer;
        case parse_state::malformed:
            answer.status = 0;
            answer.body = raw.empty() ? "connection closed without a response"
                                      : "malformed or truncated response";
            return answer;
        case parse_state::incomplete:
            break;
        }
    }
}

bool raw_connection::closed_within(milliseconds timeout) {
    const auto deadline = steady_clock::now() + timeout;
    char buf[4096];
    for (;;) {
        if (!readable_before(fd_, deadline))
            return false;
        ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return true;
    }
}

} // namespace stemd::test
