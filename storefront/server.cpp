#include "storefront/server.hpp"

#include <pistache/endpoint.h>
#include <pistache/http.h>
#include <pistache/http_headers.h>

#include <spdlog/spdlog.h>

#include <atomic>
#include <random>
#include <sstream>
#include <thread>

#include "core/log.hpp"

namespace cunhuo::storefront {
namespace {

using namespace Pistache;

constexpr std::size_t kHeaderAllowance = 64 * 1024;

struct Shared {
  ServerOptions options;
  const Router* router = nullptr;
  Metrics* metrics = nullptr;
  std::atomic<std::int64_t> in_flight{0};
  std::atomic<bool> draining{false};
};

// A response header with any name. Pistache 0.0.5 writes only typed headers, not raw ones.
class NamedHeader final : public Http::Header::Header {
 public:
  NamedHeader(std::string name, std::string value) : name_(std::move(name)), value_(std::move(value)) {}
  const char* name() const override { return name_.c_str(); }
  void write(std::ostream& os) const override { os << value_; }
#ifdef SAFE_HEADER_CAST
  uint64_t hash() const override { return std::hash<std::string>{}(name_); }
#endif

 private:
  std::string name_, value_;
};

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string new_request_id() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char* hex = "0123456789abcdef";
  std::uint64_t v = rng();
  std::string id(16, '0');
  for (auto& c : id) {
    c = hex[v & 0xF];
    v >>= 4;
  }
  return id;
}

bool acceptable_request_id(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') return false;
  return true;
}

// RFC 9112 §9.3: HTTP/1.1 is persistent unless "close"; HTTP/1.0 only with "keep-alive".
bool wants_keep_alive(const Http::Request& req) {
  auto connection = req.headers().tryGet<Http::Header::Connection>();
  if (req.version() == Http::Version::Http11)
    return !connection || connection->control() != Http::ConnectionControl::Close;
  return connection && connection->control() == Http::ConnectionControl::KeepAlive;
}

Request to_request(const Http::Request& req) {
  Request r;
  r.method = Http::methodString(req.method());
  r.path = req.resource();
  for (auto it = req.query().parameters_begin(); it != req.query().parameters_end(); ++it) {
    auto k = percent_decode(it->first, true), v = percent_decode(it->second, true);
    if (k && v) r.query.emplace_back(std::move(*k), std::move(*v));
  }
  for (const auto& h : req.headers().list()) {
    std::ostringstream value;
    h->write(value);
    r.headers.emplace_back(lower(h->name()), value.str());
  }
  for (const auto& [name, raw] : req.headers().rawList()) r.headers.emplace_back(lower(name), raw.value());
  r.body = req.body();
  return r;
}

bool is_json_content_type(const std::optional<std::string>& ct) {
  if (!ct) return false;
  std::string v = lower(*ct);
  return v.rfind("application/json", 0) == 0;
}

Response dispatch(Shared& shared, Request& request) {
  if (shared.draining.load()) {
    request.route = "draining";
    return error_response(503, "shutting_down", "server is shutting down, retry on another connection");
  }
  auto match = shared.router->match(request.method, request.path);
  if (match.route == nullptr) {
    request.route = "unmatched";
    if (!match.allowed.empty()) {
      std::string allow;
      for (const auto& m : match.allowed) allow += (allow.empty() ? "" : ", ") + m;
      auto r = error_response(405, "method_not_allowed", "method " + request.method + " is not allowed here; use " + allow);
      r.headers.emplace_back("Allow", allow);
      return r;
    }
    return error_response(404, "route_not_found", "no such route");
  }
  const Route& route = *match.route;
  request.route = route.pattern;
  request.params = std::move(match.params);
  const std::int64_t limit = route.max_body >= 0 ? route.max_body : shared.options.max_json_body;
  if (static_cast<std::int64_t>(request.body.size()) > limit)
    return error_response(413, "body_too_large", "request body is over " + std::to_string(limit) + " bytes");
  if (route.takes_json && !is_json_content_type(request.header("content-type")))
    return error_response(415, "unsupported_media_type", "send the body as application/json");
  try {
    return route.handler(request);
  } catch (const std::exception& e) {
    spdlog::error("unhandled exception in {} {}: {}", request.method, route.pattern, e.what());
    return error_response(500, "internal", "internal error");
  }
}

class Adapter final : public Http::Handler {
 public:
  HTTP_PROTOTYPE(Adapter)
  explicit Adapter(std::shared_ptr<Shared> shared) : shared_(std::move(shared)) {}

  void onRequest(const Http::Request& req, Http::ResponseWriter writer) override {
    const auto started = std::chrono::steady_clock::now();
    shared_->metrics->set_in_flight(++shared_->in_flight);
    Request request = to_request(req);
    auto given_id = request.header("x-request-id");
    request.request_id = given_id && acceptable_request_id(*given_id) ? *given_id : new_request_id();
    RequestIdScope log_scope(request.request_id);

    Response response = dispatch(*shared_, request);
    const bool keep_alive = wants_keep_alive(req) && !shared_->draining.load();
    writer.headers().remove<Http::Header::Connection>();
    writer.headers().add<Http::Header::Connection>(keep_alive ? Http::ConnectionControl::KeepAlive
                                                              : Http::ConnectionControl::Close);
    writer.headers().add(std::make_shared<NamedHeader>("X-Request-Id", request.request_id));
    for (const auto& [name, value] : response.headers) writer.headers().add(std::make_shared<NamedHeader>(name, value));
    writer.send(static_cast<Http::Code>(response.status), response.body, Http::Mime::MediaType::fromString(response.content_type));

    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    shared_->metrics->observe(request.route, request.method, response.status, seconds);
    if (response.status >= 500) spdlog::warn("{} {} -> {}", request.method, request.route, response.status);
    else spdlog::debug("{} {} -> {} in {:.3f} ms", request.method, request.route, response.status, seconds * 1000);
    shared_->metrics->set_in_flight(--shared_->in_flight);
  }

 private:
  std::shared_ptr<Shared> shared_;
};

}  // namespace

struct HttpServer::Impl {
  std::shared_ptr<Shared> shared = std::make_shared<Shared>();
  std::unique_ptr<Http::Endpoint> endpoint;
  bool running = false;
};

HttpServer::HttpServer(ServerOptions options, const Router& router, Metrics& metrics) : impl_(std::make_unique<Impl>()) {
  impl_->shared->options = std::move(options);
  impl_->shared->router = &router;
  impl_->shared->metrics = &metrics;
}

HttpServer::~HttpServer() { shutdown(std::chrono::milliseconds(0)); }

Status HttpServer::start() {
  const auto& o = impl_->shared->options;
  try {
    Address address(o.host, Port(o.port));
    impl_->endpoint = std::make_unique<Http::Endpoint>(address);
    auto opts = Http::Endpoint::options()
                    .threads(o.threads)
                    .flags(Tcp::Options::ReuseAddr)
                    .maxRequestSize(static_cast<std::size_t>(std::max(o.max_upload_body, o.max_json_body)) + kHeaderAllowance)
                    .headerTimeout(std::chrono::milliseconds(o.header_timeout_ms))
                    .bodyTimeout(std::chrono::milliseconds(o.body_timeout_ms));
    impl_->endpoint->init(opts);
    impl_->endpoint->setHandler(Http::make_handler<Adapter>(impl_->shared));
    impl_->endpoint->serveThreaded();
    impl_->running = true;
  } catch (const std::exception& e) {
    return make_error(ErrorKind::unavailable, "listen_failed",
                      "cannot listen on " + o.host + ":" + std::to_string(o.port) + ": " + e.what());
  }
  spdlog::info("listening on http://{}:{}", o.host, port());
  return {};
}

std::uint16_t HttpServer::port() const {
  return impl_->endpoint ? static_cast<std::uint16_t>(impl_->endpoint->getPort()) : 0;
}

bool HttpServer::draining() const { return impl_->shared->draining.load(); }

void HttpServer::shutdown(std::chrono::milliseconds grace) {
  if (!impl_->running) return;
  impl_->shared->draining = true;
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (impl_->shared->in_flight.load() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  impl_->endpoint->shutdown();
  impl_->running = false;
  spdlog::info("http server stopped");
}

}  // namespace cunhuo::storefront
