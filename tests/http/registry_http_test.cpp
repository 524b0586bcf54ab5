// The household registry over real TCP: who sees what, and the audit trail.
#include "core/json.hpp"
#include "tests/support/server.hpp"

using namespace cunhuo;
using namespace cunhuo::test;

namespace {

const std::string kCard =
    R"({"members":[{"name":"周大山","relationship":"head","birth_year":1970,)"
    R"("health":"chronic_illness",)"
    R"("education":"primary","id_number":"620621197001010019","medical_insurance":true}],)"
    R"("causes":["illness"],"land_mu_hundredths":600,"housing":"safe","drinking_water":"safe",)"
    R"("income":{"year":2025,"wages_fen":300000,"own_business_fen":0,"property_fen":0,)"
    R"("transfers_fen":200000},)"
    R"("helper":{"name":"陈志刚","phone":"13600000001"}})";

std::string new_household(const std::string& card = kCard,
                          const std::string& village = "620621104202") {
  return R"({"village_code":")" + village +
         R"(","phone":"13800000099","status":"registered_poor","card":)" + card + "}";
}

}  // namespace

STORE_TEST("the office registers a household and every change to its card is audited",
           "[http][registry]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string office = server.login("13900000007");
  auto created = c.request("POST", "/api/v1/households", new_household(), bearer(office));
  REQUIRE(created.status == 201);
  auto doc = Json::parse(created.body);
  const std::string path = "/api/v1/households/" + std::to_string(doc->find("id")->as_integer());
  std::string card = kCard;
  card.replace(card.find("\"housing\":\"safe\""), 16, "\"housing\":\"unsafe\"");
  auto changed =
      c.request("PATCH", path,
                R"({"card":)" + card + R"(,"status":"at_risk","reason":"house damaged by flood"})",
                bearer(office));
  REQUIRE(changed.status == 200);
  CHECK(changed.body.find("\"status\":\"at_risk\"") != std::string::npos);
  auto audit = c.request("GET", path + "/audit", "", bearer(office));
  CHECK(audit.status == 200);
  CHECK(audit.body.find(R"("field":"housing","old":"safe","new":"unsafe")") != std::string::npos);
  CHECK(audit.body.find(R"("field":"status","old":"registered_poor","new":"at_risk")") !=
        std::string::npos);
  auto no_reason = c.request("PATCH", path, R"({"card":)" + card + "}", bearer(office));
  CHECK(no_reason.status == 400);
  CHECK(error_field(no_reason) == "reason");
}

STORE_TEST("the county centre sees a card masked, a consumer and another farmer not at all",
           "[http][registry][access]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  auto centre = c.request("GET", "/api/v1/households/1", "", bearer(server.login("13900000006")));
  CHECK(centre.status == 200);
  CHECK(centre.body.find("620621197803150012") == std::string::npos);
  CHECK(centre.body.find("620621********0012") != std::string::npos);
  CHECK(centre.body.find("王*国") != std::string::npos);
  CHECK(centre.body.find("chronic_illness") ==
        std::string::npos);  // health details never leave the office
  CHECK(centre.body.find("birth_year") == std::string::npos);  // nor ages beside a masked name
  auto own = c.request("GET", "/api/v1/households/1", "", bearer(server.login("13900000001")));
  CHECK(own.status == 200);
  CHECK(c.request("GET", "/api/v1/households/1", "", bearer(server.login("13900000009"))).status ==
        404);
  CHECK(c.request("GET", "/api/v1/households/1", "", bearer(server.login("13900000003"))).status ==
        404);
  CHECK(c.request("GET", "/api/v1/households/1/audit", "", bearer(server.login("13900000006")))
            .status == 403);
}

STORE_TEST("bad cards are refused with the field named and write nothing",
           "[http][registry][bad-input]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string office = server.login("13900000007");
  auto with = [&](const std::string& from, const std::string& to) {
    std::string card = kCard;
    card.replace(card.find(from), from.size(), to);
    return c.request("POST", "/api/v1/households", new_household(card), bearer(office));
  };
  CHECK(error_field(with("\"causes\":[\"illness\"]", "\"causes\":[\"bad_luck\"]")) == "causes[0]");
  CHECK(error_field(with("620621197001010019", "62062119700101001")) == "members[0].id_number");
  CHECK(error_field(with("\"relationship\":\"head\"", "\"relationship\":\"spouse\"")) ==
        "members[0].relationship");
  CHECK(error_field(with("\"wages_fen\":300000", "\"wages_fen\":-1")) == "income.wages_fen");
  CHECK(error_field(with("\"birth_year\":1970", "\"birth_year\":\"1970\"")) ==
        "card.members[0].birth_year");
  auto elsewhere =
      c.request("POST", "/api/v1/households", new_household(kCard, "620622104202"), bearer(office));
  CHECK(elsewhere.status == 403);
  auto by_farmer =
      c.request("POST", "/api/v1/households", new_household(), bearer(server.login("13900000001")));
  CHECK(by_farmer.status == 403);
  CHECK(server.count("SELECT COUNT(*) FROM households") == 6);  // the seed's, nothing more
  CHECK(server.count("SELECT COUNT(*) FROM household_members WHERE name = '周大山'") == 0);
}
