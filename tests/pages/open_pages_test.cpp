// The open statistics page and the printable statement, rendered from templates in the
// layout: places named beside their codes where the store has a name, tables scrolling in
// their own box on a narrow phone.
#include <catch2/catch.hpp>

#include "core/clock.hpp"
#include "tests/pages/page_support.hpp"
#include "tests/support/flows.hpp"

using namespace cunhuo;
using namespace cunhuo::test;

STORE_TEST("the open statistics page names each place beside its code", "[pages][statistics]") {
  TestServer server(store_kind);
  Browser visitor(server);
  auto page = visitor.get("/public/statistics?region=620621104");
  REQUIRE(page.status == 200);
  CHECK(has(page.body, "西渠镇（620621104）"));       // the township
  CHECK(has(page.body, "致力村（620621104201）"));    // a village of it
  CHECK_FALSE(has(page.body, "电商服务站（示例）"));  // not its station's name
  CHECK(has(page.body, "/public/statistics?region=620621104201"));
}

TEST_CASE("the open statistics page is in the layout, its tables each in a scrolling box",
          "[pages][statistics]") {
  TestServer server(StoreKind::sqlite);
  Browser visitor(server);
  auto page = visitor.get("/public/statistics?region=620621");
  REQUIRE(page.status == 200);
  CHECK(has(page.body, "<header class=\"bar\">"));
  CHECK(has(page.body, "name=\"viewport\""));
  for (const std::string table : {"areas", "months", "notices"}) {
    INFO(table);
    CHECK(has(page.body, "<div class=\"scroll\"><table id=\"" + table + "\">"));
  }
  CHECK_FALSE(has(page.body, "<style>"));  // the site's stylesheet, not one of its own
}

STORE_TEST("the printable statement is in the layout, its lines in a scrolling box",
           "[pages][statistics]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string consumer = server.login(kConsumer), farmer = server.login(kFarmer);
  const Bought b = buy_and_pay(server, c, consumer);
  deliver_by_scans(server, c, b.order);
  REQUIRE(c.request("POST", "/api/v1/orders/" + std::to_string(b.order) + "/confirm-receipt", "",
                    bearer(consumer))
              .status == 200);
  const std::string month = format_date(shanghai_date(SystemClock().now_ms())).substr(0, 7);
  const std::string path = "/api/v1/households/1/statements/" + month + "?format=html";
  REQUIRE(eventually(
      [&] { return has(c.request("GET", path, "", bearer(farmer)).body, "民勤沙漠蜜瓜"); }));
  auto page = c.request("GET", path, "", bearer(farmer));
  CHECK(has(page.body, "农户销售收入证明"));
  CHECK(has(page.body, "<div class=\"scroll\"><table id=\"lines\">"));
  CHECK(has(page.body, "71.22"));
  CHECK(has(page.body, "王*国"));  // the head's name masked, as the statement signs it
  CHECK(has(page.body, "<dd>致力村（620621104201）</dd>"));  // the village, by name
}
