#pragma once

#include <filesystem>
#include <string>

namespace stemd::test {

// A certificate authority made during the test with OpenSSL, and a server
// certificate it signed for "localhost" and 127.0.0.1 (EC P-256, valid for a
// day, starting an hour ago). Files are PEM, written under `dir`:
//   ca.pem          the CA certificate (what a client trusts)
//   server.pem      the server certificate alone (no chain: the CA is the issuer)
//   server-key.pem  its private key, PKCS#8, unencrypted, mode 0600
// Both functions throw std::runtime_error (with OpenSSL's reason) on failure.
struct test_ca {
    std::filesystem::path ca_cert; // empty for make_untrusted_cert
    std::filesystem::path server_cert;
    std::filesystem::path server_key;
};
test_ca make_test_ca(const std::filesystem::path& dir);

// Another server certificate signed by the CA of `ca` (which must come from
// make_test_ca: its key is kept as ca-key.pem beside ca.pem), for the names
// in `subject_alt_names` (openssl.cnf syntax, e.g. "DNS:elsewhere.test"),
// valid from an hour ago for `valid_seconds`. Written as NAME.pem and
// NAME-key.pem under the CA's folder; ca_cert is the same CA.
test_ca issue_server_cert(const test_ca& ca, const std::string& name,
                          const std::string& subject_alt_names, long valid_seconds);

// A self-signed server certificate for the same names that no one trusts (for
// "untrusted" tests): untrusted.pem and untrusted-key.pem under `dir`, so it
// can sit next to make_test_ca's files. ca_cert stays empty.
test_ca make_untrusted_cert(const std::filesystem::path& dir);

} // namespace stemd::test
