// Offices and centres act within their own area only (issue: "Safe to expose", defect 4).
// Each refusal table is ordered by which refusal takes precedence.
#include "tests/support/flows.hpp"
#include "tests/support/server.hpp"

using namespace cunhuo;
using namespace cunhuo::test;

namespace {

// The centre, farmer and consumer are the seed's, as tests/support/flows.hpp names them.
const std::string kCountyOffice = "13900000007", kTownshipOffice = "13900000010",
                  kHelper = "13600000001", kAdmin = "13900000008";

const std::string kModel = R"({"name":"民勤县2027","poverty_line_fen":450000,"indicators":[)"
                           R"({"indicator":"income","weight":60,"veto":true},)"
                           R"({"indicator":"housing","weight":40,"veto":true}]})";

struct Refusal {
  std::string who;  // a seed account's phone, or "" for no session
  std::string path;
  int status;
  std::string code;
};

void check_refusals(TestServer& server, const std::string& method, const std::string& body,
                    const std::vector<Refusal>& table) {
  HttpClient c(server.port());
  for (const auto& r : table) {
    CAPTURE(r.who, r.path);
    Headers headers =
        r.who.empty() ? Headers{{"Content-Type", "application/json"}} : bearer(server.login(r.who));
    auto reply = c.request(method, r.path, body, headers);
    CHECK(reply.status == r.status);
    if (!r.code.empty()) CHECK(error_code(reply) == r.code);
  }
}

std::int64_t model_version(HttpClient& c, const std::string& token, const std::string& county) {
  auto reply =
      c.request("GET", "/api/v1/evaluation-models/current?county=" + county, "", bearer(token));
  REQUIRE(reply.status == 200);
  return json_int(reply.body, "version");
}

}  // namespace

TEST_CASE("only a county's own office sets its evaluation model", "[http][scope][alleviation]") {
  TestServer server(StoreKind::sqlite);
  check_refusals(
      server, "POST", kModel,
      {
          {"", "/api/v1/evaluation-models", 401, ""},
          {kFarmer, "/api/v1/evaluation-models", 403, ""},
          {kCentre, "/api/v1/evaluation-models", 403, ""},
          {kTownshipOffice, "/api/v1/evaluation-models", 403, "county_office_only"},
          {kCountyOffice, "/api/v1/evaluation-models?county=620622", 403, "outside_your_area"},
          {kAdmin, "/api/v1/evaluation-models", 400, "missing_county"},
          {kAdmin, "/api/v1/evaluation-models?county=62062", 400, "invalid_region_code"},
      });
  CHECK(server.count("SELECT COUNT(*) FROM evaluation_models") == 0);
}

TEST_CASE("a county's model changes that county alone, and the change is kept with who made it",
          "[http][scope][alleviation]") {
  TestServer server(StoreKind::sqlite);
  HttpClient c(server.port());
  const std::string office = server.login(kCountyOffice);
  REQUIRE(post_json(c, "/api/v1/evaluation-models", kModel, bearer(office)).status == 201);
  CHECK(model_version(c, office, "620621") == 2);
  CHECK(model_version(c, office, "620622") == 1);  // the neighbouring county keeps the default
  auto history = c.request("GET", "/api/v1/evaluation-models/history", "", bearer(office));
  REQUIRE(history.status == 200);
  CHECK(history.body.find("\"version\":2") != std::string::npos);
  CHECK(history.body.find("account:") != std::string::npos);
}

TEST_CASE("only a county's own office sets its monitoring rules", "[http][scope][alleviation]") {
  TestServer server(StoreKind::sqlite);
  const std::string rules =
      R"({"income_projection_bps":15000,"income_drop_bps":3000,"large_expense_fen":2000000,)"
      R"("no_sales_days":60})";
  check_refusals(
      server, "PUT", rules,
      {
          {kHelper, "/api/v1/monitoring-rules", 403, ""},
          {kTownshipOffice, "/api/v1/monitoring-rules", 403, "county_office_only"},
          {kCountyOffice, "/api/v1/monitoring-rules?county=620622", 403, "outside_your_area"},
      });
  HttpClient c(server.port());
  CHECK(c.request("PUT", "/api/v1/monitoring-rules", rules, bearer(server.login(kCountyOffice)))
            .status == 200);
  CHECK(server.count("SELECT COUNT(*) FROM monitoring_rules WHERE county_code = '620621'") == 1);
}

TEST_CASE("a centre's campaign takes only its own county's villages and shops",
          "[http][scope][campaigns]") {
  TestServer server(StoreKind::sqlite);
  const std::string window = R"("starts_at_ms":0,"ends_at_ms":4102444800000)";
  HttpClient c(server.port());
  auto other_village = post_json(
      c, "/api/v1/campaigns",
      R"({"name":"别县","kind":"festival",)" + window + R"(,"villages":["620622100201"]})",
      bearer(server.login(kCentre)));
  CHECK(other_village.status == 403);
  CHECK(error_code(other_village) == "outside_your_area");
  auto other_county = post_json(c, "/api/v1/campaigns",
                                R"({"name":"别县","kind":"festival",)" + window +
                                    R"(,"villages":["620621104201"],"county_code":"620622"})",
                                bearer(server.login(kCentre)));
  CHECK(error_code(other_county) == "outside_your_area");
  auto admin_unnamed =
      post_json(c, "/api/v1/campaigns",
                R"({"name":"x","kind":"festival",)" + window + R"(,"villages":["620621104201"]})",
                bearer(server.login(kAdmin)));
  CHECK(error_code(admin_unnamed) == "missing_field");
  CHECK(server.count("SELECT COUNT(*) FROM campaigns") == 0);
}

TEST_CASE("a campaign's special price applies only once the shop has agreed to it",
          "[http][scope][campaigns]") {
  TestServer server(StoreKind::sqlite);
  HttpClient c(server.port());
  const std::string farmer = server.login(kFarmer);
  const std::string melon =
      R"({"title":"民勤蜜瓜","category":"水果","unit":"box","price_fen":3980,"stock":10,)"
      R"("temperature_class":"chilled",)"
      R"("shelf_life_days":20,"origin_code":"620621104201","origin_name":"甘肃民勤",)"
      R"("producers":[{"household_id":1,"share_bps":10000}]})";
  auto listed = post_json(c, "/api/v1/products", melon, bearer(farmer));
  REQUIRE(listed.status == 201);
  const auto product = json_int(listed.body, "id");
  const auto shop = json_int(listed.body, "shop_id");
  auto campaign = post_json(
      c, "/api/v1/campaigns",
      R"({"name":"一分钱","kind":"special_price","starts_at_ms":0,"ends_at_ms":4102444800000,)"
      R"("items":[{"product_id":)" +
          std::to_string(product) + R"(,"price_fen":1}]})",
      bearer(server.login(kCentre)));
  REQUIRE(campaign.status == 201);
  const auto id = json_int(campaign.body, "id");
  const std::string order =
      R"({"items":[{"product_id":)" + std::to_string(product) +
      R"(,"quantity":1}],"campaign_id":)" + std::to_string(id) +
      R"(,"shipping_address":{"name":"张三明","phone":"13711112222","address":"兰州市城关区某路1号",)"
      R"("region_code":"620102"}})";
  const std::string consumer = server.login(kConsumer);
  auto refused =
      post_json(c, "/api/v1/orders", order, bearer(consumer, {{"Idempotency-Key", "one-fen-1"}}));
  CHECK(refused.status == 422);
  CHECK(error_code(refused) == "shop_not_opted_in");
  const std::string consent = "/api/v1/campaigns/" + std::to_string(id) + "/consent";
  const std::string shop_body = R"({"shop_id":)" + std::to_string(shop) + "}";
  CHECK(post_json(c, consent, shop_body, bearer(server.login("13900000009"))).status ==
        404);  // another farmer
  REQUIRE(post_json(c, consent, shop_body, bearer(farmer)).status == 200);
  auto placed =
      post_json(c, "/api/v1/orders", order, bearer(consumer, {{"Idempotency-Key", "one-fen-2"}}));
  CHECK(placed.status == 201);
}

TEST_CASE("a helper proposes a return to poverty and the office decides it",
          "[http][scope][alleviation]") {
  TestServer server(StoreKind::sqlite);
  const auto helper_id = server.count("SELECT id FROM accounts WHERE phone = '13600000001'");
  REQUIRE(server.app()
              .db()
              .write([&](db::Session& tx) -> Status {
                CUNHUO_TRY(
                    tx.exec("INSERT INTO monitoring_alerts (household_id, village_code, "
                            "helper_account, rule, figures, status, "
                            "outcome, raised_at) SELECT id, village_code, ?, 'large_expense', 'x', "
                            "'open', '', 0 "
                            "FROM households WHERE id = 1",
                            {helper_id}));
                return {};
              })
              .ok());
  const auto alert = server.count("SELECT MAX(id) FROM monitoring_alerts");
  const auto status_of_household = [&] {
    return server.count(
        "SELECT COUNT(*) FROM households WHERE id = 1 AND "
        "poverty_status = 'returned_to_poverty'");
  };
  HttpClient c(server.port());
  const std::string path = "/api/v1/alerts/" + std::to_string(alert);
  auto proposed = post_json(c, path + "/close", R"({"outcome":"status_changed","note":"住院"})",
                            bearer(server.login(kHelper)));
  REQUIRE(proposed.status == 200);
  CHECK(proposed.body.find("\"status\":\"proposed\"") != std::string::npos);
  CHECK(status_of_household() == 0);
  CHECK(post_json(c, path + "/status-decision", R"({"approve":true,"reason":"x"})",
                  bearer(server.login(kHelper)))
            .status == 403);
  auto decided = post_json(c, path + "/status-decision", R"({"approve":true,"reason":"核实属实"})",
                           bearer(server.login(kTownshipOffice)));
  REQUIRE(decided.status == 200);
  CHECK(status_of_household() == 1);
  CHECK(post_json(c, path + "/status-decision", R"({"approve":true,"reason":"again"})",
                  bearer(server.login(kCountyOffice)))
            .status == 409);
}

TEST_CASE("a centre reads only organisations paired with its own county's villages",
          "[http][scope][organisations]") {
  TestServer server(StoreKind::sqlite);
  HttpClient c(server.port());
  const std::string centre = server.login(kCentre);
  auto elsewhere = post_json(
      c, "/api/v1/organisations",
      R"({"name":"某单位","kind":"public_unit","region_code":"620102","budget_fen":100000,)"
      R"("paired_villages":["620622100201"]})",
      bearer(centre));
  CHECK(elsewhere.status == 403);
  CHECK(error_code(elsewhere) == "outside_your_area");
  REQUIRE(server.app()
              .db()
              .write([](db::Session& tx) -> Status {
                CUNHUO_TRY(tx.exec("DELETE FROM organisation_villages"));
                CUNHUO_TRY(
                    tx.exec("INSERT INTO organisation_villages (organisation_id, village_code) "
                            "SELECT MIN(id), '620622100201' FROM organisations"));
                return {};
              })
              .ok());
  const auto org = server.count("SELECT MIN(id) FROM organisations");
  CHECK(
      c.request("GET", "/api/v1/organisations/" + std::to_string(org), "", bearer(centre)).status ==
      404);
}

TEST_CASE("a listing's origin lies in its shop's county", "[http][scope][catalog]") {
  TestServer server(StoreKind::sqlite);
  HttpClient c(server.port());
  const std::string farmer = server.login(kFarmer);
  std::string elsewhere = kMelon;
  elsewhere.replace(elsewhere.find("620621104201"), 12, "620102001001");
  auto refused = post_json(c, "/api/v1/products", elsewhere, bearer(farmer));
  CHECK(refused.status == 400);
  CHECK(error_code(refused) == "origin_outside_county");
  auto listed = post_json(c, "/api/v1/products", kMelon, bearer(farmer));
  REQUIRE(listed.status == 201);
  const std::string path = "/api/v1/products/" + std::to_string(json_int(listed.body, "id"));
  auto moved = c.request("PATCH", path, R"({"origin_code":"620102001001"})", bearer(farmer));
  CHECK(error_code(moved) == "origin_outside_county");
  CHECK(server.count("SELECT COUNT(*) FROM products WHERE origin_code = '620102001001'") == 0);
}

TEST_CASE("a certified listing whose title changes goes back to review",
          "[http][scope][certification]") {
  TestServer server(StoreKind::sqlite);
  HttpClient c(server.port());
  const std::string farmer = server.login(kFarmer);
  auto listed = post_json(c, "/api/v1/products", kMelon, bearer(farmer));
  const std::string product = "/api/v1/products/" + std::to_string(json_int(listed.body, "id"));
  auto applied = post_json(c, product + "/certification",
                           R"({"benefit_mechanism":"收益归王建国户"})", bearer(farmer));
  REQUIRE(applied.status == 201);
  const std::string cert = "/api/v1/certifications/" + std::to_string(json_int(applied.body, "id"));
  REQUIRE(post_json(c, cert + "/review", R"({"approve":true,"note":"产地核实无误"})",
                    bearer(server.login(kTownshipOffice)))
              .status == 200);
  REQUIRE(post_json(c, cert + "/approve",
                    R"({"certificate_no":"MQ-2026-009","issuing_office":"民勤县乡村振兴局"})",
                    bearer(server.login(kCountyOffice)))
              .status == 200);
  REQUIRE(c.request("PATCH", product, R"({"price_fen":3500})", bearer(farmer)).status == 200);
  CHECK(server.count("SELECT COUNT(*) FROM certifications WHERE status = 'approved'") ==
        1);  // price is not vouched for
  REQUIRE(c.request("PATCH", product, R"({"title":"进口蜜瓜"})", bearer(farmer)).status == 200);
  CHECK(server.count("SELECT COUNT(*) FROM certifications WHERE status = 'applied'") == 1);
  CHECK(c.request("GET", "/api/v1/products?certified=true").body.find("MQ-2026-009") ==
        std::string::npos);
}

TEST_CASE("one address lodges only a few objections an hour", "[http][scope][alleviation]") {
  TestServer server(StoreKind::sqlite);
  REQUIRE(server.app()
              .db()
              .write([](db::Session& tx) -> Status {
                CUNHUO_TRY(
                    tx.exec("INSERT INTO exit_proposals (household_id, evaluation_id, status, "
                            "notice_ends_at, created_at, "
                            "updated_at) VALUES (1, 1, 'in_notice', 4102444800000, 0, 0)"));
                return {};
              })
              .ok());
  const auto proposal = server.count("SELECT MAX(id) FROM exit_proposals");
  HttpClient c(server.port());
  const std::string path = "/api/v1/exit-proposals/" + std::to_string(proposal) + "/objections";
  for (int i = 0; i < 5; ++i)
    REQUIRE(post_json(c, path, R"({"text":"他家还有外债"})").status == 201);
  auto refused = post_json(c, path, R"({"text":"他家还有外债"})");
  CHECK(refused.status == 429);
  CHECK(refused.header("retry-after").has_value());
  CHECK(server.count("SELECT COUNT(*) FROM exit_objections") == 5);
}

namespace {

// A second county's centre: the seed's centre account, copied into 古浪县 (620622).
const std::string kOtherCentre = "13900000016";

void add_other_centre(TestServer& server) {
  REQUIRE(server.app()
              .db()
              .write([](db::Session& tx) -> Status {
                CUNHUO_TRY(
                    tx.exec("INSERT INTO accounts (phone, display_name, role, region_code, "
                            "password_hash, created_at) SELECT ?, '古浪县电商中心值班员', role, "
                            "'620622', password_hash, created_at FROM accounts WHERE phone = ?",
                            {kOtherCentre, kCentre}));
                return {};
              })
              .ok());
}

std::string today() { return format_date(shanghai_date(SystemClock().now_ms())); }
std::string day_body() { return R"({"date":")" + today() + R"("})"; }

}  // namespace

STORE_TEST("another county's centre neither runs nor reads this county's reconciliation",
           "[http][scope][reconciliation]") {
  TestServer server(store_kind);
  add_other_centre(server);
  HttpClient c(server.port());
  buy_and_pay(server, c, server.login(kConsumer));
  const std::string runs = "/api/v1/reconciliations", minqin = "?county=620621";
  check_refusals(server, "POST", day_body(),
                 {
                     {"", runs + minqin, 401, "unauthenticated"},
                     {kConsumer, runs + minqin, 403, "role_not_allowed"},
                     {kOtherCentre, runs + "?county=62062", 400, "invalid_region_code"},
                     {kOtherCentre, runs + "?county=620600", 400, "invalid_region_code"},
                     {kOtherCentre, runs + minqin, 403, "outside_your_area"},
                 });
  CHECK(server.count("SELECT COUNT(*) FROM reconciliations WHERE county_code <> ''") == 0);
  REQUIRE(post_json(c, runs, day_body(), bearer(server.login(kCentre))).status == 201);
  const std::string report = runs + "/" + today();
  check_refusals(server, "GET", "",
                 {
                     {"", report + minqin, 401, "unauthenticated"},
                     {kConsumer, report + minqin, 403, "role_not_allowed"},
                     {kOtherCentre, report + "?county=62062", 400, "invalid_region_code"},
                     {kOtherCentre, runs + "/2026-02-30" + minqin, 403, "outside_your_area"},
                     {kOtherCentre, report + minqin, 403, "outside_your_area"},
                     {kOtherCentre, runs + "/2026-02-30", 400, "invalid_date"},
                     {kOtherCentre, report, 404, "not_found"},  // its own county has no report yet
                 });
}

STORE_TEST("a centre reconciles its own county's part of the bill, and admin the whole bill",
           "[http][scope][reconciliation]") {
  TestServer server(store_kind);
  add_other_centre(server);
  HttpClient c(server.port());
  buy_and_pay(server, c, server.login(kConsumer));
  // The provider took another amount for Minqin's payment, and has a payment the books
  // never opened, which no county can be told of.
  REQUIRE(sandbox_books(server)
              ->write([](db::Session& tx) -> Status {
                CUNHUO_TRY(tx.exec("UPDATE sb_orders SET total_fen = 7000"));
                CUNHUO_TRY(tx.exec(
                    "INSERT INTO sb_orders (out_trade_no, prepay_id, trade_type, trade_state, "
                    "total_fen, description, notify_url, created_at, success_at) SELECT "
                    "'CUNHUO999999', 'wx-other', trade_type, 'SUCCESS', 100, description, "
                    "notify_url, created_at, success_at FROM sb_orders"));
                return {};
              })
              .ok());
  const std::string centre = server.login(kCentre), other = server.login(kOtherCentre),
                    admin = server.login(kAdmin);
  auto own = post_json(c, "/api/v1/reconciliations", day_body(), bearer(centre));
  REQUIRE(own.status == 201);
  CHECK(own.body.find("amount_mismatch") != std::string::npos);
  CHECK(own.body.find("missing_in_books") == std::string::npos);
  CHECK(own.body.find("\"county\":\"620621\"") != std::string::npos);
  auto elsewhere = post_json(c, "/api/v1/reconciliations", day_body(), bearer(other));
  REQUIRE(elsewhere.status == 201);
  CHECK(json_int(elsewhere.body, "matched") == 0);
  CHECK(elsewhere.body.find("\"differences\":[]") != std::string::npos);
  auto whole = post_json(c, "/api/v1/reconciliations", day_body(), bearer(admin));
  REQUIRE(whole.status == 201);
  CHECK(whole.body.find("amount_mismatch") != std::string::npos);
  CHECK(whole.body.find("\"intent_id\":999999") != std::string::npos);
  CHECK(whole.body.find("\"county\":null") != std::string::npos);
  // Each reads back the latest report of its own part; admin any county's by name.
  const std::string report = "/api/v1/reconciliations/" + today();
  CHECK(c.request("GET", report, "", bearer(centre)).body == own.body);
  CHECK(c.request("GET", report + "?county=620621", "", bearer(centre)).body == own.body);
  CHECK(c.request("GET", report, "", bearer(other)).body == elsewhere.body);
  CHECK(c.request("GET", report, "", bearer(admin)).body == whole.body);
  CHECK(c.request("GET", report + "?county=620621", "", bearer(admin)).body == own.body);
}
