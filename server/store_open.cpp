#include "server/store_open.hpp"

#include "common/log.hpp"
#include "common/text.hpp"
#include "storage/pg_store.hpp"
#include "storage/sqlite_store.hpp"

#include <systemd/sd-daemon.h>

#include <fcntl.h>
#include <sys/file.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace stemd::server {

namespace {

// Two daemons writing one database and one output folder would fight over
// the same .part files; an advisory lock beside the database keeps the
// second one out.
unique_fd lock_database(const std::filesystem::path& database) {
    std::error_code ec;
    if (database.has_parent_path())
        std::filesystem::create_directories(database.parent_path(), ec);
    auto lock_path = database.string() + ".lock";
    unique_fd fd(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!fd)
        throw std::runtime_error("cannot open lock file " + lock_path + ": " +
                                 std::strerror(errno));
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0)
        throw std::runtime_error("another stemd serve is already using " + database.string() +
                                 " (" + lock_path +
                                 " is locked); stop it first or use "
                                 "another storage.database");
    return fd;
}

// stemd creates its database 0600; one made by an older stemd, or copied in,
// may be readable by others, and it holds signed download links.
void warn_if_exposed(const std::filesystem::path& database) {
    std::vector<std::string> exposed;
    for (const char* suffix : {"", "-wal", "-shm"}) {
        const std::string file = database.string() + suffix;
        if (open_to_others(file))
            exposed.push_back(file);
    }
    if (exposed.empty())
        return;
    log_warning("", "database files open to other users (group or others have access): " +
                        join(exposed, ", ") + "; they hold signed download links, chmod 600 " +
                        join(exposed, " "));
}

// The one-time VACUUM rewrites the whole file; systemd is asked for time
// beyond TimeoutStartSec= first (a no-op without $NOTIFY_SOCKET, and
// harmless when the database turns out to need no VACUUM): a minute, plus
// one per 50 MB, a pace any disk keeps.
void ask_for_time(const std::filesystem::path& database) {
    std::error_code ec;
    const auto bytes = std::filesystem::file_size(database, ec);
    const std::uint64_t seconds = 60 + (ec ? 0 : bytes / 50'000'000);
    sd_notifyf(0, "EXTEND_TIMEOUT_USEC=%llu", static_cast<unsigned long long>(seconds * 1'000'000));
}

// Keyed on the database's own auto_vacuum, not on its schema version: a
// database of any version made before retention needs this once. A failure
// (too little disk beside it, a busy file) does not stop the daemon:
// retention still deletes, only the pages are not given back; the next
// start tries again.
void switch_to_incremental_vacuum(storage::sqlite_store& store,
                                  const std::filesystem::path& database) {
    ask_for_time(database);
    const auto started = std::chrono::steady_clock::now();
    auto switched = store.use_incremental_vacuum();
    if (!switched) {
        log_warning("", "cannot switch " + database.string() +
                            " to incremental vacuum (one VACUUM, needing about the database's "
                            "size free beside it): " +
                            switched.error().message +
                            "; pruned jobs' space stays in the file until a start where it "
                            "succeeds");
        return;
    }
    if (*switched)
        log_info("", "rebuilt " + database.string() +
                         " once with VACUUM so that pruned jobs give their space back "
                         "(incremental vacuum) in " +
                         std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                            std::chrono::steady_clock::now() - started)
                                            .count()) +
                         " ms");
}

opened_store open_sqlite(const std::filesystem::path& database) {
    unique_fd lock = lock_database(database);
    auto store = storage::sqlite_store::open(database);
    if (!store)
        throw std::runtime_error(store.error().message);
    warn_if_exposed(database);
    switch_to_incremental_vacuum(*store, database);
    // Claims outlive a process that was killed; they would only expire
    // after their lease. Releasing them all at once is safe here and only
    // here: the lock above makes this the one process using the database,
    // so every claim in it belongs to a process that is gone.
    auto released = store->release_all_claims();
    if (!released)
        throw std::runtime_error(released.error().message);
    if (*released > 0)
        log_info("", "released " + std::to_string(*released) +
                         " claims left by an earlier stemd; their work resumes now");
    return {std::move(lock), std::make_unique<storage::sqlite_store>(std::move(*store)), {}};
}

// No lock and no release of claims: other daemons share the database, and
// their claims are their own until they expire.
opened_store open_postgres(const std::string& uri) {
    auto options = pg_connection_options(uri);
    auto store = storage::pg_store::open(options);
    if (!store)
        throw std::runtime_error("cannot use the PostgreSQL database of storage.database (" + uri +
                                 "): " + store.error().message);
    log_info("", "using the PostgreSQL database " + uri +
                     (options.passfile.empty() ? "" : " (password file " + options.passfile + ")") +
                     ", shared with any other stemd configured with it");
    return {{}, std::make_unique<storage::pg_store>(std::move(*store)), std::move(options)};
}

} // namespace

storage::pg::connection_options pg_connection_options(const std::string& uri) {
    storage::pg::connection_options o;
    o.conninfo = uri;
    o.passfile = config::postgres_passfile();
    return o;
}

opened_store open_store(const config::storage_settings& s) {
    if (!s.database_uri.empty())
        return open_postgres(s.database_uri);
    return open_sqlite(s.database);
}

} // namespace stemd::server
