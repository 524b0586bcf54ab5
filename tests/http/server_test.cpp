// The HTTP server over real TCP: keep-alive, errors, limits and the documented shapes.
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

TEST_CASE("an HTTP/1.1 request without a Connection header keeps the connection open", "[http][keepalive]") {
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

TEST_CASE("an HTTP/1.0 request without keep-alive is closed after the answer", "[http][keepalive]") {
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
  CHECK(reply.body.find("cunhuo_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"} 1") != std::string::npos);
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
  std::string big = R"({"phone":"13900000001","password":"cunhuo-demo","pad":")" + std::string(2 << 20, 'x') + "\"}";
  auto reply = post_json(client, kLogin, big);
  CHECK(reply.status == 413);
  CHECK(error_code(reply) == "body_too_large");
  CHECK(server.count(kSessions) == 0);
}

TEST_CASE("a huge body is refused from its Content-Length before it is read", "[http][bad-input]") {
  TestServer server(StoreKind::sqlite);
  HttpClient client(server.port());
  // Only the head is sent: the answer must not wait for 50 MB that never comes.
  client.send_raw("POST /api/v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
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
  client.send_raw("POST /api/v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nExpect: 100-continue\r\n"
                  "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n");
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
  client.send_raw("POST /api/v1/sessions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
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
  TestServer server(StoreKind::sqlite, "minqin", [](Config& c) { c.header_timeout_ms = 300; });
  HttpClient client(server.port());
  client.send_raw("GET /healthz HTTP/1.1\r\nHost: x\r\n");  // never finishes the head
  CHECK(client.closed_by_server(5000));
}

TEST_CASE("a client too slow to send its body is disconnected", "[http][timeouts]") {
  TestServer server(StoreKind::sqlite, "minqin", [](Config& c) { c.body_timeout_ms = 300; });
  HttpClient client(server.port());
  client.send_raw("POST /api/v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{");
  CHECK(client.closed_by_server(5000));
  CHECK(server.count(kSessions) == 0);
}

STORE_TEST("a body that is not UTF-8 is a 400 and writes nothing", "[http][bad-input]") {
  TestServer server(store_kind);
  HttpClient client(server.port());
  auto reply = post_json(client, kLogin, "{\"phone\":\"13900000001\",\"password\":\"cunhuo-\xff\xfe\"}");
  CHECK(reply.status == 400);
  CHECK(error_code(reply) == "invalid_utf8");
  CHECK(server.count(kSessions) == 0);
}

STORE_TEST("a body that is not JSON at all is refused by media type", "[http][bad-input]") {
  TestServer server(store_kind);
  HttpClient client(server.port());
  auto reply = client.request("POST", kLogin, "phone=1&password=2", {{"Content-Type", "application/x-www-form-urlencoded"}});
  CHECK(reply.status == 415);
  CHECK(error_code(reply) == "unsupported_media_type");
  CHECK(server.count(kSessions) == 0);
}

STORE_TEST("an unknown field is a 400 naming it", "[http][bad-input]") {
  TestServer server(store_kind);
  HttpClient client(server.port());
  auto reply = post_json(client, kLogin, R"({"phone":"13900000001","password":"cunhuo-demo","admin":true})");
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
  auto reply = post_json(client, kLogin, R"({"phone":"13900000001","password":"not-the-password"})");
  CHECK(reply.status == 401);
  CHECK(error_code(reply) == "invalid_credentials");
  CHECK(server.count(kSessions) == 0);
}

TEST_CASE("a request without a token is a 401 and a logged-out token stops working", "[http][auth]") {
  TestServer server(StoreKind::sqlite);
  HttpClient client(server.port());
  CHECK(client.request("GET", "/api/v1/me").status == 401);
  std::string token = server.login("13900000006");
  auto auth = std::vector<std::pair<std::string, std::string>>{{"Authorization", "Bearer " + token}};
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

TEST_CASE("a server shutting down finishes what it has and refuses new work", "[http]") {
  TestServer server(StoreKind::sqlite);
  HttpClient client(server.port());
  CHECK(client.request("GET", "/healthz").status == 200);
  server.app().stop(std::chrono::milliseconds(1000));
  CHECK(client.closed_by_server(3000));
}
