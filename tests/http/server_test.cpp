// The HTTP server over real TCP: keep-alive, errors, limits and the documented shapes.
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <thread>

#include "core/json.hpp"
#include "tests/support/server.hpp"

using namespace cunhuo;
using namespace cunhuo::test;

namespace {

const std::string kLogin = "/api/v1/sessions";
const std::string kSessions = "SELECT COUNT(*) FROM sessions";

}  // namespace

TEST_CASE("healthz answers ok", "[http]") {
  TestServer server(StoreKind::sqlite);
  HttpClient client(server.port());
  auto reply = client.request("GET", "/healthz");
  CHECK(reply.status == 200);
  CHECK(reply.body == R"({"status":"ok"})");
  CHECK(reply.header("x-request-id").has_value());
}

TEST_CASE("an HTTP/1.1 request without a Connection header keeps the connection open",
          "[http][keepalive]") {
  TestServer server(StoreKind::sqlite);
  HttpClient client(server.port());
  client.send_raw("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  auto first = client.read_reply();
  CHECK(first.status == 200);
  CHECK(first.header("connection") == std::optional<std::string>("keep-alive"));
  CHECK_FALSE(client.closed_by_server(200));
  client.send_raw("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(client.read_reply().status == 200);  // same socket, second answer
}

TEST_CASE("Connection: close is honoured", "[http][keepalive]") {
  TestServer server(StoreKind::sqlite);
  HttpClient client(server.port());
  client.send_raw("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  auto reply = client.read_reply();
  CHECK(reply.status == 200);
  CHECK(reply.header("connection") == std::optional<std::string>("close"));
  CHECK(client.closed_by_server());
}

TEST_CASE("an HTTP/1.0 request without keep-alive is closed after the answer",
          "[http][keepalive]") {
  TestServer server(StoreKind::sqlite);
  HttpClient client(server.port());
  client.send_raw("GET /healthz HTTP/1.0\r\n\r\n");
  CHECK(client.read_reply().status == 200);
  CHECK(client.closed_by_server());
}

TEST_CASE("pipelined requests on one connection are all answered in order", "[http][keepalive]") {
  TestServer server(StoreKind::sqlite);
  HttpClient client(server.port());
  client.send_raw("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(client.read_reply().status == 200);
  CHECK(client.read_reply().status == 404);
}

TEST_CASE("a request id sent by the client is echoed back", "[http]") {
  TestServer server(StoreKind::sqlite);
  HttpClient client(server.port());
  auto reply = client.request("GET", "/healthz", "", {{"X-Request-Id", "trace-abc-123"}});
  CHECK(reply.header("x-request-id") == std::optional<std::string>("trace-abc-123"));
  auto odd = client.request("GET", "/healthz", "", {{"X-Request-Id", "bad id with spaces"}});
  CHECK(odd.header("x-request-id") != std::optional<std::string>("bad id with spaces"));
}

STORE_TEST("readyz reports the store it reached", "[http]") {
  TestServer server(store_kind);
  HttpClient client(server.port());
  auto reply = client.request("GET", "/readyz");
  CHECK(reply.status == 200);
  CHECK(reply.body.find(store_kind == StoreKind::sqlite ? "sqlite" : "mysql") != std::string::npos);
}

TEST_CASE("metrics count requests by route pattern and status", "[http]") {
  TestServer server(StoreKind::sqlite);
  HttpClient client(server.port());
  client.request("GET", "/healthz");
  client.request("GET", "/no/such/route/123");
  auto reply = client.request("GET", "/metrics");
  CHECK(reply.status == 200);
  CHECK(reply.header("content-type").value_or("").rfind("text/plain", 0) == 0);
  CHECK(reply.body.find(
            "cunhuo_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"} 1") !=
        std::string::npos);
  CHECK(reply.body.find("route=\"unmatched\",method=\"GET\",status=\"404\"") != std::string::npos);
  CHECK(reply.body.find("/no/such/route") == std::string::npos);  // raw paths never become labels
  CHECK(reply.body.find("cunhuo_http_request_duration_seconds_bucket") != std::string::npos);
}

TEST_CASE("an unknown route is a JSON 404", "[http][bad-input]") {
  TestServer server(StoreKind::sqlite);
  HttpClient client(server.port());
  auto reply = client.request("GET", "/api/v1/nothing-here");
  CHECK(reply.status == 404);
  CHECK(error_code(reply) == "route_not_found");
  CHECK(reply.header("content-type").value_or("").rfind("application/json", 0) == 0);
}

TEST_CASE("a wrong method is a JSON 405 with Allow", "[http][bad-input]") {
  TestServer server(StoreKind::sqlite);
  HttpClient client(server.port());
  auto reply = client.request("DELETE", "/healthz");
  CHECK(reply.status == 405);
  CHECK(error_code(reply) == "method_not_allowed");
  CHECK(reply.header("allow") == std::optional<std::string>("GET"));
}

STORE_TEST("malformed JSON is a 400 and writes nothing", "[http][bad-input]") {
  TestServer server(store_kind);
  HttpClient client(server.port());
  auto reply = post_json(client, kLogin, R"({"phone":"13900000001","password":)");
  CHECK(reply.status == 400);
  CHECK(error_code(reply) == "malformed_json");
  CHECK(server.count(kSessions) == 0);
}

STORE_TEST("a wrong type is a 400 naming the field and writes nothing", "[http][bad-input]") {
  TestServer server(store_kind);
  HttpClient client(server.port());
  auto reply = post_json(client, kLogin, R"({"phone":13900000001,"password":"cunhuo-demo"})");
  CHECK(reply.status == 400);
  CHECK(error_code(reply) == "invalid_type");
  CHECK(error_field(reply) == "phone");
  CHECK(server.count(kSessions) == 0);
}

STORE_TEST("a missing field is a 400 naming the field and writes nothing", "[http][bad-input]") {
  TestServer server(store_kind);
  HttpClient client(server.port());
  auto reply = post_json(client, kLogin, R"({"phone":"13900000001"})");
  CHECK(reply.status == 400);
  CHECK(error_code(reply) == "missing_field");
  CHECK(error_field(reply) == "password");
  CHECK(server.count(kSessions) == 0);
}

STORE_TEST("a body over the JSON limit is a JSON 413 and writes nothing", "[http][bad-input]") {
  TestServer server(store_kind);
  HttpClient client(server.port());
  std::string big = R"({"phone":"13900000001","password":"cunhuo-demo","pad":")" +
                    std::string(2 << 20, 'x') + "\"}";
  auto reply = post_json(client, kLogin, big);
  CHECK(reply.status == 413);
  CHECK(error_code(reply) == "body_too_large");
  CHECK(server.count(kSessions) == 0);
}

TEST_CASE("a huge body is refused from its Content-Length before it is read", "[http][bad-input]") {
  TestServer server(StoreKind::sqlite);
  HttpClient client(server.port());
  // Only the head is sent: the answer must not wait for 50 MB that never comes.
  client.send_raw(
      "POST /api/v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: 52428800\r\n\r\n");
  auto reply = client.read_reply();
  CHECK(reply.status == 413);
  CHECK(error_code(reply) == "body_too_large");
  CHECK(reply.header("connection") == std::optional<std::string>("close"));
  CHECK(client.closed_by_server());
  CHECK(server.count(kSessions) == 0);
  HttpClient fresh(server.port());
  CHECK(fresh.request("GET", "/healthz").status == 200);  // and the server is fine
}

TEST_CASE("a client that expects 100-continue is told to go on", "[http]") {
  TestServer server(StoreKind::sqlite);
  HttpClient client(server.port());
  std::string body = R"({"phone":"13900000001","password":"wrong-password"})";
  client.send_raw(
      "POST /api/v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nExpect: "
      "100-continue\r\n"
      "Content-Length: " +
      std::to_string(body.size()) + "\r\n\r\n");
  CHECK(client.read_reply().status == 100);
  client.send_raw(body);
  CHECK(client.read_reply().status == 401);
}

TEST_CASE("headers over 16 KiB are refused with 431", "[http][bad-input]") {
  TestServer server(StoreKind::sqlite);
  HttpClient client(server.port());
  auto reply = client.request("GET", "/healthz", "", {{"X-Padding", std::string(20000, 'a')}});
  CHECK(reply.status == 431);
  CHECK(error_code(reply) == "headers_too_large");
}

TEST_CASE("a chunked body is refused with 411", "[http][bad-input]") {
  TestServer server(StoreKind::sqlite);
  HttpClient client(server.port());
  client.send_raw(
      "POST /api/v1/sessions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
  auto reply = client.read_reply();
  CHECK(reply.status == 411);
  CHECK(error_code(reply) == "length_required");
}

TEST_CASE("a garbled request line is a JSON 400 and the connection closes", "[http][bad-input]") {
  TestServer server(StoreKind::sqlite);
  HttpClient client(server.port());
  client.send_raw("HELLO THERE\r\n\r\n");
  auto reply = client.read_reply();
  CHECK(reply.status == 400);
  CHECK(error_code(reply) == "bad_request_line");
  CHECK(client.closed_by_server());
}

TEST_CASE("a client too slow to send its headers is disconnected", "[http][timeouts]") {
  TestServer server(StoreKind::sqlite, "fixture", [](Config& c) { c.header_timeout_ms = 300; });
  HttpClient client(server.port());
  client.send_raw("GET /healthz HTTP/1.1\r\nHost: x\r\n");  // never finishes the head
  CHECK(client.closed_by_server(5000));
}

TEST_CASE("a client too slow to send its body is disconnected", "[http][timeouts]") {
  TestServer server(StoreKind::sqlite, "fixture", [](Config& c) { c.body_timeout_ms = 300; });
  HttpClient client(server.port());
  client.send_raw(
      "POST /api/v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Type: "
      "application/json\r\nContent-Length: 100\r\n\r\n{");
  CHECK(client.closed_by_server(5000));
  CHECK(server.count(kSessions) == 0);
}

STORE_TEST("a body that is not UTF-8 is a 400 and writes nothing", "[http][bad-input]") {
  TestServer server(store_kind);
  HttpClient client(server.port());
  auto reply =
      post_json(client, kLogin, "{\"phone\":\"13900000001\",\"password\":\"cunhuo-\xff\xfe\"}");
  CHECK(reply.status == 400);
  CHECK(error_code(reply) == "invalid_utf8");
  CHECK(server.count(kSessions) == 0);
}

STORE_TEST("a body that is not JSON at all is refused by media type", "[http][bad-input]") {
  TestServer server(store_kind);
  HttpClient client(server.port());
  auto reply = client.request("POST", kLogin, "phone=1&password=2",
                              {{"Content-Type", "application/x-www-form-urlencoded"}});
  CHECK(reply.status == 415);
  CHECK(error_code(reply) == "unsupported_media_type");
  CHECK(server.count(kSessions) == 0);
}

STORE_TEST("an unknown field is a 400 naming it", "[http][bad-input]") {
  TestServer server(store_kind);
  HttpClient client(server.port());
  auto reply =
      post_json(client, kLogin, R"({"phone":"13900000001","password":"cunhuo-demo","admin":true})");
  CHECK(reply.status == 400);
  CHECK(error_field(reply) == "admin");
  CHECK(server.count(kSessions) == 0);
}

STORE_TEST("a seeded account logs in and sees itself with its phone masked", "[http][auth]") {
  TestServer server(store_kind);
  std::string token = server.login("13900000001");
  HttpClient client(server.port());
  auto me = client.request("GET", "/api/v1/me", "", {{"Authorization", "Bearer " + token}});
  CHECK(me.status == 200);
  CHECK(me.body.find("\"role\":\"farmer\"") != std::string::npos);
  CHECK(me.body.find("139****0001") != std::string::npos);
  CHECK(me.body.find("13900000001") == std::string::npos);
  CHECK(server.count(kSessions) == 1);
}

STORE_TEST("a wrong password is a 401 and opens no session", "[http][auth]") {
  TestServer server(store_kind);
  HttpClient client(server.port());
  auto reply =
      post_json(client, kLogin, R"({"phone":"13900000001","password":"not-the-password"})");
  CHECK(reply.status == 401);
  CHECK(error_code(reply) == "invalid_credentials");
  CHECK(server.count(kSessions) == 0);
}

TEST_CASE("a request without a token is a 401 and a logged-out token stops working",
          "[http][auth]") {
  TestServer server(StoreKind::sqlite);
  HttpClient client(server.port());
  CHECK(client.request("GET", "/api/v1/me").status == 401);
  std::string token = server.login("13900000006");
  auto auth =
      std::vector<std::pair<std::string, std::string>>{{"Authorization", "Bearer " + token}};
  CHECK(client.request("GET", "/api/v1/me", "", auth).status == 200);
  CHECK(client.request("DELETE", "/api/v1/sessions/current", "", auth).status == 200);
  CHECK(client.request("GET", "/api/v1/me", "", auth).status == 401);
}

STORE_TEST("the public network listing shows the seeded county", "[http]") {
  TestServer server(store_kind);
  HttpClient client(server.port());
  auto reply = client.request("GET", "/api/v1/network/nodes?region=620621104");
  CHECK(reply.status == 200);
  CHECK(reply.body.find("MQ-TS-XQ") != std::string::npos);
  CHECK(reply.body.find("MQ-TS-SL") == std::string::npos);
  auto bad = client.request("GET", "/api/v1/network/nodes?region=abc");
  CHECK(bad.status == 400);
  CHECK(error_field(bad) == "region");
}

TEST_CASE("the OpenAPI document lists the routes", "[http]") {
  TestServer server(StoreKind::sqlite);
  HttpClient client(server.port());
  auto reply = client.request("GET", "/api/v1/openapi.json");
  CHECK(reply.status == 200);
  auto doc = Json::parse(reply.body);
  REQUIRE(doc.ok());
  CHECK(doc->find("paths")->find("/api/v1/sessions") != nullptr);
}

namespace {

using storefront::Request;
using storefront::Respond;
using storefront::Response;
using storefront::Route;

// A route that answers only when the test says so: a request held in flight.
struct HeldRoute {
  std::promise<void> entered;
  Respond answer;

  void install(storefront::Router& router) {
    router.add(Route{.method = "GET",
                     .pattern = "/test/held",
                     .handler = nullptr,
                     .max_body = -1,
                     .takes_json = false,
                     .summary = "held until the test answers",
                     .async_handler =
                         [this](const Request&, Respond respond) {
                           answer = std::move(respond);
                           entered.set_value();
                         },
                     .authenticate_before_body = false});
  }
};

}  // namespace

TEST_CASE("a server shutting down finishes the request in flight and answers new work with 503",
          "[http][shutdown]") {
  TestServer server(StoreKind::sqlite);
  HeldRoute held;
  held.install(server.app().router());  // before any request reaches the new route
  HttpClient in_flight(server.port());
  in_flight.send_raw("GET /test/held HTTP/1.1\r\nHost: x\r\n\r\n");
  REQUIRE(held.entered.get_future().wait_for(std::chrono::seconds(10)) ==
          std::future_status::ready);

  std::jthread stopper([&] { server.app().stop(std::chrono::milliseconds(10'000)); });
  // Until the server notices the stop, new requests are still served; then every one is a 503.
  HttpReply refused;
  for (int i = 0; i < 10'000 && refused.status != 503; ++i) {
    HttpClient fresh(server.port());
    refused = fresh.request("GET", "/healthz");
  }
  CHECK(refused.status == 503);
  CHECK(error_code(refused) == "shutting_down");
  CHECK(refused.header("connection") == std::optional<std::string>("close"));

  held.answer(Response::json(200, R"({"finished":true})"));
  auto finished = in_flight.read_reply();
  stopper.join();
  CHECK(finished.status == 200);
  CHECK(finished.body == R"({"finished":true})");
}

STORE_TEST("thirty wrong passwords in a row lock the phone with a 429 and Retry-After",
           "[http][auth][limits]") {
  TestServer server(store_kind);
  HttpClient client(server.port());
  const std::string wrong = R"({"phone":"13900000001","password":"not-the-password"})";
  for (int i = 0; i < storefront::LoginLimits::kWrongPasswordsPerPhone; ++i)
    REQUIRE(post_json(client, kLogin, wrong).status == 401);
  auto locked = post_json(client, kLogin, R"({"phone":"13900000001","password":"cunhuo-demo"})");
  CHECK(locked.status == 429);
  CHECK(error_code(locked) == "too_many_requests");
  const auto retry = std::stoll(locked.header("retry-after").value_or("0"));
  CHECK(retry > 0);
  CHECK(retry <= storefront::LoginLimits::kPhoneLockMs / 1000);
  CHECK(server.count(kSessions) == 0);
  const std::string other = R"({"phone":"13900000006","password":"cunhuo-demo"})";
  CHECK(post_json(client, kLogin, other).status == 201);  // other phones still log in
}

TEST_CASE("login attempts from one address over its limit get a 429 with Retry-After",
          "[http][auth][limits]") {
  TestServer server(StoreKind::sqlite, "fixture",
                    [](Config& c) { c.login_attempts_per_address = 5; });
  HttpClient client(server.port());
  for (int i = 0; i < 5; ++i)
    REQUIRE(post_json(client, kLogin, "{}").status == 400);  // cheap attempts count too
  auto refused = post_json(client, kLogin, R"({"phone":"13900000001","password":"cunhuo-demo"})");
  CHECK(refused.status == 429);
  CHECK(error_code(refused) == "too_many_requests");
  CHECK(std::stoll(refused.header("retry-after").value_or("0")) > 0);
  CHECK(server.count(kSessions) == 0);
}

TEST_CASE("metrics label a made-up method as other, not as itself", "[http][metrics]") {
  TestServer server(StoreKind::sqlite);
  HttpClient client(server.port());
  const std::string method(200, 'Q');
  CHECK(client.request(method, "/healthz").status == 405);
  auto reply = client.request("GET", "/metrics");
  REQUIRE(reply.status == 200);
  CHECK(reply.body.find(method) == std::string::npos);
  CHECK(reply.body.find("route=\"unmatched\",method=\"other\",status=\"405\"") !=
        std::string::npos);
}

TEST_CASE("metrics are served only to an allowed address or an admin", "[http][metrics]") {
  TestServer server(StoreKind::sqlite, "fixture", [](Config& c) { c.metrics_allow.clear(); });
  HttpClient client(server.port());
  CHECK(client.request("GET", "/metrics").status == 403);
  const Headers farmer = {{"Authorization", "Bearer " + server.login("13900000001")}};
  const Headers admin = {{"Authorization", "Bearer " + server.login("13900000008")}};
  CHECK(client.request("GET", "/metrics", "", farmer).status == 403);
  CHECK(client.request("GET", "/metrics", "", admin).status == 200);
}

namespace {

// Opens connections until the server refuses one; returns how many it kept open.
int connections_until_refused(TestServer& server, std::vector<std::unique_ptr<HttpClient>>& open,
                              HttpReply& refusal) {
  for (int i = 0; i < 100; ++i) {
    auto client = std::make_unique<HttpClient>(server.port());
    auto reply = client->request("GET", "/healthz");
    if (reply.status != 200) {
      refusal = reply;
      return i;
    }
    open.push_back(std::move(client));
  }
  return -1;
}

}  // namespace

TEST_CASE("connections over the total cap get a 503 and are closed", "[http][limits]") {
  TestServer server(StoreKind::sqlite, "fixture", [](Config& c) { c.max_connections = 3; });
  std::vector<std::unique_ptr<HttpClient>> open;
  HttpReply refusal;
  CHECK(connections_until_refused(server, open, refusal) == 3);
  CHECK(refusal.status == 503);
  CHECK(error_code(refusal) == "too_many_connections");
  CHECK(refusal.header("retry-after").has_value());
}

TEST_CASE("connections from one address over its cap get a 503, and a closed one frees its place",
          "[http][limits]") {
  TestServer server(StoreKind::sqlite, "fixture",
                    [](Config& c) { c.max_connections_per_address = 2; });
  std::vector<std::unique_ptr<HttpClient>> open;
  HttpReply refusal;
  CHECK(connections_until_refused(server, open, refusal) == 2);
  CHECK(error_code(refusal) == "too_many_connections");
  open.pop_back();  // the server hears of the close a moment later
  int status = 0;
  for (int i = 0; i < 1000 && status != 200; ++i)
    status = HttpClient(server.port()).request("GET", "/healthz").status;
  CHECK(status == 200);
}

TEST_CASE("an upload without a session is refused from its headers before the body is read",
          "[http][auth][limits]") {
  // The old server waited for the body: the timeout then closed the connection unanswered.
  TestServer server(StoreKind::sqlite, "fixture", [](Config& c) { c.body_timeout_ms = 1000; });
  HttpClient client(server.port());
  client.send_raw(
      "POST /api/v1/products/1/photos HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n"
      "Content-Length: 4000000\r\n\r\n");
  auto reply = client.read_reply();
  CHECK(reply.status == 401);
  CHECK(error_code(reply) == "unauthenticated");
  CHECK(client.closed_by_server());
}

TEST_CASE("pages carry a policy against framing and inline script, and nosniff",
          "[http][headers]") {
  TestServer server(StoreKind::sqlite);
  HttpClient client(server.port());
  auto page = client.request("GET", "/public/statistics?region=620621104");
  REQUIRE(page.status == 200);
  const std::string policy = page.header("content-security-policy").value_or("");
  CHECK(policy.find("default-src 'self'") != std::string::npos);
  CHECK(policy.find("script-src 'self';") != std::string::npos);  // no inline script
  CHECK(policy.find("frame-ancestors 'none'") != std::string::npos);
  CHECK(page.header("referrer-policy") == std::optional<std::string>("no-referrer"));
  CHECK(page.header("x-content-type-options") == std::optional<std::string>("nosniff"));
  CHECK(page.body.find("<script>") == std::string::npos);  // its script is a served file
  auto script = client.request("GET", "/assets/exit-countdown.js");
  CHECK(script.status == 200);
  CHECK(script.header("content-type").value_or("").rfind("text/javascript", 0) == 0);
}

TEST_CASE("JSON answers say nosniff, and API answers are not stored unless marked public",
          "[http][headers]") {
  TestServer server(StoreKind::sqlite);
  HttpClient client(server.port());
  auto health = client.request("GET", "/healthz");
  CHECK(health.header("x-content-type-options") == std::optional<std::string>("nosniff"));
  auto me = client.request("GET", "/api/v1/me", "",
                           {{"Authorization", "Bearer " + server.login("13900000001")}});
  REQUIRE(me.status == 200);
  CHECK(me.header("cache-control") == std::optional<std::string>("no-store"));
  CHECK(me.header("x-content-type-options") == std::optional<std::string>("nosniff"));
  auto refused = client.request("GET", "/api/v1/me");
  CHECK(refused.status == 401);
  CHECK(refused.header("cache-control") == std::optional<std::string>("no-store"));
}

namespace {

// A client that writes without reading: non-blocking, with a small receive buffer so
// the answers back up at the server rather than in this process's kernel buffers.
class Pipeliner {
 public:
  explicit Pipeliner(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int small = 4096;
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);
  }
  ~Pipeliner() { ::close(fd_); }

  // Sends `request` up to `times` times; stops early when the server stops taking bytes
  // (for `stall_ms`) or closes. Returns how many were sent whole.
  int send_many(const std::string& request, int times, int stall_ms) {
    for (int sent = 0; sent < times; ++sent)
      for (std::size_t at = 0; at < request.size();) {
        ssize_t n = ::send(fd_, request.data() + at, request.size() - at, MSG_NOSIGNAL);
        if (n > 0) {
          at += static_cast<std::size_t>(n);
          continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return sent;  // closed by the server
        pollfd p{fd_, POLLOUT, 0};
        if (::poll(&p, 1, stall_ms) <= 0) return sent;  // the server stopped reading
      }
    return times;
  }

  // Whether any answer bytes have arrived, without waiting.
  bool has_bytes() {
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, 0) > 0;
  }

  // Reads until the connection ends or stays quiet for `quiet_ms`; counts the answers.
  int count_answers(int quiet_ms) {
    std::string bytes;
    char buf[65536];
    while (true) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, quiet_ms) <= 0) break;
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) break;
      bytes.append(buf, static_cast<std::size_t>(n));
    }
    int answers = 0;
    for (std::size_t at = bytes.find("HTTP/1.1 "); at != std::string::npos;
         at = bytes.find("HTTP/1.1 ", at + 1))
      ++answers;
    return answers;
  }

 private:
  int fd_ = -1;
};

}  // namespace

TEST_CASE("a client that pipelines requests and never reads the answers is cut off",
          "[http][keepalive][limits]") {
  TestServer server(StoreKind::sqlite);
  constexpr int kRequests = 3000;  // the old server queued every answer: 3000 OpenAPI documents
  Pipeliner client(server.port());
  const int sent =
      client.send_many("GET /api/v1/openapi.json HTTP/1.1\r\nHost: x\r\n\r\n", kRequests, 3000);
  const int answered = client.count_answers(3000);
  INFO("sent " << sent << ", answered " << answered);
  CHECK(answered < kRequests);
  HttpClient other(server.port());
  CHECK(other.request("GET", "/healthz").status == 200);  // the server is fine
}

TEST_CASE("logins being hashed do not hold up other requests on the network thread",
          "[http][auth][limits]") {
  TestServer server(StoreKind::sqlite, "fixture", [](Config& c) { c.threads = 1; });
  const std::string body = R"({"phone":"13900000001","password":"not-the-password"})";
  const std::string login =
      "POST /api/v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body;
  constexpr int kLogins = 4;  // the pool hashes two at a time: at least two rounds
  std::vector<std::unique_ptr<Pipeliner>> logins;
  for (int i = 0; i < kLogins; ++i) {
    logins.push_back(std::make_unique<Pipeliner>(server.port()));
    REQUIRE(logins.back()->send_many(login, 1, 1000) == 1);
  }
  HttpClient other(server.port());
  CHECK(other.request("GET", "/healthz").status == 200);
  int answered = 0;
  for (auto& l : logins) answered += l->has_bytes() ? 1 : 0;
  CHECK(answered < kLogins);  // the health check did not wait for every hash
}
