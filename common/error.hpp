#pragma once

// One error model for all of stemd, in the manner of Boost.URL and
// Boost.JSON: every library has its own error enum with a category, each
// code belongs to one `condition`, and a failure travels as `stemd::error`
// (the code plus a sentence a person can act on) inside
// `stemd::result<T>`. Callers decide by condition (`e.is(condition::x)` or
// `e.code == condition::x`); people read the message.

#include <boost/system/error_category.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/error_condition.hpp>
#include <boost/system/result.hpp>

#include <initializer_list>
#include <string>
#include <type_traits>
#include <vector>

namespace stemd {

// What kind of failure, whatever the library that met it. The local API
// maps each to one HTTP status, the CLI to an exit code, the scheduler to
// "retry" or "give up".
enum class condition {
    not_found = 1, // no such job, file, key or path
    conflict,      // contradicts what is recorded (another job's id, a state that forbids it)
    invalid,       // the input itself is wrong: malformed, wrong type, out of range
    too_large,     // more bytes or items than allowed
    refused,       // a peer or a policy said no, and asking again will not change that
    unavailable,   // a peer or resource cannot be used now; later may work
    timeout,       // no progress within the allowed time; later may work
    io,            // the local file system or database failed
};

const boost::system::error_category& condition_category() noexcept;
boost::system::error_condition make_error_condition(condition c) noexcept;

} // namespace stemd

template <> struct boost::system::is_error_condition_enum<stemd::condition> : std::true_type {};

namespace stemd {

// A failure: `code` says which (and through it, the condition), `message`
// says what happened, where, and what to do about it. Messages never hold
// secrets (API keys, tokens, signed-URL queries).
struct error {
    boost::system::error_code code;
    std::string message;

    bool is(condition c) const noexcept { return code == c; }
    // Trying the same thing again later can succeed.
    bool transient() const noexcept {
        return is(condition::unavailable) || is(condition::timeout) || is(condition::io);
    }
};

template <class T = void> using result = boost::system::result<T, error>;

// Lets result<T>::value() throw std::runtime_error carrying the message.
[[noreturn]] void throw_exception_from_error(const error& e, const boost::source_location& loc);

// A category whose codes are listed in a table, each with its message and
// condition; every library's error category is one of these.
class table_category final : public boost::system::error_category {
public:
    struct entry {
        int value;
        const char* message;
        condition cond;
    };

    table_category(const char* name, std::initializer_list<entry> entries);

    const char* name() const noexcept override { return name_; }
    std::string message(int value) const override;
    boost::system::error_condition default_error_condition(int value) const noexcept override;

private:
    const entry* find(int value) const noexcept;

    const char* name_;
    std::vector<entry> entries_;
};

} // namespace stemd
