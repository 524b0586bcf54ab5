// Listings, search, campaigns and checkout on both stores.
#include <array>
#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "marketplace/campaigns.hpp"
#include "marketplace/catalog.hpp"
#include "marketplace/orders.hpp"
#include "marketplace/registry.hpp"
#include "tests/support/support.hpp"

using namespace cunhuo;
using namespace cunhuo::marketplace;
using cunhuo::test::TestStore;

namespace {

struct Shops {
  HouseholdId wang, li;
  ShopId wang_shop, coop;
};

Shops make_shops(db::Database& db, const Clock& clock) {
  auto r = db.write([&](db::Session& tx) -> Result<Shops> {
    Shops s;
    s.wang = CUNHUO_TRY(create_household(tx,
                                         {"620621104201", "王建国", "620621197803150013",
                                          "13800000001", 4, PovertyStatus::registered_poor},
                                         clock));
    s.li = CUNHUO_TRY(create_household(tx,
                                       {"620621104201", "李秀英", "620621198206220022",
                                        "13800000002", 3, PovertyStatus::registered_poor},
                                       clock));
    s.wang_shop = CUNHUO_TRY(
        create_shop(tx, {"王家小店", ShopKind::household, "620621104201", {s.wang}}, clock));
    s.coop = CUNHUO_TRY(
        create_shop(tx, {"合作社", ShopKind::cooperative, "620621104201", {s.wang, s.li}}, clock));
    return s;
  });
  REQUIRE(r.ok());
  return *r;
}

ListingFields listing(std::string title, std::int64_t price, std::int64_t stock,
                      std::vector<ProducerShare> producers, std::string origin_name = "甘肃民勤") {
  ListingFields f;
  f.title = std::move(title);
  f.category = "生鲜";
  f.unit = "jin";
  f.price = Money::fen(price);
  f.stock = stock;
  f.temperature = TemperatureClass::chilled;
  f.shelf_life_days = 10;
  f.origin_code = "620621104201";
  f.origin_name = std::move(origin_name);
  f.producers = std::move(producers);
  return f;
}

ProductId list(db::Database& db, const Clock& clock, ShopId shop, const ListingFields& f) {
  auto id = db.write([&](db::Session& tx) { return create_product(tx, shop, f, clock); });
  if (!id.ok()) FAIL("listing failed: " << id.error().message << " " << id.error().field);
  return *id;
}

CheckoutRequest cart(std::int64_t buyer, std::vector<CheckoutItem> items) {
  return CheckoutRequest{buyer,
                         std::move(items),
                         std::nullopt,
                         {"张三明", "13711112222", "兰州市城关区某路1号", "620102"}};
}

constexpr std::array kTemperatureClasses = {TemperatureClass::ambient, TemperatureClass::chilled,
                                            TemperatureClass::frozen};

std::int64_t count(db::Database& db, const std::string& sql) {
  auto r = db.read([&](db::Session& s) { return s.query_one(sql); });
  REQUIRE(r.ok());
  return (*r)->i64(0);
}

std::vector<std::string> titles(db::Database& db, const std::string& q) {
  ProductQuery query;
  query.text = q;
  auto page = db.read([&](db::Session& s) { return search_products(s, query); });
  REQUIRE(page.ok());
  std::vector<std::string> out;
  for (const auto& p : page->items) out.push_back(p.title);
  return out;
}

}  // namespace

TEST_CASE("search terms are characters and pairs of characters", "[catalog]") {
  auto t = search_terms("白牦牛肉（冷冻）", false);
  CHECK(std::find(t.begin(), t.end(), "牦牛") != t.end());
  CHECK(std::find(t.begin(), t.end(), "冷冻") != t.end());
  CHECK(std::find(t.begin(), t.end(), "肉（") == t.end());  // punctuation splits words
  auto latin = search_terms("Go Wolfberry", true);
  CHECK(std::find(latin.begin(), latin.end(), "wo") != latin.end());
}

STORE_TEST("a shopper finds produce by partial Chinese words", "[store][catalog]") {
  TestStore store(store_kind);
  store.migrate();
  ManualClock clock(1'000'000);
  auto shops = make_shops(store.db(), clock);
  list(store.db(), clock, shops.wang_shop,
       listing("民勤沙漠蜜瓜 5斤装", 3980, 100, {{shops.wang, 10000}}));
  list(store.db(), clock, shops.coop,
       listing("白牦牛肉 冷冻 1kg", 12800, 50, {{shops.wang, 5000}, {shops.li, 5000}}, "甘肃天祝"));
  list(store.db(), clock, shops.coop, listing("肉苁蓉 切片", 8800, 30, {{shops.li, 10000}}));
  list(store.db(), clock, shops.coop,
       listing("黄河蜜 白兰瓜", 2600, 30, {{shops.li, 10000}}, "甘肃兰州"));
  CHECK(titles(store.db(), "民勤蜜瓜") == std::vector<std::string>{"民勤沙漠蜜瓜 5斤装"});
  CHECK(titles(store.db(), "牦牛") == std::vector<std::string>{"白牦牛肉 冷冻 1kg"});
  CHECK(titles(store.db(), "苁蓉") == std::vector<std::string>{"肉苁蓉 切片"});
  CHECK(titles(store.db(), "瓜").size() == 2);
  CHECK(titles(store.db(), "榴莲").empty());
}

STORE_TEST("catalog pages follow the cursor without repeats", "[store][catalog]") {
  TestStore store(store_kind);
  store.migrate();
  ManualClock clock(1'000'000);
  auto shops = make_shops(store.db(), clock);
  for (int i = 0; i < 7; ++i)
    list(store.db(), clock, shops.wang_shop,
         listing("枸杞 " + std::to_string(i), 100 + i, 10, {{shops.wang, 10000}}));
  for (std::string q : {"", "枸杞"}) {
    ProductQuery query;
    query.text = q;
    query.limit = 3;
    std::set<std::int64_t> seen;
    for (int page = 0; page < 5; ++page) {
      auto p = store.db().read([&](db::Session& s) { return search_products(s, query); });
      REQUIRE(p.ok());
      for (const auto& item : p->items) CHECK(seen.insert(item.id.value).second);
      if (p->next_cursor.empty()) break;
      query.cursor = p->next_cursor;
    }
    CHECK(seen.size() == 7);
  }
  ProductQuery bad;
  bad.cursor = "garbage";
  CHECK(store.db().read([&](db::Session& s) { return search_products(s, bad); }).error().field ==
        "cursor");
}

STORE_TEST("producer shares must be member households summing to 10000", "[store][catalog]") {
  TestStore store(store_kind);
  store.migrate();
  ManualClock clock(1'000'000);
  auto shops = make_shops(store.db(), clock);
  auto attempt = [&](ShopId shop, const ListingFields& f) {
    return store.db().write([&](db::Session& tx) { return create_product(tx, shop, f, clock); });
  };
  CHECK(attempt(shops.coop, listing("a", 100, 1, {{shops.wang, 5000}, {shops.li, 4000}}))
            .error()
            .code == "shares_not_whole");
  CHECK(attempt(shops.wang_shop, listing("a", 100, 1, {{shops.li, 10000}})).error().code ==
        "not_a_member");
  CHECK(attempt(shops.coop, listing("a", 100, 1, {{shops.li, 5000}, {shops.li, 5000}}))
            .error()
            .code == "duplicate_producer");
  CHECK(attempt(shops.coop, listing("a", 0, 1, {{shops.li, 10000}})).error().field == "price_fen");
  CHECK(attempt(shops.coop, listing("a", 100, -1, {{shops.li, 10000}})).error().field == "stock");
  CHECK(count(store.db(), "SELECT COUNT(*) FROM products") == 0);
  CHECK(count(store.db(), "SELECT COUNT(*) FROM product_terms") == 0);
}

STORE_TEST("a checkout across two shops makes two orders and takes the stock",
           "[store][checkout]") {
  TestStore store(store_kind);
  store.migrate();
  ManualClock clock(1'000'000);
  auto shops = make_shops(store.db(), clock);
  auto melon =
      list(store.db(), clock, shops.wang_shop, listing("蜜瓜", 3980, 10, {{shops.wang, 10000}}));
  auto yak = list(store.db(), clock, shops.coop,
                  listing("牦牛肉", 12800, 5, {{shops.wang, 3000}, {shops.li, 7000}}));
  auto checkout = store.db().write([&](db::Session& tx) {
    return place_checkout(tx, cart(7, {{melon, 2}, {yak, 1}}), clock, std::chrono::minutes(15));
  });
  REQUIRE(checkout.ok());
  CHECK(checkout->orders.size() == 2);
  CHECK(checkout->total.fen() == 2 * 3980 + 12800);
  CHECK(checkout->orders[1].lines[0].producers.size() == 2);  // shares are snapshotted
  CHECK(count(store.db(), "SELECT stock FROM products WHERE title = '蜜瓜'") == 8);
  CHECK(count(store.db(), "SELECT stock FROM products WHERE title = '牦牛肉'") == 4);
}

STORE_TEST("a checkout that cannot be filled takes nothing", "[store][checkout]") {
  TestStore store(store_kind);
  store.migrate();
  ManualClock clock(1'000'000);
  auto shops = make_shops(store.db(), clock);
  auto melon =
      list(store.db(), clock, shops.wang_shop, listing("蜜瓜", 3980, 10, {{shops.wang, 10000}}));
  auto yak = list(store.db(), clock, shops.coop, listing("牦牛肉", 12800, 1, {{shops.li, 10000}}));
  auto checkout = store.db().write([&](db::Session& tx) {
    return place_checkout(tx, cart(7, {{melon, 2}, {yak, 2}}), clock, std::chrono::minutes(15));
  });
  REQUIRE_FALSE(checkout.ok());
  CHECK(checkout.error().code == "out_of_stock");
  CHECK(checkout.error().field == "items[1].quantity");
  CHECK(count(store.db(), "SELECT stock FROM products WHERE title = '蜜瓜'") == 10);
  CHECK(count(store.db(), "SELECT COUNT(*) FROM orders") == 0);
  auto zero = store.db().write([&](db::Session& tx) {
    return place_checkout(tx, cart(7, {{melon, 0}}), clock, std::chrono::minutes(15));
  });
  CHECK(zero.error().field == "items[0].quantity");
  auto ghost = store.db().write([&](db::Session& tx) {
    return place_checkout(tx, cart(7, {{ProductId{999}, 1}}), clock, std::chrono::minutes(15));
  });
  CHECK(ghost.error().code == "unknown_product");
}

STORE_TEST("concurrent checkouts never sell a unit twice", "[store][checkout]") {
  TestStore store(store_kind);
  store.migrate();
  SystemClock clock;
  auto shops = make_shops(store.db(), clock);
  auto melon =
      list(store.db(), clock, shops.wang_shop, listing("蜜瓜", 3980, 60, {{shops.wang, 10000}}));
  std::atomic<int> placed{0}, refused{0};
  std::vector<std::thread> buyers;
  for (int t = 0; t < 6; ++t)
    buyers.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        auto c = store.db().write([&](db::Session& tx) {
          return place_checkout(tx, cart(100 + t, {{melon, 1}}), clock, std::chrono::minutes(15));
        });
        (c.ok() ? placed : refused)++;
      }
    });
  for (auto& b : buyers) b.join();
  CHECK(placed.load() == 60);
  CHECK(refused.load() == 60);
  CHECK(count(store.db(), "SELECT stock FROM products") == 0);
  CHECK(count(store.db(), "SELECT COALESCE(SUM(quantity), 0) FROM order_lines") == 60);
}

STORE_TEST("a campaign prices, caps and limits what it sells, inside its window",
           "[store][campaigns]") {
  TestStore store(store_kind);
  store.migrate();
  ManualClock clock(1'000'000);
  auto shops = make_shops(store.db(), clock);
  auto melon =
      list(store.db(), clock, shops.wang_shop, listing("蜜瓜", 4000, 100, {{shops.wang, 10000}}));
  NewCampaign flash{"秒杀", CampaignKind::flash_sale,   2'000'000, 3'000'000, 2500,
                    3,      {{melon, std::nullopt, 5}}, {}};
  auto id = store.db().write([&](db::Session& tx) { return create_campaign(tx, flash, clock); });
  REQUIRE(id.ok());
  REQUIRE(store.db()
              .write([&](db::Session& tx) {
                return consent_to_campaign(tx, *id, shops.wang_shop, "test", clock);
              })
              .ok());
  auto buy = [&](std::int64_t buyer, std::int64_t qty) {
    auto r = cart(buyer, {{melon, qty}});
    r.campaign = *id;
    return store.db().write(
        [&](db::Session& tx) { return place_checkout(tx, r, clock, std::chrono::minutes(15)); });
  };
  CHECK(buy(1, 1).error().code == "campaign_not_running");
  clock.advance(std::chrono::milliseconds(1'500'000));
  auto first = buy(1, 2);
  REQUIRE(first.ok());
  CHECK(first->orders[0].lines[0].unit_price.fen() == 3000);  // 25% off
  CHECK(buy(1, 2).error().code == "over_buyer_limit");        // 2 + 2 > 3
  CHECK(buy(2, 3).ok());
  CHECK(buy(3, 1).error().code == "campaign_sold_out");  // cap 5 reached
  CHECK(count(store.db(), "SELECT stock FROM products") == 95);
  clock.advance(std::chrono::hours(1));
  CHECK(buy(4, 1).error().code == "campaign_not_running");
}

STORE_TEST("orders move only along their life cycle", "[store][orders]") {
  TestStore store(store_kind);
  store.migrate();
  ManualClock clock(1'000'000);
  auto shops = make_shops(store.db(), clock);
  auto melon =
      list(store.db(), clock, shops.wang_shop, listing("蜜瓜", 4000, 10, {{shops.wang, 10000}}));
  auto checkout = store.db().write([&](db::Session& tx) {
    return place_checkout(tx, cart(1, {{melon, 3}}), clock, std::chrono::minutes(15));
  });
  const OrderId order = checkout->orders[0].id;
  auto move = [&](OrderStatus to) {
    return store.db().write(
        [&](db::Session& tx) { return change_order_status(tx, order, to, "test", "test", clock); });
  };
  CHECK(move(OrderStatus::shipped).error().code == "invalid_transition");
  CHECK(move(OrderStatus::paid).ok());
  CHECK(move(OrderStatus::paid).error().kind == ErrorKind::conflict);
  CHECK(move(OrderStatus::packed).ok());
  CHECK(move(OrderStatus::cancelled).error().code == "invalid_transition");
  CHECK(count(store.db(), "SELECT COUNT(*) FROM order_events") == 3);
}

STORE_TEST("an unpaid order gives its stock back when its window passes", "[store][orders]") {
  TestStore store(store_kind);
  store.migrate();
  ManualClock clock(1'000'000);
  auto shops = make_shops(store.db(), clock);
  auto melon =
      list(store.db(), clock, shops.wang_shop, listing("蜜瓜", 4000, 10, {{shops.wang, 10000}}));
  REQUIRE(store.db()
              .write([&](db::Session& tx) {
                return place_checkout(tx, cart(1, {{melon, 4}}), clock, std::chrono::minutes(15));
              })
              .ok());
  CHECK(*release_expired_orders(store.db(), clock, 100) == 0);
  clock.advance(std::chrono::minutes(16));
  CHECK(*release_expired_orders(store.db(), clock, 100) == 1);
  CHECK(count(store.db(), "SELECT stock FROM products") == 10);
  CHECK(count(store.db(), "SELECT COUNT(*) FROM orders WHERE status = 'cancelled'") == 1);
  CHECK(*release_expired_orders(store.db(), clock, 100) == 0);
}

STORE_TEST("every listing from a participating village sells at the campaign's discount",
           "[store][campaigns]") {
  TestStore store(store_kind);
  store.migrate();
  ManualClock clock(1'000'000);
  auto shops = make_shops(store.db(), clock);
  auto melon =
      list(store.db(), clock, shops.wang_shop, listing("蜜瓜", 4000, 100, {{shops.wang, 10000}}));
  NewCampaign festival{"丰收节", CampaignKind::festival, 0,  5'000'000,
                       1000,     std::nullopt,           {}, {"620621104201"}};
  auto id = store.db().write([&](db::Session& tx) { return create_campaign(tx, festival, clock); });
  REQUIRE(id.ok());
  REQUIRE(store.db()
              .write([&](db::Session& tx) {
                return consent_to_campaign(tx, *id, shops.wang_shop, "test", clock);
              })
              .ok());
  auto r = cart(1, {{melon, 2}});
  r.campaign = *id;
  auto checkout = store.db().write(
      [&](db::Session& tx) { return place_checkout(tx, r, clock, std::chrono::minutes(15)); });
  REQUIRE(checkout.ok());
  CHECK(checkout->orders[0].lines[0].unit_price.fen() == 3600);
  ProductQuery in_campaign;
  in_campaign.campaign_id = id->value;
  auto page = store.db().read([&](db::Session& s) { return search_products(s, in_campaign); });
  CHECK(page->items.size() == 1);
  NewCampaign elsewhere{"别处", CampaignKind::festival, 0,  5'000'000,
                        1000,   std::nullopt,           {}, {"620621101201"}};
  auto other =
      store.db().write([&](db::Session& tx) { return create_campaign(tx, elsewhere, clock); });
  r.campaign = *other;
  auto refused = store.db().write(
      [&](db::Session& tx) { return place_checkout(tx, r, clock, std::chrono::minutes(15)); });
  CHECK(refused.error().code == "not_in_campaign");
}

TEST_CASE("search results and their order are identical on SQLite and MariaDB",
          "[store][catalog][mariadb]") {
  TestStore lite(test::StoreKind::sqlite), maria(test::StoreKind::mariadb);
  ManualClock clock(1'000'000);
  const char* titles[] = {"民勤沙漠蜜瓜 5斤装",
                          "民勤蜜瓜 礼盒",
                          "白牦牛肉 冷冻",
                          "牦牛酸奶",
                          "肉苁蓉 切片",
                          "苁蓉酒",
                          "黑枸杞 特级",
                          "红枸杞",
                          "锁阳茶",
                          "民勤羊肉 Lamb",
                          "人参果",
                          "糯玉米 10穗",
                          "洋葱 Onion 20斤",
                          "Cistanche 肉苁蓉粉",
                          "蜜瓜干"};
  auto fill = [&](TestStore& store) {
    store.migrate();
    auto shops = make_shops(store.db(), clock);
    int i = 0;
    for (const char* t : titles) {
      const int n = i++;
      auto f =
          listing(t, 1001 + n, 10, {{shops.wang, 10000}}, (n + 1) % 3 ? "甘肃民勤" : "甘肃武威");
      const auto klass = static_cast<std::size_t>(n / 2) % kTemperatureClasses.size();
      f.temperature = kTemperatureClasses[klass];
      list(store.db(), clock, n % 2 ? shops.coop : shops.wang_shop, f);
    }
  };
  fill(lite);
  fill(maria);
  auto run = [&](TestStore& store, const std::string& text, std::optional<TemperatureClass> temp) {
    std::vector<std::string> out;
    ProductQuery q;
    q.text = text;
    q.temperature = temp;
    q.limit = 2;
    for (int page = 0; page < 20; ++page) {
      auto p = store.db().read([&](db::Session& s) { return search_products(s, q); });
      REQUIRE(p.ok());
      for (const auto& item : p->items)
        out.push_back(std::to_string(item.id.value) + ":" + item.title);
      if (p->next_cursor.empty()) break;
      q.cursor = p->next_cursor;
    }
    return out;
  };
  for (std::string text : {"", "民勤蜜瓜", "牦牛", "苁蓉", "枸杞", "民勤", "瓜", "lamb", "ONION",
                           "蜜", "不存在的东西"}) {
    for (auto temp : {std::optional<TemperatureClass>(),
                      std::optional<TemperatureClass>(TemperatureClass::ambient),
                      std::optional<TemperatureClass>(TemperatureClass::chilled),
                      std::optional<TemperatureClass>(TemperatureClass::frozen)}) {
      INFO("query: " << text);
      CHECK(run(lite, text, temp) == run(maria, text, temp));
    }
  }
  CHECK(run(lite, "苁蓉", std::nullopt).size() == 3);
}

STORE_TEST("a temperature filter returns every listing of its class and no other",
           "[store][catalog]") {
  TestStore store(store_kind);
  store.migrate();
  ManualClock clock(1'000'000);
  auto shops = make_shops(store.db(), clock);
  std::map<TemperatureClass, std::set<std::int64_t>> listed;
  for (int n = 0; n < 9; ++n) {
    auto f = listing("民勤蜜瓜 第" + std::to_string(n) + "批", 1000 + n, 10, {{shops.wang, 10000}});
    f.temperature = kTemperatureClasses[static_cast<std::size_t>(n) % kTemperatureClasses.size()];
    listed[*f.temperature].insert(list(store.db(), clock, shops.wang_shop, f).value);
  }
  for (auto temp : kTemperatureClasses) {
    INFO("filter: " << to_string(temp));
    ProductQuery q;
    q.temperature = temp;
    q.limit = 100;
    for (std::string text : {"", "蜜瓜"}) {
      q.text = text;
      auto page = store.db().read([&](db::Session& s) { return search_products(s, q); });
      REQUIRE(page.ok());
      std::set<std::int64_t> found;
      for (const auto& p : page->items) {
        CHECK(p.temperature == temp);
        found.insert(p.id.value);
      }
      CHECK(found == listed[temp]);
    }
  }
}
