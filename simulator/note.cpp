#include "simulator/note.hpp"

#include <string>

namespace stemd::simulator {

void note(log_level level, std::string_view text) {
    log(level, "", "stemd simulate: " + std::string(text));
}

} // namespace stemd::simulator
