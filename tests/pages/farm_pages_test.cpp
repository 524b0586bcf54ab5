// The farmer's pages over HTTP: the orders to pack with their deadline and pick-up point,
// marking one packed, and the parcel label with its QR code; only the farmer's own.
#include <catch2/catch.hpp>

#include "tests/pages/page_support.hpp"
#include "tests/support/flows.hpp"

using namespace cunhuo;
using namespace cunhuo::test;

STORE_TEST("the farmer sees a paid order to pack, with its deadline and pick-up point",
           "[pages][farm]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string consumer = server.login(kConsumer);
  const Bought b = buy_and_pay(server, c, consumer);
  const auto parcels = tracking_numbers(c, consumer, b.order);
  REQUIRE_FALSE(parcels.empty());
  Browser farmer(server);
  farmer.sign_in(server.login(kFarmer));
  auto home = farmer.get("/farm");
  REQUIRE(home.status == 200);
  CHECK(has(home.body, "#" + std::to_string(b.order) + " 民勤沙漠蜜瓜"));
  CHECK(has(home.body, "打包截止"));
  CHECK(has(home.body, parcels.front()));
  CHECK(has(home.body, "（示例）"));  // the village point's name, from the seed
}

STORE_TEST("marking an order packed on the page packs it once", "[pages][farm]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string consumer = server.login(kConsumer);
  const Bought b = buy_and_pay(server, c, consumer);
  Browser farmer(server);
  farmer.sign_in(server.login(kFarmer));
  farmer.get("/farm");
  const std::string path = "/farm/orders/" + std::to_string(b.order) + "/packed";
  auto packed = farmer.post(path, {});
  REQUIRE(packed.status == 303);
  CHECK(packed.header("location") ==
        std::optional<std::string>("/farm?packed=" + std::to_string(b.order)));
  CHECK(order_status(c, consumer, b.order) == "packed");
  CHECK_FALSE(has(farmer.get("/farm").body, "#" + std::to_string(b.order) + " "));
  auto again = farmer.post(path, {});  // a second tap: refused, nothing changes
  CHECK(again.status == 409);
  CHECK(order_status(c, consumer, b.order) == "packed");
}

STORE_TEST("the label shows each parcel's tracking number as a QR code", "[pages][farm]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string consumer = server.login(kConsumer);
  const Bought b = buy_and_pay(server, c, consumer);
  const auto parcels = tracking_numbers(c, consumer, b.order);
  REQUIRE_FALSE(parcels.empty());
  Browser farmer(server);
  farmer.sign_in(server.login(kFarmer));
  auto label = farmer.get("/farm/orders/" + std::to_string(b.order) + "/label");
  REQUIRE(label.status == 200);
  CHECK(has(label.body, "<svg"));
  CHECK(has(label.body, parcels.front()));
  CHECK(has(label.body, "冷藏"));
}

TEST_CASE("the farmer's pages are the farmer's own", "[pages][farm]") {
  TestServer server(StoreKind::sqlite);
  HttpClient c(server.port());
  const std::string consumer = server.login(kConsumer);
  const Bought b = buy_and_pay(server, c, consumer);
  const std::string order = std::to_string(b.order);
  // A visitor is sent to log in first; another role is refused; another farmer finds nothing.
  check_refusals(server, {
                             {"a visitor", "", "GET", "/farm", 303, "/login?next=/farm"},
                             {"a consumer", consumer, "GET", "/farm", 403, ""},
                             {"another farmer", server.login(kOtherFarmer), "GET",
                              "/farm/orders/" + order + "/label", 404, ""},
                             {"another farmer", server.login(kOtherFarmer), "POST",
                              "/farm/orders/" + order + "/packed", 404, ""},
                         });
  CHECK(order_status(c, consumer, b.order) == "paid");
}
