#include "storage/error.hpp"

#include <string>

namespace stemd::storage {

namespace {

class category final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "stemd.storage"; }

    std::string message(int ev) const override {
        switch (static_cast<error>(ev)) {
        case error::sqlite:
            return "the job database reported an error";
        case error::newer_schema:
            return "the job database was written by a newer stemd; upgrade stemd or use another "
                   "database file";
        case error::not_found:
            return "no job or file with that key";
        case error::invalid_transition:
            return "the job or file is not in a state that allows this change";
        case error::conflict:
            return "the task_id or conversion_id already belongs to another job";
        }
        return "unknown storage error " + std::to_string(ev);
    }
};

} // namespace

const boost::system::error_category& error_category() noexcept {
    static const category instance;
    return instance;
}

boost::system::error_code make_error_code(error e) noexcept {
    return {static_cast<int>(e), error_category()};
}

} // namespace stemd::storage
