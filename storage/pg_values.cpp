#include "storage/pg_connection.hpp"

#include <libpq-fe.h>

#include <array>
#include <charconv>
#include <cstdlib>
#include <string>

// The parameters sent with a statement and the rows it returned: plain
// values over libpq's result, apart from the connection that made them.

namespace stemd::storage::pg {

params& params::add(std::string_view v) {
    values_.emplace_back(std::string(v));
    return *this;
}

params& params::add(std::int64_t v) {
    values_.emplace_back(std::to_string(v));
    return *this;
}

params& params::add(double v) {
    // Shortest text that reads back as the same double.
    std::array<char, 32> buf{};
    auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v);
    values_.emplace_back(std::string(buf.data(), ec == std::errc() ? end : buf.data()));
    return *this;
}

params& params::add(bool v) {
    values_.emplace_back(v ? "true" : "false");
    return *this;
}

params& params::add(const std::optional<std::int64_t>& v) {
    return v ? add(*v) : add_null();
}

params& params::add(const std::optional<double>& v) {
    return v ? add(*v) : add_null();
}

params& params::add_null() {
    values_.emplace_back(std::nullopt);
    return *this;
}

params& params::add_or_null(std::string_view v) {
    return v.empty() ? add_null() : add(v);
}

std::vector<const char*> params::pointers() const {
    std::vector<const char*> out;
    out.reserve(values_.size());
    for (const auto& v : values_) {
        out.push_back(v ? v->c_str() : nullptr);
    }
    return out;
}

void result_deleter::operator()(pg_result* r) const noexcept {
    PQclear(r);
}

rows::rows(pg_result* r) : result_(r) {}

int rows::size() const {
    return result_ ? PQntuples(result_.get()) : 0;
}

namespace {

// A row or column the statement did not return is a mistake in our SQL:
// reported like a failed statement instead of reading through a null.
void check_cell(const pg_result* r, int row, int column) {
    if (r == nullptr || row < 0 || row >= PQntuples(r) || column < 0 || column >= PQnfields(r)) {
        throw pg_error("PostgreSQL store: asked for row " + std::to_string(row) + ", column " +
                           std::to_string(column) + " of a result of " +
                           std::to_string(r ? PQntuples(r) : 0) +
                           " rows; this is a bug in stemd, please report it",
                       "", false);
    }
}

} // namespace

bool rows::is_null(int row, int column) const {
    check_cell(result_.get(), row, column);
    return PQgetisnull(result_.get(), row, column) != 0;
}

std::string rows::text(int row, int column) const {
    check_cell(result_.get(), row, column);
    return std::string(PQgetvalue(result_.get(), row, column),
                       static_cast<std::size_t>(PQgetlength(result_.get(), row, column)));
}

std::int64_t rows::int64(int row, int column) const {
    check_cell(result_.get(), row, column);
    const char* v = PQgetvalue(result_.get(), row, column);
    std::int64_t out = 0;
    std::from_chars(v, v + PQgetlength(result_.get(), row, column), out);
    return out;
}

std::optional<std::int64_t> rows::optional_int64(int row, int column) const {
    if (is_null(row, column)) {
        return std::nullopt;
    }
    return int64(row, column);
}

double rows::real(int row, int column) const {
    check_cell(result_.get(), row, column);
    return std::strtod(PQgetvalue(result_.get(), row, column), nullptr);
}

std::optional<double> rows::optional_real(int row, int column) const {
    if (is_null(row, column)) {
        return std::nullopt;
    }
    return real(row, column);
}

bool rows::boolean(int row, int column) const {
    check_cell(result_.get(), row, column);
    const char* v = PQgetvalue(result_.get(), row, column);
    return v[0] == 't' || v[0] == '1';
}

std::int64_t rows::affected() const {
    const char* v = result_ ? PQcmdTuples(result_.get()) : "";
    std::int64_t out = 0;
    std::from_chars(v, v + std::char_traits<char>::length(v), out);
    return out;
}

} // namespace stemd::storage::pg
