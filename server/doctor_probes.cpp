#include "server/doctor_probes.hpp"

#include "common/crypto.hpp"
#include "server/store_open.hpp"
#include "storage/pg_connection.hpp"
#include "storage/pg_schema.hpp"

#include <cerrno>
#include <cstring>
#include <exception>

#include <fcntl.h>
#include <pwd.h>
#include <sys/statvfs.h>
#include <unistd.h>

namespace stemd::server {

namespace net = boost::asio;

net::awaitable<std::vector<check>> musicgpt_checks(client::musicgpt_options options,
                                                   net::ssl::context& tls) {
    if (options.api_key.empty())
        co_return std::vector<check>{
            {std::string(check_api_key), check_level::problem,
             "no MusicGPT API key: set musicgpt.api_key, musicgpt.api_key_file or "
             "$MUSICGPT_API_KEY"},
            not_checked(check_clock, "it needs an answer from MusicGPT")};
    const std::string base_url = options.base_url;
    key_answer key;
    std::optional<millis> date;
    millis local = 0;
    try {
        client::musicgpt_client api(std::move(options), tls);
        auto answer = co_await api.probe_key("stemd-doctor-" + random_token_hex(8));
        local = now_millis();
        if (!answer) {
            key.unreachable = answer.error().message;
        } else {
            key = {"", answer->http_status, answer->error_code, answer->message};
            date = parse_http_date(answer->date);
        }
    } catch (const std::exception& e) {
        key.unreachable = e.what();
    }
    check clock = key.unreachable.empty() ? clock_check(date, local)
                                          : not_checked(check_clock, "MusicGPT did not answer");
    co_return std::vector<check>{api_key_check(key, base_url), std::move(clock)};
}

namespace {

// Makes and removes a file in `dir`: "" or why not.
std::string probe_write(const std::filesystem::path& dir) {
    const auto file = dir / (".stemd-doctor-" + random_token_hex(8));
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return std::strerror(errno);
    const bool written = ::write(fd, "x", 1) == 1;
    const int saved = errno;
    ::close(fd);
    ::unlink(file.c_str());
    return written ? "" : std::strerror(saved);
}

} // namespace

check output_dir_probe(const std::filesystem::path& output_dir, std::int64_t max_bytes,
                       std::string_view by) {
    output_dir_facts f;
    f.dir = output_dir.string();
    f.max_bytes = max_bytes;
    const std::filesystem::path wanted = std::filesystem::absolute(output_dir);
    std::filesystem::path dir = wanted;
    std::error_code ec;
    while (!std::filesystem::exists(dir, ec) && dir.has_relative_path())
        dir = dir.parent_path();
    if (dir != wanted)
        f.existing_parent = dir.string();
    if (!std::filesystem::is_directory(dir, ec))
        f.write_problem = "not a folder";
    else
        f.write_problem = probe_write(dir);
    struct statvfs fs {};
    if (f.write_problem.empty() && ::statvfs(dir.c_str(), &fs) == 0)
        f.free_bytes = std::uint64_t{fs.f_bavail} * fs.f_frsize;
    check c = output_dir_check(f);
    c.message = std::string(by) + ", as user " + effective_user() + ": " + c.message;
    return c;
}

std::string effective_user() {
    const uid_t uid = ::geteuid();
    // getpwuid_r with a buffer of its own: the daemon answers from one thread,
    // but the CLI and the daemon share this code.
    char buffer[4096];
    struct passwd entry {};
    struct passwd* found = nullptr;
    if (::getpwuid_r(uid, &entry, buffer, sizeof buffer, &found) == 0 && found != nullptr)
        return found->pw_name;
    return "uid " + std::to_string(uid);
}

namespace {

// The version stored, 0 for a database no stemd has used yet.
int stored_schema_version(storage::pg::connection& c) {
    if (c.exec("SELECT to_regclass('stemd_schema') IS NOT NULL").boolean(0, 0) == false)
        return 0;
    return static_cast<int>(
        c.exec("SELECT coalesce(max(version), 0) FROM stemd_schema").int64(0, 0));
}

} // namespace

check database_probe(const std::string& uri) {
    const int ours = storage::pg::schema_version();
    try {
        storage::pg::connection c(pg_connection_options(uri));
        const int stored = stored_schema_version(c);
        const std::string where = "PostgreSQL " + c.describe();
        if (stored > ours)
            return {std::string(check_database), check_level::problem,
                    where + " has schema version " + std::to_string(stored) +
                        ", newer than this stemd's " + std::to_string(ours) +
                        ": upgrade stemd on this machine"};
        if (stored < ours)
            return {std::string(check_database), check_level::ok,
                    where + " answers; schema version " + std::to_string(stored) + ", brought to " +
                        std::to_string(ours) + " by the next `stemd serve`"};
        return {std::string(check_database), check_level::ok,
                where + " answers; schema version " + std::to_string(stored)};
    } catch (const std::exception& e) {
        return {std::string(check_database), check_level::problem,
                "cannot use the PostgreSQL database of storage.database (" + uri +
                    "): " + e.what() +
                    "; the password comes from PGPASSFILE or the systemd credential pgpass"};
    }
}

} // namespace stemd::server
