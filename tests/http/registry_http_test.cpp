// The household registry over real TCP: who sees what, and the audit trail.
#include "core/json.hpp"
#include "marketplace/integrity.hpp"
#include "tests/support/server.hpp"

using namespace cunhuo;
using namespace cunhuo::test;
namespace mk = cunhuo::marketplace;

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
  CHECK(centre.body.find("620621197803150013") == std::string::npos);
  CHECK(centre.body.find("620621********0013") != std::string::npos);
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

namespace {

// kCard with its head's ID number replaced.
std::string card_with_id(const std::string& id_number) {
  std::string card = kCard;
  card.replace(card.find("620621197001010019"), 18, id_number);
  return card;
}

void add_office(TestServer& server, const std::string& phone, const std::string& region) {
  storefront::Auth auth(server.app().db(), server.clock());
  REQUIRE(server.app()
              .db()
              .write([&](db::Session& tx) {
                return auth.create_account(
                    tx, storefront::NewAccount{.phone = phone,
                                               .password = "cunhuo-demo",
                                               .display_name = "测试干部",
                                               .role = storefront::Role::poverty_office,
                                               .region_code = region});
              })
              .ok());
}

}  // namespace

STORE_TEST("an ID number failing its check or on another card is refused and writes nothing",
           "[http][registry][registry-integrity]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string office = server.login("13900000007");
  struct Case {
    const char* why;
    std::string id_number;
    int status;
    std::string code;
  };
  const std::vector<Case> cases = {
      {"not 18 characters", "62062119700101001", 400, "invalid_id_number"},
      {"no such birth date", "620621197002300012", 400, "invalid_id_number"},
      {"a wrong check character", "620621197001010018", 400, "invalid_id_number"},
      {"王建国's number, on the seed's card", "620621197803150013", 409, "id_number_taken"},
  };
  for (const auto& k : cases) {
    INFO(k.why);
    auto refused = c.request("POST", "/api/v1/households", new_household(card_with_id(k.id_number)),
                             bearer(office));
    CHECK(refused.status == k.status);
    CHECK(error_code(refused) == k.code);
    CHECK(error_field(refused) == "members[0].id_number");
    CHECK(refused.body.find("household_id") == std::string::npos);  // which card: not said
  }
  CHECK(server.count("SELECT COUNT(*) FROM households") == 6);
}

STORE_TEST("a shared phone's other household is not named to an office outside its area",
           "[http][registry][registry-integrity]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  add_office(server, "13900000033", "620622");
  const std::string here = server.login("13900000007"), elsewhere = server.login("13900000033");
  REQUIRE(c.request("POST", "/api/v1/households", new_household(), bearer(here)).status == 201);
  // The neighbouring county registers a household with the same phone.
  auto theirs = c.request("POST", "/api/v1/households",
                          new_household(card_with_id("620622198808080019"), "620622100201"),
                          bearer(elsewhere));
  REQUIRE(theirs.status == 201);
  auto listed =
      c.request("GET", "/api/v1/registry/issues?kind=duplicate_phone", "", bearer(elsewhere));
  REQUIRE(listed.status == 200);
  auto items = Json::parse(listed.body)->find("items")->as_array();
  REQUIRE(items.size() == 1);
  CHECK(items[0].find("household_id")->as_integer() == json_int(theirs.body, "id"));
  CHECK(items[0].find("other_household_id") == nullptr);  // in 620621: not theirs to know
}

STORE_TEST("the office sees shared phones of its area and merges the duplicate",
           "[http][registry][registry-integrity]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string office = server.login("13900000007");
  add_office(server, "13900000033", "620622");
  auto first = c.request("POST", "/api/v1/households", new_household(), bearer(office));
  auto second = c.request("POST", "/api/v1/households",
                          new_household(card_with_id("620621198808080012")), bearer(office));
  REQUIRE(first.status == 201);
  REQUIRE(second.status == 201);  // a shared phone is flagged, not refused
  const auto kept = json_int(first.body, "id"), gone = json_int(second.body, "id");
  auto listed =
      c.request("GET", "/api/v1/registry/issues?kind=duplicate_phone", "", bearer(office));
  REQUIRE(listed.status == 200);
  auto items = Json::parse(listed.body)->find("items")->as_array();
  REQUIRE(items.size() == 1);
  CHECK(items[0].find("household_id")->as_integer() == gone);
  CHECK(items[0].find("other_household_id")->as_integer() == kept);
  const std::string resolution = "/api/v1/registry/issues/" +
                                 std::to_string(items[0].find("id")->as_integer()) + "/resolution";
  const std::string merge = R"({"action":"merge","reason":"同一户重复登记","into_household_id":)" +
                            std::to_string(kept) + "}";
  const std::string elsewhere = server.login("13900000033");
  CHECK(Json::parse(c.request("GET", "/api/v1/registry/issues", "", bearer(elsewhere)).body)
            ->find("items")
            ->as_array()
            .empty());
  CHECK(c.request("POST", resolution, merge, bearer(elsewhere)).status == 404);
  auto merged = c.request("POST", resolution, merge, bearer(office));
  REQUIRE(merged.status == 200);
  CHECK(merged.body.find(R"("resolved":true)") != std::string::npos);
  auto card = c.request("GET", "/api/v1/households/" + std::to_string(kept), "", bearer(office));
  CHECK(Json::parse(card.body)->find("members")->as_array().size() == 2);
  auto trail =
      c.request("GET", "/api/v1/households/" + std::to_string(gone) + "/audit", "", bearer(office));
  CHECK(trail.body.find(R"("field":"merged_into","old":"","new":")" + std::to_string(kept) +
                        R"(","reason":"同一户重复登记")") != std::string::npos);
  CHECK(error_code(c.request("POST", resolution, merge, bearer(office))) == "issue_resolved");
  CHECK(c.request("PATCH", "/api/v1/households/" + std::to_string(gone),
                  R"({"card":)" + kCard + R"(,"reason":"x"})", bearer(office))
            .status == 409);  // a merged household is changed through the one it joined
}

STORE_TEST("a merged household's farmer account then acts for the household kept",
           "[http][registry][registry-integrity]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string office = server.login("13900000007");
  auto first = c.request("POST", "/api/v1/households", new_household(), bearer(office));
  auto second = c.request("POST", "/api/v1/households",
                          new_household(card_with_id("620621198808080012")), bearer(office));
  const auto kept = json_int(first.body, "id"), gone = json_int(second.body, "id");
  // The duplicate's farmer had an account, tied to it.
  REQUIRE(server.app()
              .db()
              .write([&](db::Session& tx) -> Status {
                CUNHUO_TRY(tx.exec("UPDATE accounts SET household_id = ? WHERE phone = ?",
                                   {gone, std::string("13900000009")}));
                return {};
              })
              .ok());
  const std::string farmer = server.login("13900000009");
  CHECK(json_int(c.request("GET", "/api/v1/me", "", bearer(farmer)).body, "household_id") == gone);
  auto listed =
      c.request("GET", "/api/v1/registry/issues?kind=duplicate_phone", "", bearer(office));
  auto doc = Json::parse(listed.body);
  REQUIRE(doc.ok());
  REQUIRE(doc->find("items")->as_array().size() == 1);
  const auto issue = doc->find("items")->as_array().front().find("id")->as_integer();
  auto merged =
      c.request("POST", "/api/v1/registry/issues/" + std::to_string(issue) + "/resolution",
                R"({"action":"merge","reason":"同一户重复登记","into_household_id":)" +
                    std::to_string(kept) + "}",
                bearer(office));
  REQUIRE(merged.status == 200);
  CHECK(json_int(c.request("GET", "/api/v1/me", "", bearer(farmer)).body, "household_id") == kept);
}

STORE_TEST("a scan raises old suspect cards, listed a page at a time", "[http][registry]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string office = server.login("13900000007");
  REQUIRE(server.app()
              .db()
              .write([&](db::Session& tx) -> Status {
                // Imported before the checks: a bad check character and a child as head.
                CUNHUO_TRY(tx.exec(
                    "UPDATE households SET head_id_number = '620621198504090044' WHERE id = 4"));
                CUNHUO_TRY(tx.exec(
                    "UPDATE households SET head_id_number = '620621201401010017' WHERE id = 6"));
                return {};
              })
              .ok());
  auto scanned = c.request("POST", "/api/v1/registry/issues/scan", "", bearer(office));
  REQUIRE(scanned.status == 200);
  CHECK(json_int(scanned.body, "raised") == 2);
  auto first = c.request("GET", "/api/v1/registry/issues?kind=suspect&limit=1", "", bearer(office));
  REQUIRE(first.status == 200);
  auto doc = Json::parse(first.body);
  CHECK(doc->find("items")->as_array()[0].find("household_id")->as_integer() == 4);
  auto second = c.request("GET",
                          "/api/v1/registry/issues?kind=suspect&limit=1&cursor=" +
                              doc->find("next_cursor")->as_string(),
                          "", bearer(office));
  auto next = Json::parse(second.body);
  CHECK(next->find("items")->as_array()[0].find("detail")->as_string() == "head_under_16");
  CHECK(next->find("next_cursor")->is_null());
  auto fixed =
      c.request("POST",
                "/api/v1/registry/issues/" +
                    std::to_string(doc->find("items")->as_array()[0].find("id")->as_integer()) +
                    "/resolution",
                R"({"action":"correct","reason":"按户口簿更正","field":"id_number",)"
                R"("value":"620621198504090043"})",
                bearer(office));
  CHECK(fixed.status == 200);
  CHECK(error_code(c.request("GET", "/api/v1/registry/issues?kind=odd", "", bearer(office))) ==
        "invalid_kind");
}

STORE_TEST("a scan over more than one batch looks at every household of the area once",
           "[http][registry][registry-scan]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string office = server.login("13900000007");
  // Old rows, more than two batches of them; the first and the last share a phone, so the
  // pair lies in different batches.
  const std::int64_t old_rows = 2 * mk::kRegistryScanBatch + 1;
  REQUIRE(server.app()
              .db()
              .write([&](db::Session& tx) -> Status {
                for (std::int64_t i = 0; i < old_rows; ++i)
                  CUNHUO_TRY(tx.exec(
                      "INSERT INTO households (village_code, head_name, head_id_number, phone, "
                      "member_count, poverty_status, created_at, updated_at) VALUES "
                      "('620621104202', '旧户', '620621197001010019', ?, 1, 'registered_poor', 0, "
                      "0)",
                      {i == 0 || i == old_rows - 1 ? std::string("13700000000")
                                                   : "137" + std::to_string(10000000 + i)}));
                return {};
              })
              .ok());
  const std::int64_t in_area =
      server.count("SELECT COUNT(*) FROM households WHERE village_code LIKE '620621%'");
  REQUIRE(in_area > 2 * mk::kRegistryScanBatch);
  auto scanned = c.request("POST", "/api/v1/registry/issues/scan", "", bearer(office));
  REQUIRE(scanned.status == 200);
  CHECK(json_int(scanned.body, "households") == in_area);
  CHECK(server.count("SELECT COUNT(*) FROM registry_issues WHERE kind = 'duplicate_phone' AND "
                     "detail = 'phone' AND other_household_id = (SELECT MIN(id) FROM households "
                     "WHERE phone = '13700000000')") == 1);
}

STORE_TEST("a second scan of an area started too soon is refused",
           "[http][registry][registry-scan]") {
  TestServer server(store_kind, kTestSeed, {}, ServerClock::manual);
  HttpClient c(server.port());
  const std::string county = server.login("13900000007");
  const std::string township = server.login("13900000010");
  auto scan = [&](const std::string& token) {
    return c.request("POST", "/api/v1/registry/issues/scan", "", bearer(token));
  };
  REQUIRE(scan(county).status == 200);
  auto again = scan(county);
  CHECK(again.status == 409);
  CHECK(error_code(again) == mk::kScanTooSoon);
  CHECK(scan(township).status == 200);  // another area: its own scan
  server.advance(std::chrono::milliseconds(mk::kMinRegistryScanIntervalMs));
  CHECK(scan(county).status == 200);
}
