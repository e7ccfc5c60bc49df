#include "jobs/describe.hpp"

namespace stemd::jobs {

std::string describe(const musicgpt::refusal& f) {
    std::string s = f.http_status ? "MusicGPT answered HTTP " + std::to_string(f.http_status)
                                  : std::string("MusicGPT could not be reached");
    if (!f.error_code.empty())
        s += " " + f.error_code;
    if (!f.message.empty())
        s += ": " + f.message;
    return s;
}

std::string seconds_text(std::chrono::milliseconds d) {
    return std::to_string((d.count() + 999) / 1000) + " s";
}

} // namespace stemd::jobs
