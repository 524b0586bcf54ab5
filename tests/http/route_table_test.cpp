// The route table is the one access policy: for every declared operation and every role,
// the table admits exactly the roles it declares, and no malformed body derived from an
// operation's schema makes any operation answer 5xx.
#include <map>

#include "core/json.hpp"
#include "storefront/route_table.hpp"
#include "tests/support/server.hpp"

using namespace cunhuo;
using namespace cunhuo::test;
using storefront::Access;
using storefront::Body;
using storefront::Operation;
using storefront::Role;

namespace {

// One seed account per role.
const std::map<Role, std::string> kAccounts = {
    {Role::farmer, "13900000001"},           {Role::shop_manager, "13900000002"}, {Role::consumer, "13900000003"},
    {Role::org_buyer, "13900000004"},        {Role::station_operator, "13900000005"},
    {Role::county_centre, "13900000006"},    {Role::poverty_office, "13900000007"},
    {Role::helper, "13600000001"},           {Role::admin, "13900000008"},
};

// The operation's pattern with every parameter filled in.
std::string concrete(const std::string& pattern) {
  std::string out;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != ':') {
      out += pattern[i];
      continue;
    }
    out += '1';
    while (i + 1 < pattern.size() && pattern[i + 1] != '/') ++i;
  }
  return out;
}

// Operations that must not be run blindly here: they stop or reshape the whole server.
bool skipped(const Operation& op) { return op.pattern == "/api/v1/sessions" && op.method == "DELETE"; }

HttpReply call(HttpClient& c, const Operation& op, const std::string& body, const Headers& headers) {
  return c.request(op.method, concrete(op.pattern), body, headers);
}

std::vector<std::string> malformed_bodies(const Operation& op) {
  std::vector<std::string> out = {"{", "[]", "\"text\"", "null", "{\"a\":", std::string(70, '[') + std::string(70, ']'),
                                  "{\"unknown_field\":1}", "\xff\xfe"};
  if (op.request_schema.empty()) return out;
  auto schema = Json::parse(op.request_schema);
  REQUIRE(schema.ok());
  const Json* properties = schema->find("properties");
  if (!properties) return out;
  for (const auto& [name, property] : properties->as_object()) {
    for (const char* wrong : {"[]", "{}", "\"x\"", "-1", "9223372036854775807", "true", "null", "1.5"})
      out.push_back("{\"" + name + "\":" + wrong + "}");
    out.push_back("{\"" + name + "\":\"" + std::string(100'000, 'x') + "\"}");
  }
  return out;
}

}  // namespace

TEST_CASE("every operation admits exactly the roles its declaration names", "[http][access]") {
  TestServer server(StoreKind::sqlite);
  std::map<Role, std::string> tokens;
  for (const auto& [role, phone] : kAccounts) tokens[role] = server.login(phone);
  HttpClient c(server.port());
  const auto& operations = server.app().routes().operations();
  REQUIRE(operations.size() > 20);
  for (const auto& op : operations) {
    if (skipped(op) || op.access.kind == Access::Kind::anyone) continue;
    CAPTURE(op.method, op.pattern);
    const Headers json = {{"Content-Type", "application/json"}};
    CHECK(call(c, op, "{}", json).status == 401);
    for (const auto& [role, token] : tokens) {
      CAPTURE(storefront::to_string(role));
      auto reply = call(c, op, "{}", bearer(token));
      const bool refused_by_role = reply.status == 403 && error_code(reply) == storefront::kRoleNotAllowed;
      CHECK(refused_by_role == !op.access.admits(role));
      CHECK(reply.status != 401);
    }
  }
}

TEST_CASE("no malformed body makes any operation answer 5xx", "[http][access][bad-input]") {
  TestServer server(StoreKind::sqlite);
  const std::string admin = server.login("13900000008");
  HttpClient c(server.port());
  for (const auto& op : server.app().routes().operations()) {
    if (skipped(op) || op.body != Body::json) continue;
    CAPTURE(op.method, op.pattern);
    for (const auto& body : malformed_bodies(op)) {
      CAPTURE(body.substr(0, 80));
      auto reply = call(c, op, body, bearer(admin, {{"Idempotency-Key", "malformed"}}));
      CHECK(reply.status >= 400);
      CHECK(reply.status < 500);
    }
  }
}

TEST_CASE("the OpenAPI document lists every declared operation with its roles", "[http][openapi]") {
  TestServer server(StoreKind::sqlite);
  HttpClient c(server.port());
  auto reply = c.request("GET", "/api/v1/openapi.json");
  REQUIRE(reply.status == 200);
  auto doc = Json::parse(reply.body);
  REQUIRE(doc.ok());
  CHECK(doc->find("openapi")->as_string() == "3.1.0");
  const Json* paths = doc->find("paths");
  REQUIRE(paths != nullptr);
  for (const auto& op : server.app().routes().operations()) {
    std::string path;
    for (std::size_t i = 0; i < op.pattern.size(); ++i) {
      if (op.pattern[i] != ':') {
        path += op.pattern[i];
        continue;
      }
      const auto end = op.pattern.find('/', i);
      path += "{" + op.pattern.substr(i + 1, end == std::string::npos ? std::string::npos : end - i - 1) + "}";
      i = end == std::string::npos ? op.pattern.size() : end - 1;
    }
    CAPTURE(path);
    const Json* item = paths->find(path);
    REQUIRE(item != nullptr);
    const Json* operation = item->find(storefront::ascii_lower(op.method));
    REQUIRE(operation != nullptr);
    CHECK(operation->find("x-roles") != nullptr);
    CHECK(operation->find("responses")->find("4XX") != nullptr);
  }
}
