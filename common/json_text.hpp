#pragma once

// JSON text as stemd writes it everywhere (API answers, events, the outbox,
// CLI output): Boost.JSON's own writer, except numbers. It writes every
// double with an exponent ("1E0", "1.25E0"); here an integral one is an
// integer ("1") and any other plain decimals, as few digits as still read
// back the same ("1.25", "0.1").

#include <boost/json/value.hpp>

#include <string>

namespace stemd {

std::string json_text(const boost::json::value& v);

// One number as json_text writes it; NaN and the infinities (which JSON
// has no word for) as null.
std::string json_number(double v);

} // namespace stemd
