// The platform's HTTP client (core/net): what a request carries over TLS and plain HTTP,
// how URLs are read, and that trust cannot be had without a CA that loads. Its refusals
// as the SMS gateway meets them are in sms_gateway_test.cpp.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "core/net/http_client.hpp"
#include "tests/support/support.hpp"
#include "tests/support/tls_server.hpp"

using namespace cunhuo;
using namespace cunhuo::net;
using cunhuo::test::FakeReply;
using cunhuo::test::FakeRequest;
using cunhuo::test::LocalServer;
using cunhuo::test::temp_dir;
using cunhuo::test::TestPki;

namespace {

// Answers with what it was asked, so a test sees the request as the server read it.
FakeReply echo(const FakeRequest& r) {
  std::string fields;
  for (const auto& [name, value] : r.headers) fields += name + "=" + value + ";";
  return FakeReply{.status = 201,
                   .body = r.method + " " + r.target + " " + r.body,
                   .headers = {{"X-Fields", fields}}};
}

}  // namespace

TEST_CASE("a POST over TLS carries its target, headers and body, and the answer comes back",
          "[unit][http-client]") {
  TestPki pki;
  LocalServer server(echo, pki.issue("DNS:localhost,IP:127.0.0.1"));
  const HttpClient client(HttpClientOptions{.ca_file = pki.ca_file()});
  auto answer = client.send(HttpRequest{.method = "POST",
                                        .url = server.url("localhost") + "notify?x=1",
                                        .headers = {{"Cunhuo-Pay-Nonce", "n1"}},
                                        .body = R"({"a":1})"});
  REQUIRE(answer.ok());
  CHECK(answer->status == 201);
  CHECK(answer->body == R"(POST /notify?x=1 {"a":1})");
  const auto fields = answer->header("x-fields").value_or("");
  CHECK(fields.find("Cunhuo-Pay-Nonce=n1;") != std::string::npos);
  CHECK(fields.find("Host=localhost:" + std::to_string(server.port()) + ";") != std::string::npos);
  CHECK(answer->header("Content-Type") == "application/json");
}

TEST_CASE("plain HTTP still serves a loopback callback", "[unit][http-client]") {
  LocalServer server(echo, std::nullopt);
  auto answer = HttpClient().send(
      HttpRequest{.method = "POST", .url = server.url() + "cb", .headers = {}, .body = "hi"});
  REQUIRE(answer.ok());
  CHECK(answer->body == "POST /cb hi");
}

TEST_CASE("an answer whose header is over the limit is refused", "[unit][http-client]") {
  TestPki pki;
  LocalServer server(
      [](const FakeRequest&) {
        return FakeReply{.headers = {{"X-Padding", std::string(kMaxHttpResponseHeader, 'x')}}};
      },
      pki.issue("IP:127.0.0.1"));
  auto answer = HttpClient(HttpClientOptions{.ca_file = pki.ca_file()})
                    .send(HttpRequest{.url = server.url()});
  REQUIRE_FALSE(answer.ok());
  CHECK(answer.error().code == kResponseTooLarge);
}

TEST_CASE("a CA file that does not load leaves every https call refused, never unverified",
          "[unit][http-client]") {
  TestPki pki;
  LocalServer server(echo, pki.issue("IP:127.0.0.1"));
  const HttpClient client(HttpClientOptions{.ca_file = temp_dir() + "/no-such-ca.pem"});
  REQUIRE_FALSE(client.trust().ok());
  CHECK(client.trust().error().code == kTlsFailed);
  auto answer = client.send(HttpRequest{.url = server.url()});
  REQUIRE_FALSE(answer.ok());
  CHECK(answer.error().code == kTlsFailed);
  CHECK(server.answered() == 0);
}

TEST_CASE("a URL gives its scheme, host, port and target", "[unit][http-client]") {
  struct Case {
    std::string url;
    bool tls;
    std::string host, port, target;
  };
  const std::vector<Case> cases = {
      {"https://dysmsapi.aliyuncs.com/", true, "dysmsapi.aliyuncs.com", "443", "/"},
      {"https://dysmsapi.aliyuncs.com", true, "dysmsapi.aliyuncs.com", "443", "/"},
      {"https://h.example?a=1", true, "h.example", "443", "/?a=1"},
      {"http://127.0.0.1:8080/api/v1/payments/notify", false, "127.0.0.1", "8080",
       "/api/v1/payments/notify"},
      {"http://[::1]:9/x#frag", false, "::1", "9", "/x"},
  };
  for (const auto& c : cases) {
    INFO(c.url);
    auto url = parse_url(c.url);
    REQUIRE(url.ok());
    CHECK(url->tls == c.tls);
    CHECK(url->host == c.host);
    CHECK(url->port == c.port);
    CHECK(url->target == c.target);
  }
}

TEST_CASE("a URL the client cannot call is refused before any connection", "[unit][http-client]") {
  for (const std::string url : {"ftp://h/", "h.example/", "https:///", "http://u:p@h/",
                                "http://h:0/", "http://h:99999/", "http://h:8o/", "http://[::1/"}) {
    INFO(url);
    auto parsed = parse_url(url);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().code == kInvalidUrl);
    CHECK(HttpClient().send(HttpRequest{.url = url}).error().code == kInvalidUrl);
  }
}

TEST_CASE("loopback hosts are localhost, 127.0.0.0/8 and ::1 only", "[unit][http-client]") {
  for (const char* host : {"localhost", "LocalHost", "127.0.0.1", "127.8.9.10", "::1", "[::1]"})
    CHECK(is_loopback_host(host));
  for (const char* host : {"0.0.0.0", "10.0.0.1", "127.example.com", "localhost.example.com",
                           "dysmsapi.aliyuncs.com", "::", ""})
    CHECK_FALSE(is_loopback_host(host));
}
