// Test support for the platform's calls out (core/net): throwaway certificates made at test
// time with OpenSSL's API, and a local HTTP server on a loopback port, over TLS or plain,
// that answers each request as a test's handler says. One thread; the destructor stops it
// and joins, so nothing outlives a test.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/net/http_client.hpp"

struct evp_pkey_st;
struct x509_st;

namespace cunhuo::test {

// A certificate and its private key, as PEM files.
struct CertFiles {
  std::string cert_file, key_file;
};

// A certificate authority of its own, made now, in a temporary folder removed afterwards.
class TestPki {
 public:
  explicit TestPki(std::string name = "Cunhuo test CA");
  ~TestPki();
  TestPki(const TestPki&) = delete;
  TestPki& operator=(const TestPki&) = delete;

  // The CA's certificate: what a client given it trusts.
  const std::string& ca_file() const { return ca_file_; }
  // A server certificate this CA signs for `alt_names` (subjectAltName, e.g.
  // "DNS:localhost,IP:127.0.0.1").
  CertFiles issue(std::string_view alt_names);

 private:
  std::string dir_, ca_file_;
  std::shared_ptr<evp_pkey_st> ca_key_;  // OpenSSL's EVP_PKEY and X509
  std::shared_ptr<x509_st> ca_cert_;
  int issued_ = 0;
};

struct FakeRequest {
  std::string method, target, body;
  net::HttpHeaders headers;
};

struct FakeReply {
  int status = 200;
  std::string body;
  net::HttpHeaders headers;  // besides Content-Length and Content-Type: application/json
};

using FakeHandler = std::function<FakeReply(const FakeRequest&)>;

// Answers every request on 127.0.0.1 with `handler` (called on the server's thread), one
// connection at a time. With a certificate it speaks TLS, without plain HTTP.
class LocalServer {
 public:
  LocalServer(FakeHandler handler, std::optional<CertFiles> tls);
  ~LocalServer();
  LocalServer(const LocalServer&) = delete;
  LocalServer& operator=(const LocalServer&) = delete;

  std::uint16_t port() const;
  // "https://127.0.0.1:PORT/" (or http://), with another host name if given.
  std::string url(std::string_view host = "127.0.0.1") const;
  int answered() const { return answered_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::atomic<int> answered_{0};
};

// A loopback port whose connections are taken (by the kernel) and never answered.
class SilentListener {
 public:
  SilentListener();
  ~SilentListener();
  SilentListener(const SilentListener&) = delete;
  SilentListener& operator=(const SilentListener&) = delete;
  std::string url(bool tls) const;

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

}  // namespace cunhuo::test
