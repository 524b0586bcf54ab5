// The route table is the one access policy: for every declared operation and every role,
// the table admits exactly the roles it declares, and no malformed body derived from an
// operation's schema makes any operation answer 5xx.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include "core/json.hpp"
#include "storefront/route_table.hpp"
#include "tests/support/flows.hpp"
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
    {Role::farmer, "13900000001"},
    {Role::shop_manager, "13900000002"},
    {Role::consumer, "13900000003"},
    {Role::org_buyer, "13900000004"},
    {Role::station_operator, "13900000005"},
    {Role::county_centre, "13900000006"},
    {Role::poverty_office, "13900000007"},
    {Role::helper, "13600000001"},
    {Role::admin, "13900000008"},
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
// Operations that end the caller's own sessions would log the test's accounts out.
bool skipped(const Operation& op) {
  return op.method == "DELETE" &&
         (op.pattern == "/api/v1/sessions/current" || op.pattern == "/api/v1/sessions");
}

HttpReply call(HttpClient& c, const Operation& op, const std::string& body,
               const Headers& headers) {
  return c.request(op.method, concrete(op.pattern), body, headers);
}

std::vector<std::string> malformed_bodies(const Operation& op) {
  std::vector<std::string> out = {"{",
                                  "[]",
                                  "\"text\"",
                                  "null",
                                  "{\"a\":",
                                  std::string(70, '[') + std::string(70, ']'),
                                  "{\"unknown_field\":1}",
                                  "\xff\xfe"};
  if (!op.request_schema) return out;
  const Json schema = op.request_schema->json();
  const Json* properties = schema.find("properties");
  if (!properties) return out;
  for (const auto& [name, property] : properties->as_object()) {
    for (const char* wrong :
         {"[]", "{}", "\"x\"", "-1", "9223372036854775807", "true", "null", "1.5"}) {
      const std::string body = "{\"" + name + "\":" + wrong + "}";
      // A value its field admits (an empty list, a boolean) can make a whole, valid body.
      if (storefront::check_against_schema(*Json::parse(body), schema, "").ok()) continue;
      out.push_back(body);
    }
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
    {
      HttpClient anonymous(
          server.port());  // a refusal before the body is read closes its connection
      CHECK(call(anonymous, op, "{}", json).status == 401);
    }
    for (const auto& [role, token] : tokens) {
      CAPTURE(storefront::to_string(role));
      auto reply = call(c, op, "{}", bearer(token));
      const bool refused_by_role =
          reply.status == 403 && error_code(reply) == storefront::kRoleNotAllowed;
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
      path += "{" +
              op.pattern.substr(i + 1, end == std::string::npos ? std::string::npos : end - i - 1) +
              "}";
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

TEST_CASE("every operation declares the schema of its JSON answer and of its JSON body",
          "[http][openapi]") {
  TestServer server(StoreKind::sqlite);
  std::vector<std::string> undeclared;
  for (const auto& op : server.app().routes().operations()) {
    const bool json_answer = op.response_type == "application/json";
    if (json_answer && !op.response_schema)
      undeclared.push_back("answer of " + op.method + " " + op.pattern);
    if (op.body == storefront::Body::json && !op.request_schema)
      undeclared.push_back("body of " + op.method + " " + op.pattern);
  }
  std::string list;
  for (const auto& u : undeclared) list += u + "\n";
  INFO(list);
  CHECK(undeclared.empty());
}

TEST_CASE("query parameters refused before the handler, in order of precedence",
          "[http][openapi][bad-input]") {
  TestServer server(StoreKind::sqlite);
  HttpClient c(server.port());
  struct Case {
    const char* target;
    const char* code;
  };
  const Case cases[] = {
      {"/api/v1/products?colour=red", "unknown_parameter"},
      {"/api/v1/products?limit=5&colour=red", "unknown_parameter"},
      {"/api/v1/products?limit=five", "invalid_type"},
      {"/api/v1/products?limit=", "invalid_type"},
      {"/api/v1/products?campaign_id=1x", "invalid_type"},
      {"/api/v1/public/statistics", "missing_field"},
  };
  for (const auto& k : cases) {
    CAPTURE(k.target);
    auto reply = c.request("GET", k.target);
    CHECK(reply.status == 400);
    CHECK(error_code(reply) == k.code);
  }
  CHECK(c.request("GET", "/api/v1/products?limit=5").status == 200);
}

namespace {

enum class Seen { whole, masked, nothing };

Seen household_seen(HttpClient& c, const std::string& token) {
  auto reply = c.request("GET", "/api/v1/households/1", "", bearer(token));
  if (reply.status == 404) return Seen::nothing;
  REQUIRE(reply.status == 200);
  if (reply.body.find("620621197803150012") != std::string::npos) return Seen::whole;
  CHECK(reply.body.find("620621********0012") != std::string::npos);
  CHECK(reply.body.find("birth_year") == std::string::npos);
  CHECK(reply.body.find("health") == std::string::npos);
  return Seen::masked;
}

}  // namespace

TEST_CASE("each role sees a household card whole, masked or not at all, as the policy says",
          "[http][access][policy]") {
  TestServer server(StoreKind::sqlite);
  HttpClient c(server.port());
  const std::vector<std::pair<std::string, Seen>> table = {
      {"13900000001", Seen::whole},    // the household's own farmer
      {"13900000009", Seen::nothing},  // another household's farmer
      {"13900000007", Seen::whole},    // the county office
      {"13900000010", Seen::whole},    // the township office of its village
      {"13900000006", Seen::masked},   // the county centre
      {"13600000001", Seen::masked},   // the household's helper
      {"13900000008", Seen::masked},   // admin
      {"13900000002", Seen::nothing},  // a shop manager
      {"13900000003", Seen::nothing},  // a consumer
      {"13900000004", Seen::nothing},  // an organisation buyer
      {"13900000005", Seen::nothing},  // a station operator
  };
  for (const auto& [phone, seen] : table) {
    CAPTURE(phone);
    CHECK(household_seen(c, server.login(phone)) == seen);
  }
}

TEST_CASE("each role sees an order only as its buyer, its shop, the area's staff or admin",
          "[http][access][policy]") {
  TestServer server(StoreKind::sqlite);
  HttpClient c(server.port());
  const auto bought = buy(server, c, server.login(kConsumer));
  const std::string path = "/api/v1/orders/" + std::to_string(bought.order);
  const std::vector<std::pair<std::string, int>> table = {
      {"13900000003", 200},  // its buyer
      {"13900000001", 200},  // the farmer whose shop sells it
      {"13900000009", 404},  // another farmer
      {"13900000006", 200},  // the county centre
      {"13900000007", 200},  // the county office
      {"13900000008", 200},  // admin
      {"13900000002", 404},  // another shop's manager
      {"13900000004", 404},  // another buyer
      {"13900000005", 404},  // a station operator
      {"13600000001", 404},  // a helper
  };
  for (const auto& [phone, status] : table) {
    CAPTURE(phone);
    CHECK(c.request("GET", path, "", bearer(server.login(phone))).status == status);
  }
}

TEST_CASE("the OpenAPI document passes the OpenAPI linter with no error", "[http][openapi][lint]") {
  TestServer server(StoreKind::sqlite);
  HttpClient c(server.port());
  auto reply = c.request("GET", "/api/v1/openapi.json");
  REQUIRE(reply.status == 200);
  const std::string dir = temp_dir();
  const std::string file = dir + "/openapi.json";
  {
    std::ofstream out(file);
    out << reply.body;
  }
  // The linter is installed by deploy/test.sh from tests/tools/package-lock.json.
  const std::string command = std::string(REDOCLY) + " lint --format=stylish " + file + " 2>&1";
  std::string output;
  FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, pipe)) output.append(buf, n);
  const int status = ::pclose(pipe);
  INFO(output);
  CHECK(status == 0);
  std::filesystem::remove_all(dir);
}
