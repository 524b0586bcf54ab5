#include "tests/support/tls_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <thread>

#include "tests/support/support.hpp"

namespace cunhuo::test {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

using Key = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using Cert = std::unique_ptr<X509, decltype(&X509_free)>;

void require(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("test certificates: ") + what);
}

Key new_key() {
  Key key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"), EVP_PKEY_free);
  require(key != nullptr, "cannot make a key");
  return key;
}

void add_extension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  require(ext != nullptr && X509_add_ext(cert, ext, -1) == 1, value);
  X509_EXTENSION_free(ext);
}

// A certificate for `key` named `name`, valid from an hour ago for a day; self-signed when
// there is no issuer.
Cert make_cert(EVP_PKEY* key, const std::string& name, X509* issuer) {
  static std::atomic<long> serial{1};
  Cert cert(X509_new(), X509_free);
  require(cert != nullptr, "X509_new");
  X509_set_version(cert.get(), 2);  // v3, for extensions
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial++);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* subject = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(name.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), issuer != nullptr ? X509_get_subject_name(issuer) : subject);
  return cert;
}

void sign(X509* cert, EVP_PKEY* key) { require(X509_sign(cert, key, EVP_sha256()) > 0, "sign"); }

void write_pem(const std::string& path, X509* cert, EVP_PKEY* key) {
  std::FILE* out = std::fopen(path.c_str(), "w");
  require(out != nullptr, "cannot write a PEM file");
  const bool ok = cert != nullptr
                      ? PEM_write_X509(out, cert) == 1
                      : PEM_write_PrivateKey(out, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
  std::fclose(out);
  require(ok, "PEM_write");
}

FakeRequest to_fake(const http::request<http::string_body>& req) {
  FakeRequest out{.method = std::string(req.method_string()),
                  .target = std::string(req.target()),
                  .body = req.body(),
                  .headers = {}};
  for (const auto& field : req)
    out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  return out;
}

http::response<http::string_body> to_beast(const FakeReply& reply) {
  http::response<http::string_body> res(static_cast<http::status>(reply.status), 11);
  res.set(http::field::content_type, "application/json");
  for (const auto& [name, value] : reply.headers) res.insert(name, value);
  res.body() = reply.body;
  res.prepare_payload();
  return res;
}

}  // namespace

TestPki::TestPki(std::string name) : dir_(temp_dir()), ca_file_(dir_ + "/ca.pem") {
  Key key = new_key();
  Cert cert = make_cert(key.get(), name, nullptr);
  add_extension(cert.get(), cert.get(), NID_basic_constraints, "critical,CA:TRUE");
  add_extension(cert.get(), cert.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
  add_extension(cert.get(), cert.get(), NID_subject_key_identifier, "hash");
  sign(cert.get(), key.get());
  write_pem(ca_file_, cert.get(), nullptr);
  ca_key_.reset(key.release(), EVP_PKEY_free);
  ca_cert_.reset(cert.release(), X509_free);
}

TestPki::~TestPki() {
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

CertFiles TestPki::issue(std::string_view alt_names) {
  const std::string stem = dir_ + "/leaf" + std::to_string(++issued_);
  Key key = new_key();
  Cert cert = make_cert(key.get(), "cunhuo test server", ca_cert_.get());
  add_extension(cert.get(), ca_cert_.get(), NID_basic_constraints, "CA:FALSE");
  add_extension(cert.get(), ca_cert_.get(), NID_ext_key_usage, "serverAuth");
  add_extension(cert.get(), ca_cert_.get(), NID_subject_alt_name, std::string(alt_names).c_str());
  sign(cert.get(), ca_key_.get());
  CertFiles files{stem + ".pem", stem + ".key"};
  write_pem(files.cert_file, cert.get(), nullptr);
  write_pem(files.key_file, nullptr, key.get());
  return files;
}

struct LocalServer::Impl {
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::optional<asio::ssl::context> tls;
  FakeHandler handler;
  std::atomic<int>* answered = nullptr;
  std::thread thread;

  void accept_next() {
    acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec) return;  // the acceptor closed: the server stops
      serve(std::move(socket));
      accept_next();
    });
  }

  // One connection, synchronously: this thread has nothing else to do meanwhile.
  void serve(tcp::socket socket) {
    beast::error_code ec;
    if (!tls) return exchange(socket);
    beast::ssl_stream<tcp::socket> stream(std::move(socket), *tls);
    stream.handshake(asio::ssl::stream_base::server, ec);
    if (!ec) exchange(stream);  // a client that refused our certificate has hung up
  }

  template <class Stream>
  void exchange(Stream& stream) {
    beast::flat_buffer buffer;
    http::request<http::string_body> req;
    beast::error_code ec;
    http::read(stream, buffer, req, ec);
    if (ec) return;
    FakeReply reply{.status = 500, .body = "the test's handler threw", .headers = {}};
    try {
      reply = handler(to_fake(req));
    } catch (const std::exception&) {  // an exception must not end this thread
    }
    const auto res = to_beast(reply);
    http::write(stream, res, ec);  // a client over its size limit hangs up mid-way
    ++*answered;
  }
};

LocalServer::LocalServer(FakeHandler handler, std::optional<CertFiles> tls)
    : impl_(std::make_unique<Impl>()) {
  impl_->handler = std::move(handler);
  impl_->answered = &answered_;
  if (tls) {
    impl_->tls.emplace(asio::ssl::context::tls_server);
    impl_->tls->use_certificate_chain_file(tls->cert_file);
    impl_->tls->use_private_key_file(tls->key_file, asio::ssl::context::pem);
  }
  const tcp::endpoint loopback(asio::ip::make_address("127.0.0.1"), 0);
  impl_->acceptor.open(loopback.protocol());
  impl_->acceptor.bind(loopback);
  impl_->acceptor.listen();
  impl_->accept_next();
  impl_->thread = std::thread([this] { impl_->io.run(); });
}

LocalServer::~LocalServer() {
  // Closing the acceptor on its own thread ends the accept loop, and with it io.run().
  asio::post(impl_->io, [this] { impl_->acceptor.close(); });
  impl_->thread.join();
}

std::uint16_t LocalServer::port() const { return impl_->acceptor.local_endpoint().port(); }

std::string LocalServer::url(std::string_view host) const {
  return std::string(impl_->tls ? "https://" : "http://") + std::string(host) + ":" +
         std::to_string(port()) + "/";
}

SilentListener::SilentListener() {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  const bool ok = fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) == 0 &&
                  ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0 &&
                  ::listen(fd_, 8) == 0;
  if (!ok) throw std::runtime_error("cannot listen on loopback");
  port_ = ntohs(addr.sin_port);
}

SilentListener::~SilentListener() { ::close(fd_); }

std::string SilentListener::url(bool tls) const {
  return std::string(tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_) + "/";
}

}  // namespace cunhuo::test
