#pragma once

// The TLS contexts stemd uses: one for calling out (MusicGPT, downloads,
// webhooks sent by the simulator) and one for listening. Both throw
// std::runtime_error naming the file that cannot be used: a start-up failure
// (or, for a reload, one the caller reports and survives).

#include <memory>
#include <string>

namespace boost::asio::ssl {
class context;
}

namespace stemd::client {

// A TLS client context: the system trust store, plus the PEM file `ca_file`
// when not empty; TLS 1.2 or newer; peer verification on.
std::shared_ptr<boost::asio::ssl::context> make_tls_client_context(const std::string& ca_file);

// A TLS server context (TLS 1.2 or newer) from a PEM certificate chain
// (leaf first, e.g. fullchain.pem) and its PEM private key, checked to
// belong together. An encrypted key fails instead of prompting.
std::shared_ptr<boost::asio::ssl::context> make_tls_server_context(const std::string& cert_file,
                                                                   const std::string& key_file);

} // namespace stemd::client
