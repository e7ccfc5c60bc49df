// The one translation unit that compiles Asio and Beast (see
// BOOST_ASIO_SEPARATE_COMPILATION in the top-level CMakeLists.txt): every
// other file only sees their declarations, which keeps builds short.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
