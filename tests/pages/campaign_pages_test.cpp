// Buying through a campaign on the pages: the home page leads to a campaign's page, its
// listings show the campaign's price, and the cart remembers the campaign a product came
// through, so checkout charges that price and counts the sale to the campaign.
#include <catch2/catch.hpp>

#include "tests/pages/page_support.hpp"
#include "tests/support/flows.hpp"

using namespace cunhuo;
using namespace cunhuo::test;

namespace {

constexpr std::int64_t kHourMs = 3'600'000;

const FormFields kAddress = {{"name", "张三明"},
                             {"phone", "13711112222"},
                             {"address", "兰州市城关区某路1号"},
                             {"region_code", "620102"}};

// A campaign running for the next hour with 20% off the melon, which its shop agreed to
// (3980 fen becomes 3184).
std::int64_t discounted(TestServer& server, HttpClient& c, std::int64_t melon) {
  const auto now = server.clock().now_ms();
  auto r = post_json(
      c, "/api/v1/campaigns",
      R"({"name":"民勤蜜瓜节","kind":"consumption","starts_at_ms":)" +
          std::to_string(now - kHourMs) + R"(,"ends_at_ms":)" + std::to_string(now + kHourMs) +
          R"(,"discount_bps":2000,"items":[{"product_id":)" + std::to_string(melon) + "}]}",
      bearer(server.login(kCentre)));
  REQUIRE(r.status == 201);
  const auto id = json_int(r.body, "id");
  auto consent = post_json(c, "/api/v1/campaigns/" + std::to_string(id) + "/consent",
                           R"({"shop_id":1})", bearer(server.login(kFarmer)));
  REQUIRE(consent.status == 200);
  return id;
}

// A store with the farmer's melon on sale in a running campaign at 20% off (discounted).
struct MelonSale {
  explicit MelonSale(StoreKind kind, ServerClock clock = ServerClock::system)
      : server(kind, kTestSeed, {}, clock),
        c(server.port()),
        melon(listed(server, c, kFarmer)),
        campaign(discounted(server, c, melon)) {}
  TestServer server;
  HttpClient c;
  std::int64_t melon = 0, campaign = 0;
};

// Puts the melon in the cart from its page as reached through the campaign's page.
void add_through(Browser& b, std::int64_t melon, std::int64_t campaign) {
  const std::string page = "/p/" + std::to_string(melon) + "?campaign=" + std::to_string(campaign);
  REQUIRE(b.get(page).status == 200);
  auto added = b.post("/cart/add", {{"product_id", std::to_string(melon)},
                                    {"quantity", "2"},
                                    {"campaign_id", std::to_string(campaign)}});
  REQUIRE(added.status == 303);
}

}  // namespace

STORE_TEST("the home page links each running campaign to its page", "[pages][campaigns]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const auto campaign = discounted(server, c, listed(server, c, kFarmer));
  Browser b(server);
  CHECK(has(b.get("/").body, "href=\"/campaigns/" + std::to_string(campaign) + "\""));
}

STORE_TEST("a campaign's page shows its listings at the campaign's price beside their own",
           "[pages][campaigns]") {
  MelonSale sale(store_kind);
  auto& [server, c, melon, campaign] = sale;
  Browser b(server);
  auto page = b.get("/campaigns/" + std::to_string(campaign));
  REQUIRE(page.status == 200);
  CHECK(has(page.body, "民勤蜜瓜节"));
  CHECK(has(page.body, "31.84"));
  CHECK(has(page.body, "<s class=\"muted\">¥39.80</s>"));
  CHECK(has(page.body, "/p/" + std::to_string(melon) + "?campaign=" + std::to_string(campaign)));
}

STORE_TEST("a product reached through a campaign shows the campaign's price and split",
           "[pages][campaigns]") {
  MelonSale sale(store_kind);
  auto& [server, c, melon, campaign] = sale;
  Browser b(server);
  auto page = b.get("/p/" + std::to_string(melon) + "?campaign=" + std::to_string(campaign));
  REQUIRE(page.status == 200);
  CHECK(has(page.body, "name=\"campaign_id\" value=\"" + std::to_string(campaign) + "\""));
  CHECK(has(page.body, "¥31.84 <s class=\"muted\">¥39.80</s>"));
  CHECK(has(page.body, "单独购买一件 ¥31.84"));  // the split is of the price paid
  auto plain = b.get("/p/" + std::to_string(melon));
  CHECK_FALSE(has(plain.body, "campaign_id"));
  CHECK_FALSE(has(plain.body, "31.84"));
}

STORE_TEST("a product put in the cart through a campaign is charged the campaign's price",
           "[pages][campaigns]") {
  MelonSale sale(store_kind);
  auto& [server, c, melon, campaign] = sale;
  Browser b(server);
  b.sign_in(server.login(kConsumer));
  add_through(b, melon, campaign);
  auto cart = b.get("/cart");
  CHECK(has(cart.body, "¥31.84 <s>¥39.80</s>"));
  CHECK(has(cart.body, "¥63.68"));
  auto checkout = b.get("/checkout");
  FormFields form = kAddress;
  form.emplace_back("key", form_key(checkout.body));
  REQUIRE(b.post("/checkout", form).status == 303);
  CHECK(server.count("SELECT COUNT(*) FROM order_lines WHERE campaign_id = " +
                     std::to_string(campaign) + " AND unit_price_fen = 3184") == 1);
  CHECK(server.count("SELECT total_fen FROM orders") == 6368);
}

STORE_TEST("a cart whose campaign is over says so, and checkout charges the own price",
           "[pages][campaigns]") {
  MelonSale sale(store_kind, ServerClock::manual);
  auto& [server, c, melon, campaign] = sale;
  Browser b(server);
  b.sign_in(server.login(kConsumer));
  add_through(b, melon, campaign);
  server.advance(std::chrono::milliseconds(2 * kHourMs));
  auto cart = b.get("/cart");
  CHECK(has(cart.body, "活动价已不可用"));
  CHECK(has(cart.body, "¥79.60"));
  CHECK(b.get("/campaigns/" + std::to_string(campaign)).status == 404);
  FormFields form = kAddress;
  form.emplace_back("key", form_key(b.get("/checkout").body));
  REQUIRE(b.post("/checkout", form).status == 303);
  CHECK(server.count("SELECT total_fen FROM orders") == 7960);
  CHECK(server.count("SELECT COUNT(*) FROM order_lines WHERE campaign_id IS NULL") == 1);
}

TEST_CASE("an unknown campaign's page, or a product in one, is not found or at its own price",
          "[pages][campaigns]") {
  TestServer server(StoreKind::sqlite);
  HttpClient c(server.port());
  const auto melon = listed(server, c, kFarmer);
  Browser b(server);
  CHECK(b.get("/campaigns/999").status == 404);
  CHECK(b.get("/campaigns/abc").status == 404);
  auto page = b.get("/p/" + std::to_string(melon) + "?campaign=999");
  REQUIRE(page.status == 200);
  CHECK_FALSE(has(page.body, "campaign_id"));
  auto added =
      b.post("/cart/add",
             {{"product_id", std::to_string(melon)}, {"quantity", "1"}, {"campaign_id", "999"}});
  CHECK(added.status == 404);
  CHECK(server.count("SELECT COUNT(*) FROM cart_lines") == 0);
}

STORE_TEST("the home page lists the categories on sale, each opening its search",
           "[pages][campaigns]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const auto melon = listed(server, c, kFarmer);
  Browser b(server);
  auto home = b.get("/");
  CHECK(has(home.body, "href=\"/search?category=%E6%B0%B4%E6%9E%9C\">水果</a>"));
  auto found = b.get("/search?category=%E6%B0%B4%E6%9E%9C");
  REQUIRE(found.status == 200);
  CHECK(has(found.body, "/p/" + std::to_string(melon)));
  CHECK(has(found.body, "name=\"category\" value=\"水果\""));
  CHECK_FALSE(has(b.get("/search?category=%E8%94%AC%E8%8F%9C").body, "/p/"));  // 蔬菜: none
}

STORE_TEST("an order's item may name its own campaign beside others bought at their price",
           "[http][campaigns]") {
  MelonSale sale(store_kind);
  auto& [server, c, melon, campaign] = sale;
  auto other = post_json(c, "/api/v1/products", kMelon, bearer(server.login(kFarmer)));
  REQUIRE(other.status == 201);
  const std::string order =
      R"({"items":[{"product_id":)" + std::to_string(melon) + R"(,"quantity":1,"campaign_id":)" +
      std::to_string(campaign) + R"(},{"product_id":)" +
      std::to_string(json_int(other.body, "id")) +
      R"(,"quantity":1}],"shipping_address":{"name":"张三明","phone":"13711112222",)"
      R"("address":"兰州市城关区某路1号","region_code":"620102"}})";
  auto placed = post_json(c, "/api/v1/orders", order,
                          bearer(server.login(kConsumer), {{"Idempotency-Key", "item-camp-1"}}));
  REQUIRE(placed.status == 201);
  CHECK(server.count("SELECT total_fen FROM orders") == 3184 + 3980);
  CHECK(server.count("SELECT COUNT(*) FROM order_lines WHERE campaign_id IS NULL") == 1);
}
