#include "tests/support/test_ca.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace stemd::test {
namespace {

template <auto free_fn> struct openssl_deleter {
    template <typename T> void operator()(T* p) const { free_fn(p); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, openssl_deleter<EVP_PKEY_free>>;
using x509_ptr = std::unique_ptr<X509, openssl_deleter<X509_free>>;
using ext_ptr = std::unique_ptr<X509_EXTENSION, openssl_deleter<X509_EXTENSION_free>>;
using bio_ptr = std::unique_ptr<BIO, openssl_deleter<BIO_free_all>>;
using bn_ptr = std::unique_ptr<BIGNUM, openssl_deleter<BN_free>>;

[[noreturn]] void throw_openssl(const std::string& what) {
    unsigned long code = ERR_get_error();
    char text[256] = "no OpenSSL error queued";
    if (code != 0)
        ERR_error_string_n(code, text, sizeof text);
    ERR_clear_error();
    throw std::runtime_error("test CA: " + what + " failed: " + text);
}

void check(int ok, const std::string& what) {
    if (ok <= 0)
        throw_openssl(what);
}

pkey_ptr make_key() {
    pkey_ptr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
    if (!key)
        throw_openssl("EC P-256 key generation");
    return key;
}

// Starts a certificate: version, random serial, validity and subject. The
// validity starts an hour back so small clock differences do not matter.
x509_ptr new_certificate(const std::string& common_name, EVP_PKEY* key,
                         long valid_seconds = 24 * 60 * 60) {
    x509_ptr cert(X509_new());
    if (!cert)
        throw_openssl("X509_new");
    check(X509_set_version(cert.get(), 2), "X509_set_version"); // 2 means v3

    // 127 random bits: positive and unique enough that no two runs collide.
    bn_ptr serial(BN_new());
    if (!serial)
        throw_openssl("BN_new");
    check(BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY), "BN_rand");
    if (BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) == nullptr)
        throw_openssl("BN_to_ASN1_INTEGER");

    if (X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60 * 60) == nullptr ||
        X509_gmtime_adj(X509_getm_notAfter(cert.get()), valid_seconds) == nullptr)
        throw_openssl("X509_gmtime_adj");

    X509_NAME* subject = X509_get_subject_name(cert.get());
    check(X509_NAME_add_entry_by_txt(subject, "O", MBSTRING_ASC,
                                     reinterpret_cast<const unsigned char*>("stemd tests"), -1, -1,
                                     0),
          "X509_NAME_add_entry_by_txt(O)");
    check(X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                                     reinterpret_cast<const unsigned char*>(common_name.c_str()),
                                     -1, -1, 0),
          "X509_NAME_add_entry_by_txt(CN)");
    check(X509_set_pubkey(cert.get(), key), "X509_set_pubkey");
    return cert;
}

// Adds extensions in the openssl.cnf syntax; `issuer` may be `cert` itself.
void add_extensions(X509* cert, X509* issuer,
                    const std::vector<std::pair<int, std::string>>& extensions) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    for (const auto& [nid, value] : extensions) {
        ext_ptr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
        if (!ext)
            throw_openssl(std::string("extension ") + OBJ_nid2sn(nid) + "=" + value);
        check(X509_add_ext(cert, ext.get(), -1), "X509_add_ext");
    }
}

void sign(X509* cert, X509* issuer, EVP_PKEY* issuer_key) {
    check(X509_set_issuer_name(cert, X509_get_subject_name(issuer)), "X509_set_issuer_name");
    check(X509_sign(cert, issuer_key, EVP_sha256()), "X509_sign");
}

// A certificate for "localhost" and 127.0.0.1 (or `names`), as a TLS server
// presents it.
void add_server_extensions(X509* cert, X509* issuer,
                           const std::string& names = "DNS:localhost,IP:127.0.0.1") {
    std::vector<std::pair<int, std::string>> extensions = {
        {NID_basic_constraints, "critical,CA:FALSE"},
        {NID_key_usage, "critical,digitalSignature"},
        {NID_ext_key_usage, "serverAuth"},
        {NID_subject_alt_name, names},
        {NID_subject_key_identifier, "hash"},
    };
    if (issuer != cert)
        extensions.emplace_back(NID_authority_key_identifier, "keyid:always");
    add_extensions(cert, issuer, extensions);
}

std::string to_pem(X509* cert) {
    bio_ptr bio(BIO_new(BIO_s_mem()));
    if (!bio)
        throw_openssl("BIO_new");
    check(PEM_write_bio_X509(bio.get(), cert), "PEM_write_bio_X509");
    char* data = nullptr;
    long size = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(size));
}

std::string to_pkcs8_pem(EVP_PKEY* key) {
    bio_ptr bio(BIO_new(BIO_s_mem()));
    if (!bio)
        throw_openssl("BIO_new");
    check(PEM_write_bio_PKCS8PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr),
          "PEM_write_bio_PKCS8PrivateKey");
    char* data = nullptr;
    long size = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(size));
}

// Writes `content` to `path` with exactly `mode`, also when the file existed
// with wider permissions (a private key must never be readable by others).
void write_with_mode(const std::filesystem::path& path, const std::string& content, mode_t mode) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        throw std::runtime_error("test CA: cannot write " + path.string() + ": " +
                                 std::strerror(errno));
    bool ok = ::fchmod(fd, mode) == 0;
    std::size_t written = 0;
    while (ok && written < content.size()) {
        ssize_t n = ::write(fd, content.data() + written, content.size() - written);
        if (n < 0 && errno == EINTR)
            continue;
        ok = n > 0;
        if (ok)
            written += static_cast<std::size_t>(n);
    }
    int saved_errno = errno;
    ok = ::close(fd) == 0 && ok;
    if (!ok)
        throw std::runtime_error("test CA: cannot write " + path.string() + ": " +
                                 std::strerror(saved_errno));
}

} // namespace

test_ca make_test_ca(const std::filesystem::path& dir) {
    std::filesystem::create_directories(dir);
    ERR_clear_error();
    pkey_ptr ca_key = make_key();
    x509_ptr ca_cert = new_certificate("stemd test CA", ca_key.get());
    add_extensions(ca_cert.get(), ca_cert.get(),
                   {
                       {NID_basic_constraints, "critical,CA:TRUE"},
                       {NID_key_usage, "critical,keyCertSign,cRLSign"},
                       {NID_subject_key_identifier, "hash"},
                   });
    sign(ca_cert.get(), ca_cert.get(), ca_key.get());

    pkey_ptr server_key = make_key();
    x509_ptr server_cert = new_certificate("localhost", server_key.get());
    add_server_extensions(server_cert.get(), ca_cert.get());
    sign(server_cert.get(), ca_cert.get(), ca_key.get());

    test_ca files{dir / "ca.pem", dir / "server.pem", dir / "server-key.pem"};
    write_with_mode(files.ca_cert, to_pem(ca_cert.get()), 0644);
    write_with_mode(files.server_cert, to_pem(server_cert.get()), 0644);
    write_with_mode(files.server_key, to_pkcs8_pem(server_key.get()), 0600);
    write_with_mode(dir / "ca-key.pem", to_pkcs8_pem(ca_key.get()), 0600);
    return files;
}

test_ca issue_server_cert(const test_ca& ca, const std::string& name,
                          const std::string& subject_alt_names, long valid_seconds) {
    ERR_clear_error();
    const auto dir = ca.ca_cert.parent_path();
    const auto read_pem = [](const std::filesystem::path& path) {
        bio_ptr bio(BIO_new_file(path.c_str(), "r"));
        if (!bio)
            throw_openssl("reading " + path.string());
        return bio;
    };
    x509_ptr ca_cert(PEM_read_bio_X509(read_pem(ca.ca_cert).get(), nullptr, nullptr, nullptr));
    pkey_ptr ca_key(
        PEM_read_bio_PrivateKey(read_pem(dir / "ca-key.pem").get(), nullptr, nullptr, nullptr));
    if (!ca_cert || !ca_key)
        throw_openssl("reading the test CA");
    pkey_ptr key = make_key();
    x509_ptr cert = new_certificate(name, key.get(), valid_seconds);
    add_server_extensions(cert.get(), ca_cert.get(), subject_alt_names);
    sign(cert.get(), ca_cert.get(), ca_key.get());

    test_ca files{ca.ca_cert, dir / (name + ".pem"), dir / (name + "-key.pem")};
    write_with_mode(files.server_cert, to_pem(cert.get()), 0644);
    write_with_mode(files.server_key, to_pkcs8_pem(key.get()), 0600);
    return files;
}

test_ca make_untrusted_cert(const std::filesystem::path& dir) {
    std::filesystem::create_directories(dir);
    ERR_clear_error();
    pkey_ptr key = make_key();
    x509_ptr cert = new_certificate("localhost", key.get());
    add_server_extensions(cert.get(), cert.get());
    sign(cert.get(), cert.get(), key.get());

    test_ca files{{}, dir / "untrusted.pem", dir / "untrusted-key.pem"};
    write_with_mode(files.server_cert, to_pem(cert.get()), 0644);
    write_with_mode(files.server_key, to_pkcs8_pem(key.get()), 0600);
    return files;
}

} // namespace stemd::test
