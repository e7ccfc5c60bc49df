#include "client/tls.hpp"

#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace stemd::client {

namespace net = boost::asio;
namespace ssl = net::ssl;
using boost::system::error_code;

namespace {

// The whole file, read here rather than by OpenSSL so an unreadable file is
// reported with the system's reason.
std::string read_pem(const std::string& path, const std::string& what) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw std::runtime_error("cannot read the TLS " + what + " " + path + ": " +
                                 std::strerror(errno) +
                                 "; check the path and that stemd may read it");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad())
        throw std::runtime_error("cannot read the TLS " + what + " " + path + ": read error");
    return text;
}

void use_private_key(ssl::context& ctx, const std::string& key_file, const std::string& cert_file) {
    error_code ec;
    std::string key = read_pem(key_file, "private key");
    ctx.use_private_key(net::buffer(key), ssl::context::pem, ec);
    OPENSSL_cleanse(key.data(), key.size());
    const bool mismatch =
        ec && ec.category() == net::error::get_ssl_category() &&
        ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == X509_R_KEY_VALUES_MISMATCH;
    if (ec && !mismatch)
        throw std::runtime_error("cannot use the TLS private key " + key_file + " (OpenSSL: " +
                                 ec.message() + "); give the unencrypted PEM key of " + cert_file);
    if (mismatch || SSL_CTX_check_private_key(ctx.native_handle()) != 1) {
        ERR_clear_error(); // reported here; not for a later TLS call to find
        throw std::runtime_error("the TLS private key " + key_file +
                                 " does not belong to the "
                                 "certificate " +
                                 cert_file + "; give the matching pair");
    }
}

} // namespace

std::shared_ptr<ssl::context> make_tls_client_context(const std::string& ca_file) {
    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
    ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                     ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    ctx->set_default_verify_paths();
    if (!ca_file.empty()) {
        error_code ec;
        ctx->load_verify_file(ca_file, ec);
        if (ec)
            throw std::runtime_error("cannot load CA file " + ca_file + ": " + ec.message() +
                                     "; give a readable PEM file of trusted certificates");
    }
    ctx->set_verify_mode(ssl::verify_peer);
    return ctx;
}

std::shared_ptr<ssl::context> make_tls_server_context(const std::string& cert_file,
                                                      const std::string& key_file) {
    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
    ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                     ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                     ssl::context::single_dh_use);
    SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
    // A daemon has no terminal to ask for a passphrase: an encrypted key
    // fails to load instead of blocking on a prompt.
    ctx->set_password_callback(
        [](std::size_t, ssl::context::password_purpose) { return std::string(); });

    error_code ec;
    const std::string cert = read_pem(cert_file, "certificate");
    ctx->use_certificate_chain(net::buffer(cert), ec);
    if (ec)
        throw std::runtime_error("cannot use the TLS certificate " + cert_file +
                                 " (OpenSSL: " + ec.message() +
                                 "); give a PEM certificate chain "
                                 "(-----BEGIN CERTIFICATE-----), leaf first");
    use_private_key(*ctx, key_file, cert_file);
    return ctx;
}

} // namespace stemd::client
