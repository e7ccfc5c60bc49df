#include "storage/database.hpp"

#include "common/posix_file.hpp"

#include <fcntl.h>
#include <sqlite3.h>

#include <string>
#include <system_error>

namespace stemd::storage {

namespace {

constexpr int busy_timeout_ms = 5000;

// A hint for the operator, keyed by the primary result code, so that every
// message says what to do and not only what went wrong.
std::string_view hint_for(int rc) noexcept {
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return "; another process holds the database lock, make sure only one stemd uses "
               "this file";
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
        return "; check the permissions of the file and of its directory";
    case SQLITE_FULL:
        return "; free some disk space";
    case SQLITE_IOERR:
        return "; check the disk and the filesystem";
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return "; the file is damaged or not a stemd database, move it aside or restore a "
               "backup";
    default:
        return "";
    }
}

std::string describe(sqlite3* db, int rc) {
    const char* file = db ? sqlite3_db_filename(db, "main") : nullptr;
    std::string text = "SQLite error";
    if (file && *file) {
        text += " on ";
        text += file;
    }
    text += ": ";
    // Without a handle (out of memory at open) only the generic text exists.
    text += db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    text += " (code " + std::to_string(rc) + ")";
    text += hint_for(rc);
    return text;
}

void create_parent_directories(const std::filesystem::path& file) {
    const auto dir = file.parent_path();
    if (dir.empty()) {
        return;
    }
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) {
        throw sqlite_error(SQLITE_CANTOPEN, "cannot create directory " + dir.string() +
                                                " for the job database: " + ec.message() +
                                                "; create it or fix its permissions");
    }
}

// SQLite would create a new database 0644 (less the umask), and gives its
// -wal and -shm files the database's own mode. The database holds signed
// download links, so a new one is created here, empty and 0600, before
// SQLite opens it. An existing file keeps its mode; any other failure to
// create it is left for sqlite3_open_v2 to report.
void create_private_file(const std::filesystem::path& file) {
    if (file.empty() || file == ":memory:") {
        return;
    }
    unique_fd fd(::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
}

} // namespace

void connection_closer::operator()(sqlite3* db) const noexcept {
    // close_v2 defers the close until the last statement is finalized
    // instead of failing with SQLITE_BUSY and leaking the connection.
    sqlite3_close_v2(db);
}

void statement_finalizer::operator()(sqlite3_stmt* s) const noexcept {
    sqlite3_finalize(s);
}

statement::statement(database& db, std::string_view sql) : db_(&db) {
    sqlite3_stmt* raw = nullptr;
    const int rc =
        sqlite3_prepare_v2(db.handle(), sql.data(), static_cast<int>(sql.size()), &raw, nullptr);
    stmt_.reset(raw);
    db.check(rc);
    if (!stmt_) {
        throw std::invalid_argument("statement: SQL text holds no statement");
    }
}

statement& statement::bind(int index, std::int64_t value) {
    db_->check(sqlite3_bind_int64(stmt_.get(), index, value));
    return *this;
}

statement& statement::bind(int index, double value) {
    db_->check(sqlite3_bind_double(stmt_.get(), index, value));
    return *this;
}

statement& statement::bind(int index, std::string_view value) {
    // A default-constructed view has no data pointer, which SQLite would
    // store as NULL; an empty string must stay an empty string.
    const char* data = value.data() ? value.data() : "";
    db_->check(
        sqlite3_bind_text64(stmt_.get(), index, data, value.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
    return *this;
}

statement& statement::bind(int index, const std::optional<double>& value) {
    return value ? bind(index, *value) : bind_null(index);
}

statement& statement::bind_null(int index) {
    db_->check(sqlite3_bind_null(stmt_.get(), index));
    return *this;
}

bool statement::step() {
    const int rc = sqlite3_step(stmt_.get());
    if (rc == SQLITE_ROW) {
        return true;
    }
    if (rc == SQLITE_DONE) {
        return false;
    }
    db_->check(rc);
    return false;
}

void statement::exec() {
    while (step()) {
    }
}

void statement::reset() {
    // reset() repeats the code of a failed step(), which step() has already
    // thrown; nothing new to report here.
    sqlite3_reset(stmt_.get());
    sqlite3_clear_bindings(stmt_.get());
}

bool statement::is_null(int column) const {
    return sqlite3_column_type(stmt_.get(), column) == SQLITE_NULL;
}

std::int64_t statement::column_int(int column) const {
    return sqlite3_column_int64(stmt_.get(), column);
}

double statement::column_double(int column) const {
    return sqlite3_column_double(stmt_.get(), column);
}

std::optional<double> statement::column_optional_double(int column) const {
    if (is_null(column)) {
        return std::nullopt;
    }
    return column_double(column);
}

std::string statement::column_text(int column) const {
    const auto* text = sqlite3_column_text(stmt_.get(), column);
    if (!text) {
        return {};
    }
    const int size = sqlite3_column_bytes(stmt_.get(), column);
    return std::string(reinterpret_cast<const char*>(text), static_cast<std::size_t>(size));
}

database::database(const std::filesystem::path& file) {
    create_parent_directories(file);
    create_private_file(file);

    sqlite3* raw = nullptr;
    // NOMUTEX: the connection is used from one thread, so SQLite's own
    // locking would only cost time.
    const int rc =
        sqlite3_open_v2(file.c_str(), &raw,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    // Even a failed open may hand out a handle that must be closed.
    db_.reset(raw);
    check(rc);

    sqlite3_extended_result_codes(db_.get(), 1);
    check(sqlite3_busy_timeout(db_.get(), busy_timeout_ms));

    // Takes effect only on a new database (before its first table), so
    // that pages freed by pruning can be given back without a VACUUM; an
    // existing one is switched by sqlite::use_incremental_vacuum.
    execute("PRAGMA auto_vacuum=INCREMENTAL");
    statement journal(*this, "PRAGMA journal_mode=WAL");
    const std::string mode = journal.step() ? journal.column_text(0) : std::string();
    if (mode != "wal") {
        throw sqlite_error(SQLITE_ERROR, "SQLite on " + file.string() +
                                             " refused WAL journal mode (answered \"" + mode +
                                             "\"); put the database on a local filesystem");
    }
    execute("PRAGMA synchronous=FULL");
    execute("PRAGMA foreign_keys=ON");
}

void database::execute(std::string_view sql) {
    const std::string text(sql);
    check(sqlite3_exec(db_.get(), text.c_str(), nullptr, nullptr, nullptr));
}

int database::user_version() {
    statement s(*this, "PRAGMA user_version");
    return s.step() ? static_cast<int>(s.column_int(0)) : 0;
}

void database::set_user_version(int v) {
    // PRAGMA arguments cannot be bound, and an int cannot inject anything.
    execute("PRAGMA user_version=" + std::to_string(v));
}

std::int64_t database::last_insert_rowid() const {
    return sqlite3_last_insert_rowid(db_.get());
}

int database::changes() const {
    return sqlite3_changes(db_.get());
}

void database::check(int rc) const {
    if (rc == SQLITE_OK || rc == SQLITE_ROW || rc == SQLITE_DONE) {
        return;
    }
    throw sqlite_error(rc, describe(db_.get(), rc));
}

transaction::transaction(database& db) : db_(db) {
    db_.execute("BEGIN IMMEDIATE");
}

transaction::~transaction() {
    if (done_) {
        return;
    }
    // Some errors (SQLITE_FULL, SQLITE_IOERR, ...) already rolled the
    // transaction back; a second ROLLBACK would only fail.
    if (db_.handle() && !sqlite3_get_autocommit(db_.handle())) {
        sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
    }
}

void transaction::commit() {
    db_.execute("COMMIT");
    done_ = true;
}

} // namespace stemd::storage
