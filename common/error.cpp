#include "common/error.hpp"

#include <stdexcept>

namespace stemd {

namespace {

class conditions final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "stemd"; }

    std::string message(int value) const override {
        switch (static_cast<condition>(value)) {
        case condition::not_found:
            return "not found";
        case condition::conflict:
            return "conflicts with what is recorded";
        case condition::invalid:
            return "invalid input";
        case condition::too_large:
            return "too large";
        case condition::refused:
            return "refused";
        case condition::unavailable:
            return "unavailable";
        case condition::timeout:
            return "timed out";
        case condition::io:
            return "input/output error";
        }
        return "unknown stemd condition " + std::to_string(value);
    }
};

} // namespace

const boost::system::error_category& condition_category() noexcept {
    static const conditions instance;
    return instance;
}

boost::system::error_condition make_error_condition(condition c) noexcept {
    return {static_cast<int>(c), condition_category()};
}

void throw_exception_from_error(const error& e, const boost::source_location&) {
    // The message already says what, where and what to do.
    throw std::runtime_error(e.message.empty() ? e.code.message() : e.message);
}

table_category::table_category(const char* name, std::initializer_list<entry> entries)
    : name_(name), entries_(entries) {}

const table_category::entry* table_category::find(int value) const noexcept {
    for (const auto& e : entries_)
        if (e.value == value)
            return &e;
    return nullptr;
}

std::string table_category::message(int value) const {
    if (const auto* e = find(value))
        return e->message;
    return std::string("unknown ") + name_ + " error " + std::to_string(value);
}

boost::system::error_condition table_category::default_error_condition(int value) const noexcept {
    if (const auto* e = find(value))
        return make_error_condition(e->cond);
    return {value, *this};
}

} // namespace stemd
