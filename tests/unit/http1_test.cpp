#include <catch2/catch.hpp>

#include "storefront/http1.hpp"

using namespace cunhuo::storefront;

TEST_CASE("a request head is parsed into method, path, query and headers", "[http1]") {
  auto head = http1::parse_head(
      "GET /api/v1/products?q=%E8%8B%81%E8%93%89&county=620621 HTTP/1.1\r\nHost: x\r\nX-A:  b ");
  REQUIRE(head.ok());
  CHECK(head->request.method == "GET");
  CHECK(head->request.path == "/api/v1/products");
  CHECK(head->request.query_param("q") == std::optional<std::string>("苁蓉"));
  CHECK(head->request.header("x-a") == std::optional<std::string>("b"));
  CHECK(head->keep_alive);
}

TEST_CASE("HTTP/1.1 persists unless close, HTTP/1.0 only with keep-alive", "[http1]") {
  CHECK(http1::parse_head("GET / HTTP/1.1\r\nHost: x")->keep_alive);
  CHECK_FALSE(http1::parse_head("GET / HTTP/1.1\r\nHost: x\r\nConnection: Close")->keep_alive);
  CHECK_FALSE(http1::parse_head("GET / HTTP/1.0")->keep_alive);
  CHECK(http1::parse_head("GET / HTTP/1.0\r\nConnection: Keep-Alive")->keep_alive);
}

TEST_CASE("content length must be one non-negative number", "[http1]") {
  CHECK(http1::parse_head("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 12")->content_length ==
        12);
  CHECK_FALSE(http1::parse_head("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1").ok());
  CHECK_FALSE(http1::parse_head("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1x").ok());
  CHECK_FALSE(
      http1::parse_head("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2")
          .ok());
}

TEST_CASE("malformed heads are refused", "[http1]") {
  CHECK(http1::parse_head("GET /\r\nHost: x").error().code == "bad_request_line");
  CHECK(http1::parse_head("GET http://evil/ HTTP/1.1\r\nHost: x").error().code ==
        "bad_request_target");
  CHECK(http1::parse_head("GET / HTTP/2.0\r\nHost: x").error().code ==
        "http_version_not_supported");
  CHECK(http1::parse_head("GET / HTTP/1.1\r\nHost: x\r\n folded").error().code == "bad_header");
  CHECK(http1::parse_head("GET / HTTP/1.1\r\nBad Name: x\r\nHost: x").error().code == "bad_header");
  CHECK(http1::parse_head("GET / HTTP/1.1").error().code == "missing_host");
  CHECK(http1::parse_head("GET /?a=%zz HTTP/1.1\r\nHost: x").error().code == "invalid_query");
}

TEST_CASE("a response is framed with length, connection and request id", "[http1]") {
  Response r = Response::json(201, "{}");
  r.headers.emplace_back("Location", "/x/1");
  std::string bytes = http1::write_response(r, "abc", true);
  CHECK(bytes ==
        "HTTP/1.1 201 Created\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: "
        "2\r\n"
        "Connection: keep-alive\r\nX-Request-Id: abc\r\nLocation: /x/1\r\n\r\n{}");
  CHECK(http1::write_response(r, "", false).find("Connection: close") != std::string::npos);
}

TEST_CASE("a header value holding CR, LF or NUL is refused", "[http1]") {
  using namespace std::string_literals;
  const std::string refused[] = {
      "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rb"s,
      "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\nSet-Cookie: b"s,
      "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\0b"s,
  };
  for (const auto& head : refused) {
    auto parsed = http1::parse_head(head);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().code == "bad_header");
  }
}

TEST_CASE("a request with two Host headers is refused", "[http1]") {
  auto parsed = http1::parse_head("GET / HTTP/1.1\r\nHost: shop.example\r\nHost: evil.example");
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.error().code == "duplicate_host");
  CHECK(parsed.error().kind == cunhuo::ErrorKind::invalid);
}
