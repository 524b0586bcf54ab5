#include <catch2/catch.hpp>

#include "storefront/http.hpp"
#include "storefront/metrics.hpp"

using namespace cunhuo::storefront;

namespace {
Route route(const char* method, const char* pattern) {
  return Route{method, pattern, [](const Request&) { return Response::json(200, "{}"); },
               -1,     false,   ""};
}
}  // namespace

TEST_CASE("the router matches literal paths and path parameters", "[router]") {
  Router r;
  r.add(route("GET", "/api/v1/orders/:id"));
  r.add(route("POST", "/api/v1/orders"));
  auto m = r.match("GET", "/api/v1/orders/42");
  REQUIRE(m.route != nullptr);
  CHECK(m.params.at("id") == "42");
  CHECK(r.match("POST", "/api/v1/orders").route != nullptr);
  CHECK(r.match("GET", "/api/v1/orders/42/extra").route == nullptr);
}

TEST_CASE("the router reports the methods a path takes", "[router]") {
  Router r;
  r.add(route("GET", "/healthz"));
  auto m = r.match("DELETE", "/healthz");
  CHECK(m.route == nullptr);
  REQUIRE(m.allowed.size() == 1);
  CHECK(m.allowed[0] == "GET");
  CHECK(r.match("GET", "/nope").allowed.empty());
}

TEST_CASE("path parameters are percent-decoded", "[router]") {
  Router r;
  r.add(route("GET", "/api/v1/search/:q"));
  auto m = r.match("GET", "/api/v1/search/%E8%8B%81%E8%93%89");
  REQUIRE(m.route != nullptr);
  CHECK(m.params.at("q") == "苁蓉");
  CHECK(r.match("GET", "/api/v1/search/%E8%8").route == nullptr);
}

TEST_CASE("errors have the documented shape", "[router]") {
  auto r = error_response(cunhuo::make_error(cunhuo::ErrorKind::invalid, "invalid_type",
                                             "expected integer", "quantity"));
  CHECK(r.status == 400);
  CHECK(r.body ==
        R"({"error":{"code":"invalid_type","message":"expected integer","field":"quantity"}})");
  auto internal = error_response(
      cunhuo::make_error(cunhuo::ErrorKind::internal, "store_error", "secret detail"));
  CHECK(internal.status == 500);
  CHECK(internal.body.find("secret") == std::string::npos);
}

TEST_CASE("metrics render counters and cumulative histogram buckets", "[metrics]") {
  Metrics m;
  m.observe("/healthz", "GET", 200, 0.0004);
  m.observe("/healthz", "GET", 200, 0.02);
  std::string text = m.render();
  CHECK(
      text.find("cunhuo_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"} 2") !=
      std::string::npos);
  CHECK(text.find("le=\"0.0005\"} 1") != std::string::npos);
  CHECK(text.find("le=\"0.025\"} 2") != std::string::npos);
  CHECK(text.find("le=\"+Inf\"} 2") != std::string::npos);
}
