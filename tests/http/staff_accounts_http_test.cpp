// Accounts made by the people who vouch for them (issue 13): a county office makes its
// township offices and helpers, a centre its station operators, a cooperative invites its
// member farmers, and an office ties a farmer to a household after checking the card.
// Refusal tables are ordered by which refusal takes precedence, and write nothing.
#include "core/json.hpp"
#include "logistics/network.hpp"
#include "marketplace/registry.hpp"
#include "messaging/phone_codes.hpp"
#include "tests/support/server.hpp"

using namespace cunhuo;
using namespace cunhuo::test;

namespace {

// Seed accounts (tests/support/server.hpp's default seed).
const std::string kCountyOffice = "13900000007", kTownshipOffice = "13900000010",
                  kCentre = "13900000006", kStation = "13900000005", kShopManager = "13900000002",
                  kConsumer = "13900000003", kFarmer = "13900000001", kAdmin = "13900000008";
// Card phones of seed households (the heads' own phones, not their accounts').
const std::string kZhangCard = "13800000003";  // 西渠镇首好村, a member of the 西渠 cooperative
const std::string kMaCard = "13800000005";  // 东坝镇, a member of no cooperative

struct Case {
  std::string who;  // a seed account's phone, or "" for no session
  std::string body;
  int status;
  std::string code;
};

std::string token_of(TestServer& server, const std::string& who) {
  return who.empty() ? "" : server.login(who);
}

Headers auth_headers(const std::string& token) {
  return token.empty() ? Headers{{"Content-Type", "application/json"}} : bearer(token);
}

void check_refusals(TestServer& server, const std::string& method, const std::string& path,
                    const std::vector<Case>& table) {
  HttpClient c(server.port());
  for (const auto& r : table) {
    CAPTURE(r.who, r.body);
    auto reply = c.request(method, path, r.body, auth_headers(token_of(server, r.who)));
    CHECK(reply.status == r.status);
    CHECK(error_code(reply) == r.code);
  }
}

std::string staff(const std::string& phone, const std::string& role, const std::string& place) {
  return R"({"phone":")" + phone + R"(","display_name":"新同事","role":")" + role + "\"," + place +
         "}";
}

std::string region(const std::string& code) { return R"("region_code":")" + code + "\""; }
std::string node(const std::string& code) { return R"("node_code":")" + code + "\""; }

std::int64_t household_with_card(TestServer& server, const std::string& phone) {
  return server.count("SELECT id FROM households WHERE phone = '" + phone + "'");
}

std::int64_t coop_of(TestServer& server, const std::string& manager) {
  HttpClient c(server.port());
  auto me = c.request("GET", "/api/v1/me", "", bearer(server.login(manager)));
  REQUIRE(me.status == 200);
  return json_int(me.body, "shop_id");
}

std::string invitation(const std::string& phone, std::int64_t household) {
  return R"({"phone":")" + phone + R"(","display_name":"张明德","household_id":)" +
         std::to_string(household) + "}";
}

std::string invitations_of(std::int64_t shop) {
  return "/api/v1/shops/" + std::to_string(shop) + "/invitations";
}

// The claim id of an invitation's answer.
std::int64_t claim_id(const HttpReply& reply) {
  auto doc = Json::parse(reply.body);
  REQUIRE(doc.ok());
  return doc->find("claim")->find("id")->as_integer();
}

const Json* account_in(const Json& doc) { return doc.find("account"); }

// Invites Zhang (household 3 of the seed) to the 西渠 cooperative with `phone`.
HttpReply invite_zhang(TestServer& server, HttpClient& c, const std::string& phone) {
  return post_json(c, invitations_of(coop_of(server, kShopManager)),
                   invitation(phone, household_with_card(server, kZhangCard)),
                   bearer(server.login(kShopManager)));
}

std::string decision_path(std::int64_t claim) {
  return "/api/v1/farmer-claims/" + std::to_string(claim) + "/decision";
}

// A node of another county, for the centre's refusals (the seed has one county).
void add_node_elsewhere(TestServer& server) {
  auto made = server.app().db().write([&](db::Session& tx) {
    return logistics::create_node(tx,
                                  {.code = "GL-TS-01",
                                   .kind = logistics::NodeKind::township_station,
                                   .name = "邻县某镇电商服务站",
                                   .region_code = "620622101",
                                   .cold_capacity_crates = 0,
                                   .lat_e6 = std::nullopt,
                                   .lon_e6 = std::nullopt,
                                   .min_centi = std::nullopt,
                                   .max_centi = std::nullopt},
                                  server.clock());
  });
  REQUIRE(made.ok());
}

// A household of another county, for the cooperative's refusals.
std::int64_t household_elsewhere(TestServer& server) {
  auto made = server.app().db().write([&](db::Session& tx) {
    return marketplace::create_household(tx,
                                         {.village_code = "620622101201",
                                          .head_name = "邻县户主",
                                          .head_id_number = "620622197001010015",
                                          .phone = "13800000099",
                                          .member_count = 3,
                                          .status = marketplace::PovertyStatus::registered_poor},
                                         server.clock());
  });
  REQUIRE(made.ok());
  return made->value;
}

}  // namespace

STORE_TEST(
    "a county office makes a township office and a helper of its county, who have no "
    "password",
    "[http][staff-accounts]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string office = server.login(kCountyOffice);
  auto township =
      post_json(c, "/api/v1/accounts/staff",
                staff("13700000001", "poverty_office", region("620621101")), bearer(office));
  REQUIRE(township.status == 201);
  CHECK(township.body.find(R"("role":"poverty_office")") != std::string::npos);
  CHECK(township.body.find(R"("region_code":"620621101")") != std::string::npos);
  CHECK(township.body.find("13700000001") == std::string::npos);  // the phone is masked
  auto helper = post_json(c, "/api/v1/accounts/staff",
                          staff("13700000002", "helper", region("620621104202")), bearer(office));
  REQUIRE(helper.status == 201);
  // Made for someone else, they log in by a code to their phone, never by a password.
  auto login =
      post_json(c, "/api/v1/sessions", R"({"phone":"13700000001","password":"cunhuo-demo"})");
  CHECK(login.status == 401);
  CHECK(server.count("SELECT COUNT(*) FROM account_audit WHERE action = 'account_created'") == 2);
}

STORE_TEST("a county centre makes a station operator placed at a station of its county",
           "[http][staff-accounts]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  auto made = post_json(c, "/api/v1/accounts/staff",
                        staff("13700000003", "station_operator", node("MQ-TS-SL")),
                        bearer(server.login(kCentre)));
  REQUIRE(made.status == 201);
  const std::int64_t station = server.count("SELECT id FROM network_nodes WHERE code = 'MQ-TS-SL'");
  CHECK(json_int(made.body, "node_id") == station);
  CHECK(made.body.find(R"("region_code":"620621101")") != std::string::npos);
}

STORE_TEST("an admin makes an office, a helper and a station operator anywhere",
           "[http][staff-accounts]") {
  TestServer server(store_kind);
  add_node_elsewhere(server);
  HttpClient c(server.port());
  const std::string admin = server.login(kAdmin);
  for (const auto& body : {staff("13700000004", "poverty_office", region("620622")),
                           staff("13700000005", "helper", region("620622101")),
                           staff("13700000006", "station_operator", node("GL-TS-01"))}) {
    CAPTURE(body);
    CHECK(post_json(c, "/api/v1/accounts/staff", body, bearer(admin)).status == 201);
  }
}

STORE_TEST("staff accounts are refused, in order of precedence, and the refusals write nothing",
           "[http][staff-accounts]") {
  TestServer server(store_kind);
  add_node_elsewhere(server);
  const std::int64_t accounts = server.count("SELECT COUNT(*) FROM accounts");
  const std::string helper = staff("13700000010", "helper", region("620621104"));
  check_refusals(
      server, "POST", "/api/v1/accounts/staff",
      {
          {"", "{}", 401, "unauthenticated"},
          {kConsumer, "{}", 403, "role_not_allowed"},
          {kStation, helper, 403, "role_not_allowed"},
          {kCountyOffice, R"({"display_name":"x","role":"helper"})", 400, "missing_field"},
          {kCountyOffice, staff("12345", "helper", region("620622")), 400, "invalid_phone"},
          {kCountyOffice, staff("13700000010", "pilot", region("620622")), 400, "invalid_role"},
          {kTownshipOffice, staff("13700000010", "farmer", region("620622")), 403,
           "county_office_only"},
          {kCountyOffice, staff("13700000010", "station_operator", node("MQ-TS-SL")), 400,
           "role_not_creatable"},
          {kCentre, staff("13700000010", "helper", region("620622")), 400, "role_not_creatable"},
          {kCountyOffice, staff("13700000010", "poverty_office", region("620622")), 400,
           "invalid_region_level"},
          {kCountyOffice, staff("13700000010", "helper", node("MQ-TS-SL")), 400,
           "region_code_only"},
          {kCentre, staff("13700000010", "station_operator", region("620621101")), 400,
           "node_code_only"},
          {kCentre, staff("13700000010", "station_operator", node("MQ-NONE")), 400, "unknown_node"},
          {kCentre, staff("13700000010", "station_operator", node("MQ-CS-XQ")), 400,
           "not_a_station"},
          {kCountyOffice, staff("13700000010", "poverty_office", region("620622101")), 403,
           "outside_your_area"},
          {kCountyOffice, staff("13700000010", "helper", region("620622")), 403,
           "outside_your_area"},
          {kCentre, staff("13700000010", "station_operator", node("GL-TS-01")), 403,
           "outside_your_area"},
          {kCountyOffice, staff(kFarmer, "helper", region("620621104")), 409, "duplicate_phone"},
      });
  CHECK(server.count("SELECT COUNT(*) FROM accounts") == accounts);
  CHECK(server.count("SELECT COUNT(*) FROM account_audit") == 0);
}

STORE_TEST("a cooperative's manager invites a member farmer, whose account waits for the office",
           "[http][staff-accounts]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  auto invited = invite_zhang(server, c, kZhangCard);
  REQUIRE(invited.status == 201);
  auto doc = Json::parse(invited.body);
  REQUIRE(doc.ok());
  CHECK(doc->find("claim")->find("status")->as_string() == "pending");
  CHECK(doc->find("claim")->find("household_id")->as_integer() ==
        household_with_card(server, kZhangCard));
  CHECK(account_in(*doc)->find("role")->as_string() == "farmer");
  CHECK(account_in(*doc)->find("household_id") == nullptr);  // not until the office confirms
  CHECK(server.count("SELECT COUNT(*) FROM accounts WHERE phone = '" + kZhangCard +
                     "' AND household_id IS NULL") == 1);
  CHECK(server.count("SELECT COUNT(*) FROM account_audit WHERE action = 'farmer_invited'") == 1);
}

STORE_TEST("invitations are refused, in order of precedence, and the refusals write nothing",
           "[http][staff-accounts]") {
  TestServer server(store_kind);
  const std::int64_t elsewhere = household_elsewhere(server);
  const std::int64_t coop = coop_of(server, kShopManager);
  const std::int64_t zhang = household_with_card(server, kZhangCard);
  const std::int64_t accounts = server.count("SELECT COUNT(*) FROM accounts");
  const std::string good = invitation("13700000020", zhang);
  check_refusals(
      server, "POST", invitations_of(coop),
      {
          {"", "{}", 401, "unauthenticated"},
          {kFarmer, good, 403, "role_not_allowed"},
          {kCountyOffice, good, 403, "role_not_allowed"},
          {kShopManager, R"({"phone":"13700000020","display_name":"x"})", 400, "missing_field"},
          {kShopManager, invitation("1370", zhang), 400, "invalid_phone"},
          {kShopManager, invitation("13700000020", 99999), 400, "unknown_household"},
          {kShopManager, invitation("13700000020", elsewhere), 403, "outside_your_area"},
          {kShopManager, invitation("13700000020", household_with_card(server, kMaCard)), 400,
           "not_a_member"},
          {kShopManager, invitation(kFarmer, zhang), 409, "duplicate_phone"},
      });
  // Another cooperative is not the manager's: it answers as an unknown one does.
  const std::int64_t other = server.count(
      "SELECT MAX(id) FROM shops WHERE kind = 'cooperative' AND id <> " + std::to_string(coop));
  check_refusals(server, "POST", invitations_of(other), {{kShopManager, good, 404, "not_found"}});
  const std::int64_t household_shop =
      server.count("SELECT MIN(id) FROM shops WHERE kind = 'household'");
  check_refusals(server, "POST", invitations_of(household_shop),
                 {{kAdmin, good, 409, "not_a_cooperative"}});
  CHECK(server.count("SELECT COUNT(*) FROM accounts") == accounts);
  CHECK(server.count("SELECT COUNT(*) FROM farmer_claims") == 0);
  CHECK(server.count("SELECT COUNT(*) FROM account_audit") == 0);
}

STORE_TEST("the township office confirms a claim whose phone is the card's, tying the household",
           "[http][staff-accounts]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::int64_t claim = claim_id(invite_zhang(server, c, kZhangCard));
  const std::string township = server.login(kTownshipOffice);
  auto pending = c.request("GET", "/api/v1/farmer-claims?status=pending", "", bearer(township));
  REQUIRE(pending.status == 200);
  CHECK(pending.body.find("\"id\":" + std::to_string(claim)) != std::string::npos);
  auto decided = post_json(c, decision_path(claim), R"({"approve":true})", bearer(township));
  REQUIRE(decided.status == 200);
  auto doc = Json::parse(decided.body);
  REQUIRE(doc.ok());
  CHECK(doc->find("claim")->find("status")->as_string() == "confirmed");
  CHECK(doc->find("claim")->find("phone_matched")->as_bool());
  CHECK(account_in(*doc)->find("household_id")->as_integer() ==
        household_with_card(server, kZhangCard));
  CHECK(account_in(*doc)->find("region_code")->as_string() == "620621104202");
  auto again = post_json(c, decision_path(claim), R"({"approve":true})", bearer(township));
  CHECK(again.status == 409);
  CHECK(error_code(again) == "claim_decided");
}

STORE_TEST("a phone that is not the card's is confirmed only with a reason, which the claim keeps",
           "[http][staff-accounts]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::int64_t claim = claim_id(invite_zhang(server, c, "13700000030"));
  const std::string office = server.login(kCountyOffice);
  auto bare = post_json(c, decision_path(claim), R"({"approve":true})", bearer(office));
  CHECK(bare.status == 409);
  CHECK(error_code(bare) == "phone_mismatch");
  CHECK(server.count("SELECT COUNT(*) FROM accounts WHERE phone = '13700000030' AND "
                     "household_id IS NULL") == 1);
  auto reasoned = post_json(c, decision_path(claim),
                            R"({"approve":true,"reason":"户主之子，到村核实，手机号为本人所用"})",
                            bearer(office));
  REQUIRE(reasoned.status == 200);
  CHECK(reasoned.body.find(R"("phone_matched":false)") != std::string::npos);
  CHECK(reasoned.body.find("到村核实") != std::string::npos);
}

STORE_TEST("a refused claim leaves the account without a household, and needs a reason",
           "[http][staff-accounts]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::int64_t claim = claim_id(invite_zhang(server, c, kZhangCard));
  const std::string office = server.login(kTownshipOffice);
  auto bare = post_json(c, decision_path(claim), R"({"approve":false})", bearer(office));
  CHECK(bare.status == 400);
  CHECK(error_field(bare) == "reason");
  auto refused = post_json(c, decision_path(claim), R"({"approve":false,"reason":"非本户成员"})",
                           bearer(office));
  REQUIRE(refused.status == 200);
  CHECK(refused.body.find(R"("status":"refused")") != std::string::npos);
  CHECK(server.count("SELECT COUNT(*) FROM accounts WHERE phone = '" + kZhangCard +
                     "' AND household_id IS NULL") == 1);
  CHECK(server.count("SELECT COUNT(*) FROM account_audit WHERE action = 'claim_refused'") == 1);
}

STORE_TEST("an office sees and decides only the claims of its own area", "[http][staff-accounts]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  // The 三雷镇 cooperative has no manager in the seed: an admin invites for it.
  const std::int64_t sanlei = server.count(
      "SELECT id FROM shops WHERE kind = 'cooperative' AND village_code LIKE '620621101%'");
  const std::int64_t zhao = server.count("SELECT id FROM households WHERE phone = '13800000004'");
  auto invited = post_json(c, invitations_of(sanlei), invitation("13800000004", zhao),
                           bearer(server.login(kAdmin)));
  REQUIRE(invited.status == 201);
  const std::int64_t claim = claim_id(invited);
  const std::string township = server.login(kTownshipOffice);  // 西渠镇, not 三雷镇
  auto listed = c.request("GET", "/api/v1/farmer-claims", "", bearer(township));
  REQUIRE(listed.status == 200);
  CHECK(listed.body.find(R"("claims":[])") != std::string::npos);
  auto decided = post_json(c, decision_path(claim), R"({"approve":true})", bearer(township));
  CHECK(decided.status == 404);
  auto county = c.request("GET", "/api/v1/farmer-claims?status=pending", "",
                          bearer(server.login(kCountyOffice)));
  CHECK(county.body.find("\"id\":" + std::to_string(claim)) != std::string::npos);
}

STORE_TEST("claims come a page at a time, and a changed cursor is refused",
           "[http][staff-accounts]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string manager = server.login(kShopManager);
  const std::int64_t coop = coop_of(server, kShopManager);
  const std::vector<std::pair<std::string, std::string>> members = {
      {"13700000041", "13800000001"}, {"13700000042", "13800000002"}, {"13700000043", kZhangCard}};
  for (const auto& [phone, card] : members)
    REQUIRE(post_json(c, invitations_of(coop), invitation(phone, household_with_card(server, card)),
                      bearer(manager))
                .status == 201);
  const std::string office = server.login(kTownshipOffice);
  auto first = c.request("GET", "/api/v1/farmer-claims?limit=2", "", bearer(office));
  REQUIRE(first.status == 200);
  auto doc = Json::parse(first.body);
  REQUIRE(doc.ok());
  CHECK(doc->find("claims")->as_array().size() == 2);
  const std::string cursor = doc->find("next_cursor")->as_string();
  auto second =
      c.request("GET", "/api/v1/farmer-claims?limit=2&cursor=" + cursor, "", bearer(office));
  REQUIRE(second.status == 200);
  auto rest = Json::parse(second.body);
  REQUIRE(rest.ok());
  CHECK(rest->find("claims")->as_array().size() == 1);
  CHECK(rest->find("next_cursor")->is_null());
  // The cursor belongs to this list: with a status filter it is another list.
  auto other =
      c.request("GET", "/api/v1/farmer-claims?status=pending&cursor=" + cursor, "", bearer(office));
  CHECK(error_code(other) == "invalid_cursor");
}

STORE_TEST("the county office reads its county's account audit; others are refused in order",
           "[http][staff-accounts]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::int64_t claim = claim_id(invite_zhang(server, c, kZhangCard));
  REQUIRE(post_json(c, decision_path(claim), R"({"approve":true})",
                    bearer(server.login(kTownshipOffice)))
              .status == 200);
  REQUIRE(post_json(c, "/api/v1/accounts/staff",
                    staff("13700000050", "helper", region("620621104")),
                    bearer(server.login(kCountyOffice)))
              .status == 201);
  auto audit =
      c.request("GET", "/api/v1/account-audit?limit=2", "", bearer(server.login(kCountyOffice)));
  REQUIRE(audit.status == 200);
  auto doc = Json::parse(audit.body);
  REQUIRE(doc.ok());
  const auto& entries = doc->find("entries")->as_array();
  REQUIRE(entries.size() == 2);  // newest first
  CHECK(entries[0].find("action")->as_string() == "account_created");
  CHECK(entries[1].find("action")->as_string() == "claim_confirmed");
  auto rest = c.request(
      "GET", "/api/v1/account-audit?cursor=" + doc->find("next_cursor")->as_string() + "&limit=2",
      "", bearer(server.login(kCountyOffice)));
  REQUIRE(rest.status == 200);
  CHECK(rest.body.find("farmer_invited") != std::string::npos);
  check_refusals(server, "GET", "/api/v1/account-audit",
                 {
                     {"", "", 401, "unauthenticated"},
                     {kShopManager, "", 403, "role_not_allowed"},
                     {kTownshipOffice, "", 403, "county_office_only"},
                 });
  check_refusals(server, "GET", "/api/v1/account-audit?county=620622",
                 {{kCountyOffice, "", 403, "outside_your_area"}});
  auto neighbour =
      c.request("GET", "/api/v1/account-audit?county=620622", "", bearer(server.login(kAdmin)));
  REQUIRE(neighbour.status == 200);
  CHECK(neighbour.body.find(R"("entries":[])") != std::string::npos);
}

STORE_TEST(
    "an invited farmer logs in by code, acts for no household until the office confirms, "
    "then for theirs",
    "[http][staff-accounts]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::int64_t claim = claim_id(invite_zhang(server, c, kZhangCard));
  const std::string zhang = std::to_string(household_with_card(server, kZhangCard));
  REQUIRE(
      post_json(c, "/api/v1/phone-codes", R"({"phone":")" + kZhangCard + R"(","purpose":"log_in"})")
          .status == 202);
  auto session = post_json(
      c, "/api/v1/sessions",
      R"({"phone":")" + kZhangCard + R"(","code":")" + sandbox_code(server, kZhangCard) + R"("})");
  REQUIRE(session.status == 201);
  const std::string farmer = Json::parse(session.body)->find("token")->as_string();
  auto listing = post_json(c, "/api/v1/products", "{}", bearer(farmer));
  CHECK(listing.status == 403);
  CHECK(error_code(listing) == "household_not_confirmed");
  auto certification = post_json(c, "/api/v1/products/1/certification", "{}", bearer(farmer));
  CHECK(error_code(certification) == "household_not_confirmed");
  for (const std::string& path :
       {"/api/v1/households/" + zhang, "/api/v1/households/" + zhang + "/evaluations",
        "/api/v1/households/" + zhang + "/funds", std::string("/api/v1/households/1")}) {
    CAPTURE(path);
    CHECK(c.request("GET", path, "", bearer(farmer)).status == 404);
  }
  REQUIRE(post_json(c, decision_path(claim), R"({"approve":true})",
                    bearer(server.login(kTownshipOffice)))
              .status == 200);
  // The same session now acts for the household the office confirmed, and no other.
  CHECK(c.request("GET", "/api/v1/households/" + zhang, "", bearer(farmer)).status == 200);
  CHECK(c.request("GET", "/api/v1/households/1", "", bearer(farmer)).status == 404);
  auto me = c.request("GET", "/api/v1/me", "", bearer(farmer));
  REQUIRE(me.status == 200);
  CHECK(me.body.find("\"household_id\":" + zhang) != std::string::npos);
}
