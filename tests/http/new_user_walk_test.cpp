// A new user's first purchase, followed through every role's day as the issue tries it:
// a new phone signs up with a code read from the SMS sandbox, buys a listing of a running
// campaign and finds the order in its list; the farmer finds it among the orders to pack
// and has a notification; the station sees the parcel arriving; the centre sees the order
// in the county's list; the township office's queue shows a certification to review.
#include <catch2/catch.hpp>

#include <algorithm>

#include "core/json.hpp"
#include "tests/support/flows.hpp"
#include "tests/support/server.hpp"

using namespace cunhuo;
using namespace cunhuo::test;

namespace {

const std::string kNewPhone = "13712345678", kTownshipOffice = "13900000010";

Json get_ok(HttpClient& c, const std::string& path, const std::string& token = {}) {
  auto reply = c.request("GET", path, "", token.empty() ? Headers{} : bearer(token));
  INFO(path << " → " << reply.body);
  REQUIRE(reply.status == 200);
  auto doc = Json::parse(reply.body);
  REQUIRE(doc.ok());
  return std::move(*doc);
}

// The values of `field` in the list under `key` of a GET answer.
std::vector<std::string> listed(HttpClient& c, const std::string& path, const std::string& token,
                                const char* key, const char* field) {
  const Json doc = get_ok(c, path, token);
  std::vector<std::string> out;
  for (const auto& item : doc.find(key)->as_array()) {
    const Json* v = item.find(field);
    REQUIRE(v != nullptr);
    out.push_back(v->type() == Json::Type::string ? v->as_string()
                                                  : std::to_string(v->as_integer()));
  }
  return out;
}

bool has(const std::vector<std::string>& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

// Signs a new phone up with the code the sandbox "sent" it; returns its bearer token.
std::string sign_up(TestServer& server, HttpClient& c, const std::string& phone) {
  auto sent =
      post_json(c, "/api/v1/phone-codes", R"({"phone":")" + phone + R"(","purpose":"sign_up"})");
  REQUIRE(sent.status == 202);
  REQUIRE(server.app().sms()->run_once().ok());
  const Json inbox = get_ok(c, "/sim/sms?phone=" + phone);
  const auto& texts = inbox.find("items")->as_array();
  REQUIRE_FALSE(texts.empty());
  const std::string text = texts.front().find("text")->as_string();
  const auto at = text.find_first_of("0123456789");
  REQUIRE(at != std::string::npos);
  auto created = post_json(c, "/api/v1/accounts",
                           R"({"phone":")" + phone + R"(","code":")" + text.substr(at, 6) +
                               R"(","display_name":"新用户"})");
  REQUIRE(created.status == 201);
  return str_field(created.body, "token");
}

// The farmer's melon, in a festival the centre runs for its village; returns the campaign.
std::int64_t running_campaign(HttpClient& c, const std::string& centre) {
  auto campaign = post_json(c, "/api/v1/campaigns",
                            R"({"name":"民勤蜜瓜节","kind":"festival","starts_at_ms":0,)"
                            R"("ends_at_ms":4102444800000,"villages":["620621104201"]})",
                            bearer(centre));
  REQUIRE(campaign.status == 201);
  return json_int(campaign.body, "id");
}

// The new user picks the campaign's first listing from the public pages and pays for it.
Bought buy_from_campaign(HttpClient& c, const std::string& buyer, std::int64_t campaign) {
  const auto running = listed(c, "/api/v1/campaigns", {}, "items", "id");
  REQUIRE(has(running, std::to_string(campaign)));
  const auto products =
      listed(c, "/api/v1/campaigns/" + std::to_string(campaign), {}, "listings", "product_id");
  REQUIRE_FALSE(products.empty());
  auto ordered = post_json(c, "/api/v1/orders",
                           R"({"items":[{"product_id":)" + products.front() +
                               R"(,"quantity":1}],"campaign_id":)" + std::to_string(campaign) +
                               R"(,"shipping_address":{"name":"李新","phone":"13712345678",)"
                               R"("address":"兰州市城关区某路2号","region_code":"620102"}})",
                           bearer(buyer, {{"Idempotency-Key", "first-purchase"}}));
  REQUIRE(ordered.status == 201);
  const auto placed = Json::parse(ordered.body);
  REQUIRE(placed.ok());
  const Bought b{json_int(ordered.body, "checkout_id"),
                 placed->find("orders")->as_array().front().find("id")->as_integer()};
  auto intent = start_payment(c, buyer, b.checkout, "first-payment");
  REQUIRE(intent.status == 201);
  auto confirmed = on_pay_page(str_field(intent.body, "pay_url"));
  REQUIRE(confirmed.status == 200);
  REQUIRE(eventually([&] { return order_status(c, buyer, b.order) == "paid"; }));
  return b;
}

}  // namespace

STORE_TEST("a new user's first purchase reaches every role's day of work", "[http][walk]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string farmer = server.login(kFarmer), centre = server.login(kCentre);
  REQUIRE(post_json(c, "/api/v1/products", kMelon, bearer(farmer)).status == 201);
  const auto campaign = running_campaign(c, centre);
  const std::string buyer = sign_up(server, c, kNewPhone);
  const Bought b = buy_from_campaign(c, buyer, campaign);
  const std::string order = std::to_string(b.order);
  REQUIRE(server.app().dispatcher().drain().ok());

  CHECK(has(listed(c, "/api/v1/orders", buyer, "items", "id"), order));
  CHECK(has(listed(c, "/api/v1/orders?to_pack=true", farmer, "items", "id"), order));
  const auto kinds = listed(c, "/api/v1/notifications", farmer, "notifications", "kind");
  CHECK(has(kinds, "order_to_pack"));
  CHECK(has(listed(c, "/api/v1/notifications", farmer, "notifications", "link"),
            "/api/v1/orders/" + order));

  const std::string number = tracking_numbers(c, buyer, b.order).front();
  const std::string station = server.login(kStation);
  CHECK(has(listed(c, "/api/v1/shipments?view=arriving", station, "shipments", "tracking_number"),
            number));
  CHECK(has(listed(c, "/api/v1/orders", centre, "items", "id"), order));
}

STORE_TEST("a listing sent for certification waits in the township office's queue",
           "[http][walk]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string farmer = server.login(kFarmer);
  auto listed_melon = post_json(c, "/api/v1/products", kMelon, bearer(farmer));
  REQUIRE(listed_melon.status == 201);
  auto applied = post_json(
      c, "/api/v1/products/" + std::to_string(json_int(listed_melon.body, "id")) + "/certification",
      R"({"benefit_mechanism":"收益全部归王建国户"})", bearer(farmer));
  REQUIRE(applied.status == 201);
  const Json queue = get_ok(c, "/api/v1/queue", server.login(kTownshipOffice));
  bool waiting = false;
  for (const auto& group : queue.find("groups")->as_array())
    if (group.find("kind")->as_string() == "certifications_to_review")
      waiting = group.find("count")->as_integer() >= 1;
  CHECK(waiting);
}
