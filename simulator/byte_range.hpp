#pragma once

// The Range request header (RFC 9110 section 14), as far as the simulator
// serves it: one range of bytes.

#include <cstdint>
#include <string_view>

namespace stemd::simulator {

struct byte_range {
    enum class kind { whole, part, unsatisfiable };
    kind what = kind::whole;
    std::uint64_t first = 0;
    std::uint64_t last = 0; // inclusive
};

// The range a Range header asks of a file of `size` bytes: `part` with the
// bytes cut to the file, `unsatisfiable` when it starts beyond the end (or
// is an empty suffix), and `whole` for syntax the simulator does not serve
// (other units, several ranges, garbage), which RFC 9110 allows to ignore.
byte_range interpret_range(std::string_view header, std::uint64_t size);

} // namespace stemd::simulator
