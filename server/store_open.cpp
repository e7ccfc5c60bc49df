#include "server/store_open.hpp"

#include "common/log.hpp"
#include "common/text.hpp"

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

} // namespace

locked_store open_locked_store(const std::filesystem::path& database) {
    unique_fd lock = lock_database(database);
    auto store = storage::sqlite_store::open(database);
    if (!store)
        throw std::runtime_error(store.error().message);
    warn_if_exposed(database);
    // Keyed on the database's own auto_vacuum, not on its schema version:
    // a database of any version made before retention needs this once.
    const auto started = std::chrono::steady_clock::now();
    auto switched = store->use_incremental_vacuum();
    if (!switched)
        throw std::runtime_error(switched.error().message);
    if (*switched)
        log_info("", "rebuilt " + database.string() +
                         " once with VACUUM so that pruned jobs give their space back "
                         "(incremental vacuum) in " +
                         std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                            std::chrono::steady_clock::now() - started)
                                            .count()) +
                         " ms");
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
    return {std::move(lock), std::move(*store)};
}

} // namespace stemd::server
