// The county centre's pages (/centre): the board shows the centre's own county only (today's
// orders by state, the exceptions, each open excursion with its trace, its parcels and the
// verdict to take); the verdict is taken once, and a second one is refused in Chinese with
// nothing written; the order, parcel and household records open within the county only,
// the household masked; other roles are refused.
#include <catch2/catch.hpp>

#include "core/clock.hpp"
#include "core/json.hpp"
#include "core/privacy.hpp"
#include "tests/pages/page_support.hpp"
#include "tests/support/flows.hpp"

using namespace cunhuo;
using namespace cunhuo::test;

namespace {

// A second county's centre: the seed's centre account, copied into 古浪县 (620622).
const std::string kOtherCentre = "13900000016";

// The id of a created object, from its JSON answer.
std::string id_of(const std::string& body) {
  return std::to_string(Json::parse(body)->find("id")->as_integer());
}

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

// A paid order of the county, and the centre and another county's centre on browsers.
struct Scene {
  explicit Scene(StoreKind kind) : server(kind), c(server.port()), centre(server), other(server) {
    add_other_centre(server);
    consumer = server.login(kConsumer);
    centre_token = server.login(kCentre);
    centre.sign_in(centre_token);
    other.sign_in(server.login(kOtherCentre));
    order = buy_and_pay(server, c, consumer).order;
    number = tracking_numbers(c, centre_token, order).front();
  }
  // The parcel reaches the cold store of 西渠镇, which warms to 12 °C for 40 minutes:
  // longer than chilled goods may bear. Returns the excursion's id.
  std::int64_t warm_cold_store() {
    REQUIRE(scan_parcel(c, centre_token, number, "MQ-VP-XQ01", "departing").status == 201);
    REQUIRE(scan_parcel(c, centre_token, number, "MQ-TS-XQ", "arriving").status == 201);
    REQUIRE(scan_parcel(c, centre_token, number, "MQ-CS-XQ", "storing", "in_progress").status ==
            201);
    const std::int64_t now = server.clock().now_ms();
    for (const auto& batch : {sensor_readings("MQ-CS-XQ-T1", now - 45 * 60'000, 1, 1, 300),
                              sensor_readings("MQ-CS-XQ-T1", now - 40 * 60'000, 9, 5, 1200)})
      REQUIRE(post_json(c, "/api/v1/telemetry", batch, bearer(centre_token)).status == 200);
    return server.count("SELECT MAX(id) FROM excursions WHERE status = 'open'");
  }
  std::string decision_path(std::int64_t excursion) const {
    return "/centre/excursions/" + std::to_string(excursion) + "/decision";
  }

  TestServer server;
  HttpClient c;
  Browser centre, other;
  std::string consumer, centre_token, number;
  std::int64_t order = 0;
};

}  // namespace

STORE_TEST("the board counts today's paid order of the centre's county, and no other county's",
           "[pages][centre]") {
  Scene scene(store_kind);
  const auto board = scene.centre.get("/centre");
  REQUIRE(board.status == 200);
  CHECK(has(board.body, R"(<li data-status="paid">已付款 <b>1</b></li>)"));
  CHECK(has(board.body, "/assets/live."));  // kept current by the live feed
  CHECK(has(board.body, R"(data-after=")"));
  // The parcel waits at the village point: the stations' table and the charts are there.
  CHECK(has(board.body, R"(data-node="MQ-CS-XQ")"));
  CHECK(has(board.body, "<svg"));
  CHECK(has(board.body, "¥79.60"));  // today's sales: two melons, in the chart's table
  const auto elsewhere = scene.other.get("/centre");
  REQUIRE(elsewhere.status == 200);
  CHECK_FALSE(has(elsewhere.body, R"(data-status="paid")"));
  CHECK(has(elsewhere.body, "今天还没有订单"));
  CHECK_FALSE(has(elsewhere.body, "MQ-CS-XQ"));
  CHECK_FALSE(has(elsewhere.body, "¥79.60"));
}

STORE_TEST(
    "an open excursion shows its trace against the store's limit, its parcels and the "
    "verdict, to its own county's centre only",
    "[pages][centre]") {
  Scene scene(store_kind);
  const std::int64_t excursion = scene.warm_cold_store();
  REQUIRE(excursion > 0);
  const auto board = scene.centre.get("/centre");
  REQUIRE(board.status == 200);
  const std::string id = std::to_string(excursion);
  CHECK(has(board.body, R"(id="excursion-)" + id + R"(")"));
  CHECK(has(board.body, "上限 4.0 °C"));  // the cold store's rated upper bound
  CHECK(has(board.body, "12.0 °C"));      // the warm readings, in the chart's table
  CHECK(has(board.body, R"(href="/centre/shipments/)" + scene.number + R"(")"));
  CHECK(has(board.body, R"(action=")" + scene.decision_path(excursion) + R"(")"));
  CHECK(has(board.body, R"(<li data-kind="held">扣留包裹 <b>1</b>)"));
  CHECK(has(board.body, R"(<li data-kind="excursions">未处理冷链超温 <b>1</b>)"));
  const auto elsewhere = scene.other.get("/centre");
  CHECK_FALSE(has(elsewhere.body, "excursion-" + id));
  CHECK_FALSE(has(elsewhere.body, scene.number));
  CHECK(has(elsewhere.body, R"(<li data-kind="excursions">未处理冷链超温 <b>0</b>)"));
}

STORE_TEST(
    "the centre releases an excursion's parcels; a second verdict is refused in Chinese "
    "and writes nothing",
    "[pages][centre]") {
  Scene scene(store_kind);
  const std::int64_t excursion = scene.warm_cold_store();
  scene.centre.get("/centre");
  const auto released =
      scene.centre.post(scene.decision_path(excursion), {{"verdict", "released"}});
  REQUIRE(released.status == 303);
  CHECK(scene.server.count("SELECT COUNT(*) FROM excursions WHERE status = 'released'") == 1);
  CHECK(str_field(scene.c.request("GET", "/api/v1/tracking/" + scene.number).body, "status") !=
        "held");

  scene.centre.get("/centre");
  const auto again = scene.centre.post(scene.decision_path(excursion), {{"verdict", "spoiled"}});
  CHECK(again.status == 409);
  CHECK(has(again.body, "已经处理过，本次未做任何更改。"));
  scene.server.app().dispatcher().drain();
  CHECK(scene.server.count("SELECT COUNT(*) FROM excursions WHERE status = 'spoiled'") == 0);
  CHECK(scene.server.count("SELECT COUNT(*) FROM provider_refunds") == 0);
  CHECK(order_status(scene.c, scene.consumer, scene.order) != "refunded");
}

STORE_TEST("a verdict must be spoiled or released", "[pages][centre][bad-input]") {
  Scene scene(store_kind);
  const std::int64_t excursion = scene.warm_cold_store();
  scene.centre.get("/centre");
  const auto refused = scene.centre.post(scene.decision_path(excursion), {{"verdict", "maybe"}});
  CHECK(refused.status == 400);
  CHECK(has(refused.body, "请选择“确认变质”或“放行”。"));
  CHECK(scene.server.count("SELECT COUNT(*) FROM excursions WHERE status = 'open'") == 1);
}

STORE_TEST(
    "the centre approves a refund claim from the order's page once; a second decision "
    "is refused in Chinese and writes nothing",
    "[pages][centre]") {
  Scene scene(store_kind);
  const std::string order = "/centre/orders/" + std::to_string(scene.order);
  auto claimed =
      post_json(scene.c, "/api/v1/orders/" + std::to_string(scene.order) + "/refund-claims",
                R"({"amount_fen":3980,"reason":"一个瓜裂了"})",
                bearer(scene.consumer, {{"Idempotency-Key", "claim-1"}}));
  REQUIRE(claimed.status == 201);
  const std::string decision = "/centre/claims/" + id_of(claimed.body) + "/decision";
  const auto board = scene.centre.get("/centre");
  CHECK(has(board.body, R"(<li data-kind="claims">待处理退款申请 <b>1</b>)"));
  CHECK(has(board.body, R"(href=")" + order + R"(")"));
  const auto page = scene.centre.get(order);
  CHECK(has(page.body, "一个瓜裂了"));
  CHECK(has(page.body, R"(action=")" + decision + R"(")"));

  const auto approved = scene.centre.post(decision, {{"decision", "approve"}, {"bearer", "shop"}});
  REQUIRE(approved.status == 303);
  CHECK(approved.header("location") == std::optional<std::string>(order));
  CHECK(scene.server.count("SELECT COUNT(*) FROM refund_claims WHERE status = 'approved'") == 1);

  scene.centre.get(order);
  const auto again = scene.centre.post(decision, {{"decision", "reject"}});
  CHECK(again.status == 409);
  CHECK(has(again.body, "已经处理过，本次未做任何更改。"));
  CHECK(scene.server.count("SELECT COUNT(*) FROM refund_claims WHERE status = 'rejected'") == 0);
  scene.centre.get(order);
  CHECK(scene.centre.post(decision, {{"decision", "approve"}}).status == 400);  // no bearer named
  scene.other.get("/centre");
  CHECK(scene.other.post(decision, {{"decision", "reject"}}).status == 404);
}

STORE_TEST("the centre corrects an order's status with a reason; without one nothing is written",
           "[pages][centre]") {
  Scene scene(store_kind);
  const std::string order = "/centre/orders/" + std::to_string(scene.order);
  const std::string status = order + "/status";
  scene.centre.get(order);
  const auto blank = scene.centre.post(status, {{"to", "shipped"}, {"reason", " "}});
  CHECK(blank.status == 400);
  CHECK(has(blank.body, "请填写更正原因。"));
  CHECK(order_status(scene.c, scene.consumer, scene.order) == "paid");
  const auto corrected =
      scene.centre.post(status, {{"to", "shipped"}, {"reason", "站点漏扫，电话核实已发出"}});
  REQUIRE(corrected.status == 303);
  CHECK(order_status(scene.c, scene.consumer, scene.order) == "shipped");
  CHECK(scene.server.count("SELECT COUNT(*) FROM order_events WHERE reason = "
                           "'站点漏扫，电话核实已发出'") >= 1);
}

STORE_TEST(
    "the centre opens its county's order, parcel and household records, the household "
    "masked",
    "[pages][centre]") {
  Scene scene(store_kind);
  const auto order = scene.centre.get("/centre/orders/" + std::to_string(scene.order));
  REQUIRE(order.status == 200);
  CHECK(has(order.body, R"(href="/centre/shipments/)" + scene.number + R"(")"));
  CHECK(has(order.body, R"(href="/centre/households/1")"));

  REQUIRE(
      scan_parcel(scene.c, scene.centre_token, scene.number, "MQ-VP-XQ01", "departing").status ==
      201);
  const auto parcel = scene.centre.get("/centre/shipments/" + scene.number);
  REQUIRE(parcel.status == 200);
  CHECK(has(parcel.body, "MQ-VP-XQ01 · 发出"));
  CHECK(has(parcel.body, R"(href="/centre/orders/)" + std::to_string(scene.order) + R"(")"));

  const auto household = scene.centre.get("/centre/households/1");
  REQUIRE(household.status == 200);
  CHECK(has(household.body, mask_name("王建国")));
  CHECK(has(household.body, mask_id_number("620621197803150013")));
  CHECK_FALSE(has(household.body, "王建国"));
  CHECK_FALSE(has(household.body, "620621197803150013"));
  CHECK_FALSE(has(household.body, "13800000001"));
}

STORE_TEST(
    "the centre's pages are refused to other roles, and another county's records are "
    "not found",
    "[pages][centre][refusals]") {
  Scene scene(store_kind);
  const std::int64_t excursion = scene.warm_cold_store();
  const std::string other = scene.server.login(kOtherCentre);
  const std::string order = "/centre/orders/" + std::to_string(scene.order);
  const std::string parcel = "/centre/shipments/" + scene.number;
  check_refusals(
      scene.server,
      {
          {"a visitor", "", "GET", "/centre", 303, "/login?next=/centre"},
          {"a consumer", scene.consumer, "GET", "/centre", 403, ""},
          {"a farmer", scene.server.login(kFarmer), "GET", "/centre", 403, ""},
          {"a station", scene.server.login(kStation), "GET", parcel, 403, ""},
          {"the office", scene.server.login(kOffice), "GET", "/centre/households/1", 403, ""},
          {"another county's centre", other, "GET", order, 404, ""},
          {"another county's centre", other, "GET", parcel, 404, ""},
          {"another county's centre", other, "GET", "/centre/households/1", 404, ""},
          {"another county's centre", other, "GET", "/centre/orders/999999", 404, ""},
      });
  // Nor may another county's centre decide this county's excursion.
  scene.other.get("/centre");
  CHECK(scene.other.post(scene.decision_path(excursion), {{"verdict", "spoiled"}}).status == 404);
  CHECK(scene.server.count("SELECT COUNT(*) FROM excursions WHERE status = 'open'") == 1);
}
