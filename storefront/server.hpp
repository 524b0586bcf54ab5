// The HTTP server: Pistache underneath, our Router and error shape on top. It keeps
// HTTP/1.1 connections open unless the client says `Connection: close` (Pistache 0.0.5
// would close any request without a Connection header), enforces body limits per
// route, counts every request in Metrics, and drains gracefully on shutdown.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "core/result.hpp"
#include "storefront/http.hpp"
#include "storefront/metrics.hpp"

namespace cunhuo::storefront {

struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;  // 0 picks a free port
  int threads = 4;
  std::int64_t max_json_body = 1 << 20;
  std::int64_t max_upload_body = 8 << 20;
  std::int64_t header_timeout_ms = 10'000;
  std::int64_t body_timeout_ms = 30'000;
};

class HttpServer {
 public:
  HttpServer(ServerOptions options, const Router& router, Metrics& metrics);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  Status start();
  std::uint16_t port() const;
  bool draining() const;
  // New requests get 503 and `Connection: close`; requests in flight finish (up to
  // `grace`); then the listener and its threads stop.
  void shutdown(std::chrono::milliseconds grace);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cunhuo::storefront
