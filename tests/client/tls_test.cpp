#include "client/tls.hpp"

#include "common/crypto.hpp"
#include "tests/support/test_ca.hpp"
#include "tests/support/workspace.hpp"

#include <boost/asio/ssl/context.hpp>
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

using stemd::client::make_tls_client_context;
using stemd::client::make_tls_server_context;
namespace fs = std::filesystem;
namespace ssl = boost::asio::ssl;

namespace {

using stemd::test::workspace;

} // namespace

TEST_CASE("client context: verifies peers, with or without an extra CA file") {
    workspace dir("tls-test");
    const auto ca = stemd::test::make_test_ca(dir.path());
    for (const std::string& ca_file : {std::string(), ca.ca_cert.string()}) {
        CAPTURE(ca_file);
        const auto ctx = make_tls_client_context(ca_file);
        REQUIRE(ctx != nullptr);
        CHECK((SSL_CTX_get_verify_mode(ctx->native_handle()) & SSL_VERIFY_PEER) != 0);
        CHECK((SSL_CTX_get_options(ctx->native_handle()) & SSL_OP_NO_TLSv1_1) != 0);
    }
}

TEST_CASE("client context: an unusable CA file is a start-up failure naming it") {
    workspace dir("tls-test");
    const fs::path missing = dir.path() / "missing.pem";
    CHECK_THROWS_WITH_AS(make_tls_client_context(missing.string()),
                         doctest::Contains(missing.string().c_str()), std::runtime_error);
    std::ofstream(dir.path() / "junk.pem") << "not a certificate";
    CHECK_THROWS_WITH_AS(make_tls_client_context((dir.path() / "junk.pem").string()),
                         doctest::Contains("junk.pem"), std::runtime_error);
}

TEST_CASE("server context: a matching pair loads, anything else names the file") {
    workspace dir("tls-test");
    const auto ca = stemd::test::make_test_ca(dir.path());
    const auto other = stemd::test::make_untrusted_cert(dir.path());
    const auto ctx = make_tls_server_context(ca.server_cert.string(), ca.server_key.string());
    REQUIRE(ctx != nullptr);
    CHECK(SSL_CTX_get_min_proto_version(ctx->native_handle()) == TLS1_2_VERSION);

    CHECK_THROWS_WITH_AS(
        make_tls_server_context(ca.server_cert.string(), other.server_key.string()),
        doctest::Contains("does not belong to the certificate"), std::runtime_error);
    const fs::path missing = dir.path() / "none.pem";
    CHECK_THROWS_WITH_AS(
        make_tls_server_context(missing.string(), ca.server_key.string()),
        doctest::Contains(("cannot read the TLS certificate " + missing.string()).c_str()),
        std::runtime_error);
    CHECK_THROWS_WITH_AS(make_tls_server_context(ca.server_cert.string(), missing.string()),
                         doctest::Contains("cannot read the TLS private key"), std::runtime_error);
    CHECK_THROWS_WITH_AS(make_tls_server_context(ca.server_key.string(), ca.server_key.string()),
                         doctest::Contains("cannot use the TLS certificate"), std::runtime_error);
}
