#include "simulator/api_reply.hpp"

#include "simulator/error.hpp"

#include <boost/json/object.hpp>

namespace stemd::simulator {

namespace json = boost::json;

listener::reply api_error(const stemd::error& e) {
    return listener::json_reply(http_status(e.code), json::object{{"success", false},
                                                                  {"error_code", wire_code(e.code)},
                                                                  {"message", e.message}});
}

} // namespace stemd::simulator
