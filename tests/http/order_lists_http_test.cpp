// GET /api/v1/orders by role, the running campaigns, an organisation's progress. Each
// refusal table is ordered by which refusal takes precedence.
#include <set>

#include "core/db/migrations.hpp"
#include "core/json.hpp"
#include "marketplace/catalog.hpp"
#include "marketplace/order_lists.hpp"
#include "marketplace/registry.hpp"
#include "tests/support/flows.hpp"
#include "tests/support/server.hpp"

using namespace cunhuo;
using namespace cunhuo::test;
namespace mk = cunhuo::marketplace;

namespace {

const std::string kShopManager = "13900000002", kOrgBuyer = "13900000004", kAdmin = "13900000008",
                  kTownshipOffice = "13900000010";
// A village of another county (620622), where the test opens a shop of its own.
const std::string kOtherCountyVillage = "620622100201";

std::string listing(const std::string& title, const std::string& origin = "620621104201",
                    std::optional<std::int64_t> shop = std::nullopt, std::int64_t household = 1) {
  return R"({"title":")" + title +
         R"(","category":"水果","unit":"box","price_fen":1000,"stock":100,)"
         R"("temperature_class":"ambient","shelf_life_days":20,"origin_code":")" +
         origin + R"(",)" + (shop ? R"("shop_id":)" + std::to_string(*shop) + "," : "") +
         R"("producers":[{"household_id":)" + std::to_string(household) +
         R"(,"share_bps":10000}]})";
}

std::int64_t list_product(TestServer& server, HttpClient& c, const std::string& title) {
  auto r = post_json(c, "/api/v1/products", listing(title), bearer(server.login(kFarmer)));
  REQUIRE(r.status == 201);
  return json_int(r.body, "id");
}

// A product of a shop in another county, made in the store directly (no account of that
// county is in the seed).
std::int64_t other_county_product(TestServer& server) {
  auto made = server.store().db().write([&](db::Session& tx) -> Result<std::int64_t> {
    mk::NewHousehold h;
    h.village_code = kOtherCountyVillage;
    h.head_name = "赵大山";
    h.head_id_number = "62062219800101001X";
    h.phone = "13812340000";
    const auto household = CUNHUO_TRY(mk::create_household(tx, h, server.clock()));
    const auto shop = CUNHUO_TRY(mk::create_shop(
        tx, mk::NewShop{"邻县小店", mk::ShopKind::household, kOtherCountyVillage, {household}},
        server.clock()));
    mk::ListingFields f;
    f.title = "邻县土豆";
    f.category = "蔬菜";
    f.unit = "box";
    f.price = Money::fen(1000);
    f.stock = 100;
    f.temperature = mk::TemperatureClass::ambient;
    f.shelf_life_days = 20;
    f.origin_code = kOtherCountyVillage;
    f.producers = std::vector<mk::ProducerShare>{{household, mk::kFullShare}};
    return CUNHUO_TRY(mk::create_product(tx, shop, f, server.clock())).value;
  });
  REQUIRE(made.ok());
  return *made;
}

std::int64_t order(HttpClient& c, const std::string& token, std::int64_t product,
                   const std::string& key) {
  const std::string body = R"({"items":[{"product_id":)" + std::to_string(product) +
                           R"(,"quantity":1}],"shipping_address":{"name":"张三明",)"
                           R"("phone":"13711112222","address":"兰州市城关区某路1号",)"
                           R"("region_code":"620102"}})";
  auto r = post_json(c, "/api/v1/orders", body, bearer(token, {{"Idempotency-Key", key}}));
  REQUIRE(r.status == 201);
  return Json::parse(r.body)->find("orders")->as_array().front().find("id")->as_integer();
}

struct Page {
  std::vector<std::int64_t> ids;
  std::vector<Json> items;
  std::string next;  // "" on the last page
};

// `token` "": no session.
Page get_page(HttpClient& c, const std::string& token, const std::string& path) {
  auto r = c.request("GET", path, "", token.empty() ? Headers{} : bearer(token));
  CAPTURE(path, r.body);
  REQUIRE(r.status == 200);
  auto doc = Json::parse(r.body);
  Page p;
  for (const auto& item : doc->find("items")->as_array()) {
    p.ids.push_back(item.find("id")->as_integer());
    p.items.push_back(item);
  }
  const Json* next = doc->find("next_cursor");
  if (next->type() == Json::Type::string) p.next = next->as_string();
  return p;
}

std::vector<std::int64_t> ids_of(HttpClient& c, const std::string& token, const std::string& path) {
  return get_page(c, token, path).ids;
}

// Every page of a list, `limit` at a time.
std::vector<std::int64_t> walk(HttpClient& c, const std::string& token, const std::string& path,
                               int limit) {
  std::vector<std::int64_t> all;
  const std::string sep = path.find('?') == std::string::npos ? "?" : "&";
  std::string cursor;
  for (int pages = 0; pages < 100; ++pages) {
    auto p = get_page(c, token,
                      path + sep + "limit=" + std::to_string(limit) +
                          (cursor.empty() ? "" : "&cursor=" + cursor));
    CHECK(p.ids.size() <= static_cast<std::size_t>(limit));
    all.insert(all.end(), p.ids.begin(), p.ids.end());
    if (p.next.empty()) return all;
    cursor = p.next;
  }
  FAIL("the list never ended");
  return all;
}

std::string today(const TestServer& server) {
  return format_date(shanghai_date(server.clock().now_ms()));
}

}  // namespace

STORE_TEST("a buyer lists only their own orders, newest first, with the recipient whole",
           "[http][orders-list]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const auto consumer = server.login(kConsumer), org = server.login(kOrgBuyer);
  const auto product = list_product(server, c, "蜜瓜");
  const auto first = order(c, consumer, product, "a1");
  const auto second = order(c, consumer, product, "a2");
  const auto theirs = order(c, org, product, "b1");
  CHECK(ids_of(c, consumer, "/api/v1/orders") == std::vector<std::int64_t>{second, first});
  CHECK(ids_of(c, org, "/api/v1/orders") == std::vector<std::int64_t>{theirs});
  auto item = get_page(c, consumer, "/api/v1/orders").items.front();
  CHECK(item.find("ship_to")->find("name")->as_string() == "张三明");
  CHECK(item.find("ship_to")->find("phone")->as_string() == "13711112222");
  CHECK(item.find("title")->as_string() == "蜜瓜");
  CHECK(item.find("item_count")->as_integer() == 1);
  CHECK(item.find("status")->as_string() == "pending_payment");
  CHECK(item.find("paid_at")->type() == Json::Type::null);
  CHECK(ids_of(c, consumer, "/api/v1/orders?status=paid").empty());
  CHECK(
      ids_of(c, consumer, "/api/v1/orders?from=" + today(server) + "&to=" + today(server)).size() ==
      2);
  CHECK(ids_of(c, consumer, "/api/v1/orders?to=2020-01-01").empty());
}

STORE_TEST("a farmer lists the orders of the shops their household belongs to, and no other",
           "[http][orders-list]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const auto consumer = server.login(kConsumer);
  const auto mine = order(c, consumer, list_product(server, c, "蜜瓜"), "a1");
  const auto elsewhere = order(c, consumer, other_county_product(server), "a2");
  // 王建国's household sells in its own shop: the order is its.
  CHECK(ids_of(c, server.login(kFarmer), "/api/v1/orders") == std::vector<std::int64_t>{mine});
  // 李秀英's household is in the cooperative only, and the cooperative sold nothing.
  CHECK(ids_of(c, server.login(kOtherFarmer), "/api/v1/orders").empty());
  CHECK(ids_of(c, server.login(kShopManager), "/api/v1/orders").empty());
  // The other county's order is nobody's here but the admin's.
  CHECK(ids_of(c, server.login(kAdmin), "/api/v1/orders") ==
        std::vector<std::int64_t>{elsewhere, mine});
}

STORE_TEST("a cooperative's orders are its manager's, not its member farmers'",
           "[http][orders-list]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const auto manager = server.login(kShopManager);
  // The cooperative sells 李秀英's (household 2) melons.
  auto listed = post_json(c, "/api/v1/products", listing("合作社蜜瓜", "620621104201", 2, 2),
                          bearer(manager));
  REQUIRE(listed.status == 201);
  const auto sold = order(c, server.login(kConsumer), json_int(listed.body, "id"), "coop-1");
  CHECK(ids_of(c, manager, "/api/v1/orders") == std::vector<std::int64_t>{sold});
  // A member sees neither the order nor, through it, the cooperative's buyers.
  CHECK(ids_of(c, server.login(kOtherFarmer), "/api/v1/orders").empty());
}

STORE_TEST("a shop's to-pack list holds its paid orders, with the time to pack them by",
           "[http][orders-list]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const auto consumer = server.login(kConsumer), farmer = server.login(kFarmer);
  const auto unpaid = buy(server, c, consumer).order;
  const auto paid = buy_and_pay(server, c, consumer).order;
  CHECK(ids_of(c, farmer, "/api/v1/orders") == std::vector<std::int64_t>{paid, unpaid});
  auto p = get_page(c, farmer, "/api/v1/orders?to_pack=true");
  REQUIRE(p.ids == std::vector<std::int64_t>{paid});
  const auto& item = p.items.front();
  CHECK(item.find("status")->as_string() == "paid");
  REQUIRE(item.find("paid_at")->type() == Json::Type::string);
  const auto paid_at = item.find("paid_at")->as_string();
  const auto pack_by = item.find("pack_by")->as_string();
  CHECK(pack_by > paid_at);
  CHECK(pack_by.substr(0, 10) != paid_at.substr(0, 10));  // a day later
  auto packed = post_json(c, "/api/v1/orders/" + std::to_string(paid) + "/status",
                          R"({"status":"packed"})", bearer(farmer));
  REQUIRE(packed.status == 200);
  CHECK(ids_of(c, farmer, "/api/v1/orders?to_pack=true").empty());
  CHECK(ids_of(c, farmer, "/api/v1/orders?status=packed") == std::vector<std::int64_t>{paid});
}

STORE_TEST("a station lists the orders routed through its node, the recipient masked",
           "[http][orders-list]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const auto consumer = server.login(kConsumer), station = server.login(kStation);
  const auto unpaid = buy(server, c, consumer).order;
  const auto paid = buy_and_pay(server, c, consumer).order;
  std::vector<std::int64_t> seen;
  REQUIRE(eventually([&] {
    seen = ids_of(c, station, "/api/v1/orders");
    return !seen.empty();
  }));
  CHECK(seen == std::vector<std::int64_t>{paid});  // the unpaid one has no shipment
  CHECK(std::find(seen.begin(), seen.end(), unpaid) == seen.end());
  auto item = get_page(c, station, "/api/v1/orders").items.front();
  CHECK(item.find("ship_to")->find("name")->as_string() != "张三明");
  CHECK(item.find("ship_to")->find("phone")->as_string() != "13711112222");
  CHECK(ids_of(c, station, "/api/v1/orders?status=paid") == std::vector<std::int64_t>{paid});
  CHECK(ids_of(c, station, "/api/v1/orders?status=completed").empty());
}

STORE_TEST("a station filters the orders routed through it by status, dates, shop and village",
           "[http][orders-list]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const auto consumer = server.login(kConsumer), station = server.login(kStation);
  const auto paid = buy_and_pay(server, c, consumer).order;
  REQUIRE(eventually([&] { return !ids_of(c, station, "/api/v1/orders").empty(); }));
  const std::string own_shop = std::to_string(
      get_page(c, station, "/api/v1/orders").items.front().find("shop_id")->as_integer());
  struct Case {
    std::string query;
    bool listed;
  };
  const std::vector<Case> cases = {
      {"?status=paid", true},
      {"?status=packed", false},
      {"?from=2000-01-01", true},
      {"?from=2099-01-01", false},
      {"?to=2099-12-31", true},
      {"?to=2000-01-01", false},
      {"?shop=" + own_shop, true},
      {"?shop=999999", false},  // any shop's parcels may pass: another is no refusal
      {"?village=620621104201", true},
      {"?village=620621101201", false},
      {"?status=paid&from=2000-01-01&to=2099-12-31&shop=" + own_shop + "&village=620621104201",
       true},
  };
  for (const auto& k : cases) {
    CAPTURE(k.query);
    const auto ids = ids_of(c, station, "/api/v1/orders" + k.query);
    CHECK(ids == (k.listed ? std::vector<std::int64_t>{paid} : std::vector<std::int64_t>{}));
  }
}

STORE_TEST("a centre lists its county's orders only, by shop, village, status and dates",
           "[http][orders-list]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const auto consumer = server.login(kConsumer), centre = server.login(kCentre);
  const auto product = list_product(server, c, "蜜瓜");
  const auto a = order(c, consumer, product, "a1");
  const auto b = order(c, consumer, product, "a2");
  order(c, consumer, other_county_product(server), "a3");
  const std::vector<std::int64_t> county{b, a};
  CHECK(ids_of(c, centre, "/api/v1/orders") == county);
  CHECK(ids_of(c, server.login(kOffice), "/api/v1/orders") == county);
  CHECK(ids_of(c, server.login(kTownshipOffice), "/api/v1/orders") == county);
  CHECK(ids_of(c, centre, "/api/v1/orders?village=620621104201") == county);
  CHECK(ids_of(c, centre, "/api/v1/orders?village=620621104202").empty());
  CHECK(ids_of(c, centre, "/api/v1/orders?status=pending_payment&from=" + today(server)) == county);
  CHECK(ids_of(c, centre, "/api/v1/orders?status=paid").empty());
  CHECK(ids_of(c, centre, "/api/v1/orders?from=2020-01-01&to=2020-12-31").empty());
  auto shop = get_page(c, centre, "/api/v1/orders").items.front().find("shop_id")->as_integer();
  CHECK(ids_of(c, centre, "/api/v1/orders?shop=" + std::to_string(shop)) == county);
}

STORE_TEST("paging walks every order exactly once, whatever the page size", "[http][orders-list]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const auto consumer = server.login(kConsumer);
  const auto product = list_product(server, c, "蜜瓜");
  std::set<std::int64_t> placed;
  for (int i = 0; i < 7; ++i) placed.insert(order(c, consumer, product, "k" + std::to_string(i)));
  for (const auto& [who, path] : std::vector<std::pair<std::string, std::string>>{
           {kConsumer, "/api/v1/orders"},
           {kCentre, "/api/v1/orders?village=620621104201"},
           {kAdmin, "/api/v1/orders?status=pending_payment"}}) {
    for (int limit : {1, 3, 7, 100}) {
      CAPTURE(who, path, limit);
      const auto all = walk(c, server.login(who), path, limit);
      CHECK(all.size() == placed.size());
      CHECK(std::set<std::int64_t>(all.begin(), all.end()) == placed);
      CHECK(std::is_sorted(all.rbegin(), all.rend()));  // newest first
    }
  }
}

STORE_TEST("a bad order-list query is refused, naming the field", "[http][orders-list]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const auto product = list_product(server, c, "蜜瓜");
  const auto consumer = server.login(kConsumer);
  for (int i = 0; i < 3; ++i) order(c, consumer, product, "k" + std::to_string(i));
  const std::string cursor = get_page(c, server.login(kCentre), "/api/v1/orders?limit=1").next;
  REQUIRE(!cursor.empty());
  std::string tampered = cursor;
  tampered[tampered.size() / 2] = tampered[tampered.size() / 2] == 'A' ? 'B' : 'A';
  struct Refusal {
    std::string who, query;
    int status;
    std::string code, field;
  };
  const std::vector<Refusal> table = {
      {"", "", 401, "", ""},
      {"13600000001", "", 403, "role_not_allowed", ""},  // a helper has no order list
      {kCentre, "?colour=red", 400, "unknown_parameter", "colour"},
      {kConsumer, "?shop=1&status=nope", 400, "filter_not_allowed", "shop"},
      {kConsumer, "?to_pack=true", 400, "filter_not_allowed", "to_pack"},
      {kFarmer, "?village=620621104201", 400, "filter_not_allowed", "village"},
      {kStation, "?to_pack=true", 400, "filter_not_allowed", "to_pack"},
      {kCentre, "?to_pack=true", 400, "filter_not_allowed", "to_pack"},
      {kCentre, "?status=lost&from=bad", 400, "invalid_status", "status"},
      {kStation, "?status=lost&from=bad", 400, "invalid_status", "status"},
      {kCentre, "?from=2026-02-30", 400, "invalid_date", "from"},
      {kStation, "?from=2026-02-30", 400, "invalid_date", "from"},
      {kCentre, "?to=26-01-01", 400, "invalid_date", "to"},
      {kStation, "?to=26-01-01", 400, "invalid_date", "to"},
      {kCentre, "?from=2026-03-02&to=2026-03-01", 400, "invalid_date_range", "from"},
      {kStation, "?from=2026-03-02&to=2026-03-01", 400, "invalid_date_range", "from"},
      {kCentre, "?shop=abc", 400, "invalid_type", "shop"},
      {kStation, "?shop=0", 400, "invalid_type", "shop"},
      {kCentre, "?village=6206211042", 400, "invalid_region_code", "village"},
      {kStation, "?village=6206211042", 400, "invalid_region_code", "village"},
      {kFarmer, "?to_pack=yes", 400, "invalid_type", "to_pack"},
      {kFarmer, "?to_pack=true&status=paid", 400, "filter_not_allowed", "status"},
      {kCentre, "?limit=0", 400, "", "limit"},
      {kCentre, "?limit=1&cursor=" + tampered, 400, "invalid_cursor", "cursor"},
      {kCentre, "?limit=1&status=paid&cursor=" + cursor, 400, "invalid_cursor", "cursor"},
      {kOffice, "?limit=1&cursor=" + cursor, 400, "invalid_cursor", "cursor"},
      {kCentre, "?village=620622100201", 403, "outside_your_area", "village"},
      {kTownshipOffice, "?village=620621101201", 403, "outside_your_area", "village"},
      {kCentre, "?shop=999999", 403, "outside_your_area", "shop"},
  };
  for (const auto& r : table) {
    CAPTURE(r.who, r.query);
    auto reply = c.request("GET", "/api/v1/orders" + r.query, "",
                           r.who.empty() ? Headers{} : bearer(server.login(r.who)));
    CHECK(reply.status == r.status);
    if (!r.code.empty()) CHECK(error_code(reply) == r.code);
    if (!r.field.empty()) CHECK(error_field(reply) == r.field);
  }
  CHECK(get_page(c, server.login(kCentre), "/api/v1/orders?limit=1&cursor=" + cursor).ids.size() ==
        1);
}

namespace {

// The list of `q` from the position {2, 9}, dated when `dated`.
mk::OrderListQuery positioned(mk::OrderListQuery q, bool dated) {
  if (dated) {
    q.from_ms = 1;
    q.to_ms = 2;
  }
  q.after = std::vector<std::int64_t>{2, 9};
  return q;
}

}  // namespace

STORE_TEST("each list reads its own index in the list's order", "[http][orders-list]") {
  TestServer server(store_kind);
  const auto paid = mk::OrderStatus::paid;
  struct Case {
    const char* list;
    mk::OrderListQuery query;
    const char* index;
  };
  const std::vector<Case> table = {
      {"a buyer's", {.buyer = 5}, "orders_list_buyer"},
      {"a shop's", {.shops = {mk::ShopId{1}}}, "orders_list_shop"},
      {"a shop's by status", {.shops = {mk::ShopId{1}}, .status = paid}, "orders_list_shop_status"},
      {"a shop's to pack", {.shops = {mk::ShopId{1}}, .to_pack = true}, "orders_list_to_pack"},
      {"a village's", {.area = "620621104201"}, "orders_list_village"},
      {"a village's by status",
       {.area = "620621104201", .status = paid},
       "orders_list_village_status"},
      {"a county's", {.area = "620621"}, "orders_list_county"},
      {"a county's by status", {.area = "620621", .status = paid}, "orders_list_county_status"},
      {"a township's by status",
       {.area = "620621104", .status = paid},
       "orders_list_county_status"},
  };
  const bool lite = server.store().kind() == StoreKind::sqlite;
  for (const auto& c : table)
    for (const bool dated : {false, true}) {
      CAPTURE(c.list, dated);
      const auto q = positioned(c.query, dated);
      const auto statement = mk::order_list_statement(q, server.store().db().dialect());
      auto plan = server.store().db().read([&](db::Session& s) {
        return s.query_with((lite ? "EXPLAIN QUERY PLAN " : "EXPLAIN ") + statement.sql,
                            statement.params);
      });
      REQUIRE(plan.ok());
      std::string text;
      for (const auto& row : *plan)
        for (std::size_t i = 0; i < row.size(); ++i) text += row.str(i) + " ";
      CAPTURE(text);
      // MariaDB reads the index the statement names; SQLite's planner may take the scope's
      // index without the status (also in the list's order) for a short date range.
      const std::string index = c.index, without_status = "_status";
      auto reads = [&](const std::string& i) { return text.find(i + " ") != std::string::npos; };
      CHECK((reads(index) || (lite && index.ends_with(without_status) &&
                              reads(index.substr(0, index.size() - without_status.size())))));
      CHECK(text.find("TEMP B-TREE") == std::string::npos);  // no sort: the index's order
      CHECK(text.find("filesort") == std::string::npos);
      // And the statement runs (an index named to MariaDB must exist).
      auto listed = server.store().db().read([&](db::Session& s) { return mk::list_orders(s, q); });
      CHECK(listed.ok());
    }
}

STORE_TEST("the running campaigns are listed for anyone, each with its listings and prices",
           "[http][campaigns]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const auto centre = server.login(kCentre);
  const auto melon = list_product(server, c, "蜜瓜");
  const auto now = server.clock().now_ms();
  auto campaign = [&](const std::string& name, std::int64_t starts, std::int64_t ends) {
    auto r = post_json(c, "/api/v1/campaigns",
                       R"({"name":")" + name + R"(","kind":"consumption","starts_at_ms":)" +
                           std::to_string(starts) + R"(,"ends_at_ms":)" + std::to_string(ends) +
                           R"(,"discount_bps":2000,"items":[{"product_id":)" +
                           std::to_string(melon) + "}]}",
                       bearer(centre));
    REQUIRE(r.status == 201);
    return json_int(r.body, "id");
  };
  const std::int64_t hour = 3'600'000;
  const auto first = campaign("春节", now - hour, now + hour);
  const auto second = campaign("助农", now - hour, now + hour);
  const auto later = campaign("中秋", now + hour, now + 2 * hour);
  CHECK(walk(c, "", "/api/v1/campaigns", 1) == std::vector<std::int64_t>{second, first});
  CHECK(ids_of(c, "", "/api/v1/campaigns?region=620622").empty());
  CHECK(ids_of(c, "", "/api/v1/campaigns?region=620621104201").size() == 2);
  auto detail = c.request("GET", "/api/v1/campaigns/" + std::to_string(first), "", {});
  REQUIRE(detail.status == 200);
  auto doc = Json::parse(detail.body);
  CHECK(doc->find("running")->as_bool());
  const auto& listing = doc->find("listings")->as_array().front();
  CHECK(listing.find("product_id")->as_integer() == melon);
  CHECK(listing.find("price_fen")->as_integer() == 1000);
  CHECK(listing.find("campaign_price_fen")->type() == Json::Type::null);  // no consent yet
  auto consent =
      post_json(c, "/api/v1/campaigns/" + std::to_string(first) + "/consent",
                R"({"shop_id":)" + std::to_string(listing.find("shop_id")->as_integer()) + "}",
                bearer(server.login(kFarmer)));
  REQUIRE(consent.status == 200);
  detail = c.request("GET", "/api/v1/campaigns/" + std::to_string(first), "", {});
  CHECK(Json::parse(detail.body)
            ->find("listings")
            ->as_array()
            .front()
            .find("campaign_price_fen")
            ->as_integer() == 800);
  auto upcoming = c.request("GET", "/api/v1/campaigns/" + std::to_string(later), "", {});
  CHECK(!Json::parse(upcoming.body)->find("running")->as_bool());
  CHECK(c.request("GET", "/api/v1/campaigns/999", "", {}).status == 404);
  auto bad = c.request("GET", "/api/v1/campaigns?region=62", "", {});
  CHECK(bad.status == 400);
  CHECK(error_field(bad) == "region");
}

STORE_TEST("an organisation's progress counts what its buyers paid, and its certified share",
           "[http][organisations]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const auto org = server.login(kOrgBuyer);
  const auto unpaid = buy(server, c, org);
  buy_and_pay(server, c, org);
  auto progress = [&](const std::string& token) {
    return c.request("GET", "/api/v1/organisations/1/progress", "", bearer(token));
  };
  auto r = progress(org);
  REQUIRE(r.status == 200);
  CHECK(json_int(r.body, "budget_fen") == 50000000);
  CHECK(json_int(r.body, "spent_fen") == 2 * 3980);  // the paid order: two melons
  CHECK(json_int(r.body, "committed_fen") == 4 * 3980);
  CHECK(json_int(r.body, "remaining_fen") == 50000000 - 4 * 3980);
  CHECK(json_int(r.body, "paid_orders") == 1);
  CHECK(json_int(r.body, "unpaid_orders") == 1);
  CHECK(json_int(r.body, "certified_share_bps") == 0);  // the melon is not certified
  CHECK(json_int(r.body, "required_share_bps") == 3000);
  CHECK(progress(server.login(kCentre)).status == 200);  // a paired county's centre
  CHECK(progress(server.login(kAdmin)).status == 200);
  CHECK(progress(server.login(kConsumer)).status == 403);
  CHECK(c.request("GET", "/api/v1/organisations/2/progress", "", bearer(org)).status == 404);
  // Its buyer's orders are in its order list.
  CHECK(ids_of(c, org, "/api/v1/orders").size() == 2);
  CHECK(ids_of(c, org, "/api/v1/orders?status=pending_payment") ==
        std::vector<std::int64_t>{unpaid.order});
}

STORE_TEST("orders placed before the list columns get them from their shop, lines and events",
           "[orders-list][migrations]") {
  TestStore store(store_kind);
  auto all = mk::migrations();
  std::vector<db::Migration> before;
  for (const auto& m : all)
    if (!(m.module == "marketplace" && m.version == 16)) before.push_back(m);
  REQUIRE(db::migrate(store.db(), before).ok());
  auto filled = store.db().write([](db::Session& tx) -> Status {
    CUNHUO_TRY(
        tx.exec("INSERT INTO shops (id, name, kind, village_code, created_at) "
                "VALUES (7, '小店', 'household', '620621104201', 1)"));
    CUNHUO_TRY(tx.exec(
        "INSERT INTO orders (id, checkout_id, buyer_id, shop_id, status, total_fen, ship_name, "
        "ship_phone, ship_address, ship_region, created_at, updated_at, expires_at) "
        "VALUES (3, 1, 5, 7, 'paid', 2000, '张三明', '13711112222', '某路1号', '620102', 10, "
        "20, 30)"));
    for (const char* title : {"蜜瓜", "苁蓉"})
      CUNHUO_TRY(
          tx.exec("INSERT INTO order_lines (order_id, product_id, title, quantity, unit_price_fen, "
                  "line_total_fen, temperature_class, producers) VALUES (3, 1, ?, 1, 1000, 1000, "
                  "'ambient', '[]')",
                  {title}));
    CUNHUO_TRY(
        tx.exec("INSERT INTO order_events (order_id, from_status, to_status, actor, "
                "reason, at) VALUES (3, 'pending_payment', 'paid', 'payments', 'paid', 15)"));
    return {};
  });
  REQUIRE(filled.ok());
  REQUIRE(db::migrate(store.db(), all).ok());
  mk::OrderListQuery q;
  q.area = "620621";
  auto page = store.db().read([&](db::Session& s) { return mk::list_orders(s, q); });
  REQUIRE(page.ok());
  REQUIRE(page->items.size() == 1);
  const auto& o = page->items.front();
  CHECK(o.shop_village == "620621104201");
  CHECK(o.paid_at_ms == std::optional<std::int64_t>(15));
  CHECK(o.item_count == 2);
  CHECK(o.first_title == "蜜瓜");
}
