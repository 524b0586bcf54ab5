// The HTTP server. Pistache's TCP layer (listener, reactor threads, peers) carries the
// bytes; HTTP/1.1 framing is ours (http1.hpp), because Pistache 0.0.5's own parser
// answers a request without a Connection header with "Connection: Close", drops
// pipelined requests, never closes a connection it marked for closing, and buffers an
// oversized body before refusing it. Here: connections persist by default (RFC 9112
// §9.3), a body over its route's limit is refused with a JSON 413 from its headers
// alone, slow or idle connections are timed out, every request is counted in Metrics,
// and shutdown drains gracefully.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "core/result.hpp"
#include "storefront/client_address.hpp"
#include "storefront/http.hpp"
#include "storefront/metrics.hpp"

namespace cunhuo::storefront {

// A connection whose answers the client does not read stops being served while this many
// answer bytes wait to be written: a pipelining client cannot make the server buffer
// answers without bound.
constexpr std::int64_t kMaxUnsentBytes = 1 << 20;
// What such a connection may send meanwhile; more and it is closed.
constexpr std::size_t kMaxPipelinedBytes = 64 * 1024;

// Answers a request from its head alone: nullopt lets it through, otherwise the refusal
// (a 401) is sent without reading the body.
using HeadCheck = std::function<std::optional<Response>(const Request&)>;

// A request to switch protocols (the live feed's WebSocket, RFC 6455) is answered by
// whoever owns its path: either a refusal, sent over HTTP before anything is switched
// (then the connection closes), or `take`, which then owns the connection. `take` gets a
// duplicate of the socket's descriptor that Pistache no longer watches or closes, the
// upgrade request, and the bytes that already followed its head. It is called on the
// connection's reactor thread and must return at once.
using TakeConnection = std::function<void(int fd, Request request, std::string early_bytes)>;
struct UpgradeAnswer {
  std::optional<Response> refusal;
  TakeConnection take;  // set when accepted
};
using UpgradeHandler = std::function<UpgradeAnswer(const Request&)>;

struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;  // 0 picks a free port
  int threads = 4;
  std::int64_t max_json_body = 1 << 20;
  std::int64_t max_upload_body = 8 << 20;
  std::int64_t header_timeout_ms = 10'000;
  std::int64_t body_timeout_ms = 30'000;
  std::int64_t idle_timeout_ms = 75'000;  // an idle keep-alive connection is closed after this
  int max_connections = 4096;             // over either cap a new connection gets a 503
  int max_connections_per_address = 256;  // a trusted proxy's connections are exempt
  ProxyTrust proxies;           // whose forwarded-for headers name the client (client_address)
  HeadCheck authenticate_head;  // for routes with authenticate_before_body
  std::map<std::string, UpgradeHandler> upgrades;  // by exact path, e.g. "/live"
  // Origins a page's form may lead to besides this one: the payment provider's page, where
  // paying a checkout redirects (CSP form-action also governs a form's redirects).
  std::string form_action_origins;
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
  // Every answer then says `X-Sample-Data: true`: the store holds invented data.
  void mark_sample_data(bool sample);
  // New requests get 503 and `Connection: close`; requests in flight finish (up to
  // `grace`); then the listener and its threads stop.
  void shutdown(std::chrono::milliseconds grace);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cunhuo::storefront
