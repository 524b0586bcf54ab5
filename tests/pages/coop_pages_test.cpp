// The cooperative manager's pages over HTTP: its orders to pack across members, labels,
// listings made for members with their shares, its member households and requests to join,
// its orders across members and this month's income by member share; only a cooperative's
// manager opens them, and sees only their own cooperative.
#include <catch2/catch.hpp>

#include "tests/pages/page_support.hpp"
#include "tests/support/flows.hpp"

using namespace cunhuo;
using namespace cunhuo::test;

namespace {

// 西渠 cooperative (shop 2): members 王建国 (household 1), 李秀英 (2) and 张明德 (3).
const std::string kCoopManager = "13900000002";
// The fixture has no manager of a household shop: the refusal test makes the org buyer one
// (of 王's household shop, shop 1) in its own store.
const std::string kHouseholdShopManager = "13900000004";
const std::string kCoopShop = "2";

// A melon the cooperative lists for two members: 60 % 王's, 40 % 李's.
const std::string kCoopMelon =
    R"({"shop_id":2,"title":"西渠合作社蜜瓜","category":"水果","unit":"box","price_fen":3980,)"
    R"("stock":5,"temperature_class":"chilled","shelf_life_days":20,)"
    R"("origin_code":"620621104201","producers":[{"household_id":1,"share_bps":6000},)"
    R"({"household_id":2,"share_bps":4000}]})";

const FormFields kCoopForm = {{"key", "coop-key-1"}, {"title", "合作社蜜瓜"}, {"price", "39.80"},
                              {"unit", "box"},       {"stock", "20"},         {"category", "水果"},
                              {"share_1", "60"},     {"share_2", "40"},       {"share_3", ""}};

FormFields with(FormFields form, const std::string& name, const std::string& value) {
  for (auto& [k, v] : form)
    if (k == name) {
      v = value;
      return form;
    }
  form.emplace_back(name, value);
  return form;
}

// A store with the cooperative's manager signed in on a browser; with a paid order of the
// cooperative when asked for one.
struct Coop {
  TestServer server;
  HttpClient c;
  std::string consumer;
  Browser manager;
  Bought order;

  explicit Coop(StoreKind kind, bool with_order = false)
      : server(kind), c(server.port()), consumer(server.login(kConsumer)), manager(server) {
    manager.sign_in(server.login(kCoopManager));
    if (with_order) order = buy_and_pay(server, c, consumer, kCoopMelon, kCoopManager);
  }
  std::string order_path() const { return "/coop/orders/" + std::to_string(order.order); }
  std::string status() { return order_status(c, consumer, order.order); }
};

}  // namespace

STORE_TEST("the cooperative's manager sees its paid order to pack, with deadline and pick-up point",
           "[pages][coop]") {
  Coop coop(store_kind, true);
  const auto parcels = tracking_numbers(coop.c, coop.consumer, coop.order.order);
  REQUIRE_FALSE(parcels.empty());
  auto home = coop.manager.get("/coop");
  REQUIRE(home.status == 200);
  CHECK(has(home.body, "#" + std::to_string(coop.order.order) + " 西渠合作社蜜瓜"));
  CHECK(has(home.body, "打包截止"));
  CHECK(has(home.body, parcels.front()));
  CHECK(has(home.body, "href=\"/coop/members\""));
  CHECK(has(home.body, "<h1>合作社工作台</h1>"));
}

STORE_TEST("the cooperative's manager marks an order packed on the page", "[pages][coop]") {
  Coop coop(store_kind, true);
  coop.manager.get("/coop");
  auto packed = coop.manager.post(coop.order_path() + "/packed", {});
  REQUIRE(packed.status == 303);
  CHECK(packed.header("location") ==
        std::optional<std::string>("/coop?packed=" + std::to_string(coop.order.order)));
  CHECK(coop.status() == "packed");
}

STORE_TEST("the cooperative's label shows each parcel's tracking number as a QR code",
           "[pages][coop]") {
  Coop coop(store_kind, true);
  const auto parcels = tracking_numbers(coop.c, coop.consumer, coop.order.order);
  REQUIRE_FALSE(parcels.empty());
  auto label = coop.manager.get(coop.order_path() + "/label");
  REQUIRE(label.status == 200);
  CHECK(has(label.body, "<svg"));
  CHECK(has(label.body, parcels.front()));
}

STORE_TEST("a cooperative listing keeps each member's percent as basis points", "[pages][coop]") {
  Coop coop(store_kind);
  auto form = coop.manager.get("/coop/list");
  REQUIRE(form.status == 200);
  CHECK(has(form.body, "name=\"share_2\""));
  CHECK(has(form.body, "李*英"));
  auto listed =
      coop.manager.post_multipart("/coop/list", kCoopForm, "photo", camera_jpeg(640, 480));
  REQUIRE(listed.status == 303);
  CHECK(has(listed.header("location").value_or(""), "/coop/listings?new="));
  CHECK(coop.server.count("SELECT COUNT(*) FROM products p JOIN product_producers pp ON "
                          "pp.product_id = p.id WHERE p.title = '合作社蜜瓜' AND p.shop_id = 2 AND "
                          "((pp.household_id = 1 AND pp.share_bps = 6000) OR "
                          "(pp.household_id = 2 AND pp.share_bps = 4000))") == 2);
  CHECK(has(coop.manager.get("/coop/listings").body, "王*国 60% · 李*英 40%"));
}

STORE_TEST("the same cooperative listing form sent twice lists the product once", "[pages][coop]") {
  Coop coop(store_kind);
  coop.manager.get("/coop/list");
  const auto first = coop.manager.post_multipart("/coop/list", kCoopForm, "photo", "");
  REQUIRE(first.status == 303);
  CHECK(coop.manager.post_multipart("/coop/list", kCoopForm, "photo", "").header("location") ==
        first.header("location"));
  CHECK(coop.server.count("SELECT COUNT(*) FROM products WHERE title = '合作社蜜瓜'") == 1);
}

STORE_TEST("a refused cooperative listing says why, keeps what was typed and writes nothing",
           "[pages][coop]") {
  Coop coop(store_kind);
  struct Case {
    std::string what;
    FormFields form;
    std::string photo, says;
    int status = 400;
  };
  // In the order the page checks them: the shares first, then the fields, then the photo.
  const std::vector<Case> refusals = {
      {"shares not summing to 100 %", with(kCoopForm, "share_2", "30"), "", "合计须为 100%"},
      {"a share that is not a percent", with(kCoopForm, "share_2", "四十"), "", "百分数"},
      {"a household not of the cooperative", with(with(kCoopForm, "share_2", ""), "share_5", "40"),
       "", "不是本合作社成员"},
      {"a quantity of 0", with(kCoopForm, "stock", "0"), "", "库存数量"},
      {"a photo that is not one", kCoopForm, "not a jpeg", "照片无法识别", 415},
  };
  for (const auto& r : refusals) {
    INFO(r.what);
    coop.manager.get("/coop/list");
    auto reply = coop.manager.post_multipart("/coop/list", r.form, "photo", r.photo);
    CHECK(reply.status == r.status);
    CHECK(has(reply.body, r.says));
    CHECK(has(reply.body, "value=\"合作社蜜瓜\""));
  }
  CHECK(coop.server.count("SELECT COUNT(*) FROM products WHERE title = '合作社蜜瓜'") == 0);
}

STORE_TEST("the cooperative's manager changes a listing's stock", "[pages][coop]") {
  Coop coop(store_kind);
  coop.manager.get("/coop/list");
  const std::string location = coop.manager.post_multipart("/coop/list", kCoopForm, "photo", "")
                                   .header("location")
                                   .value_or("");
  const std::string id = location.substr(location.find('=') + 1);
  coop.manager.get("/coop/listings");
  CHECK(coop.manager.post("/coop/listings/" + id, {{"price", "35.00"}, {"stock", "7"}}).status ==
        303);
  CHECK(coop.server.count("SELECT COUNT(*) FROM products WHERE id = " + id +
                          " AND stock = 7 AND price_fen = 3500") == 1);
}

STORE_TEST("the members page shows member households masked, with their village", "[pages][coop]") {
  Coop coop(store_kind);
  const std::string members = coop.manager.get("/coop/members").body;
  CHECK(has(members, "王*国"));
  CHECK(has(members, "张*德 <span class=\"muted\">620621104202"));  // another village
  CHECK_FALSE(has(members, "王建国"));
}

STORE_TEST("the cooperative's manager accepts a household's request to join", "[pages][coop]") {
  Coop coop(store_kind);
  const std::string li = coop.server.login(kOtherFarmer);  // 李's household leaves, asks back
  REQUIRE(coop.c.request("POST", "/api/v1/shops/2/leave", "", bearer(li)).status == 200);
  auto asked = post_json(coop.c, "/api/v1/shops/2/membership-requests", "{}", bearer(li));
  REQUIRE(asked.status == 201);
  const std::string request = "/coop/requests/" + std::to_string(json_int(asked.body, "id"));
  REQUIRE(has(coop.manager.get("/coop/members").body, "action=\"" + request + "\""));
  CHECK(coop.manager.post(request, {{"accept", "yes"}}).status == 303);
  CHECK(coop.server.count(
            "SELECT COUNT(*) FROM shop_members WHERE shop_id = 2 AND household_id = 2") == 1);
}

STORE_TEST("the cooperative's manager invites a household of the county", "[pages][coop]") {
  Coop coop(store_kind);
  coop.manager.get("/coop/members");
  CHECK(coop.manager.post("/coop/members/invite", {{"household_id", "5"}}).status == 303);
  CHECK(coop.server.count("SELECT COUNT(*) FROM membership_requests WHERE shop_id = 2 AND "
                          "household_id = 5 AND direction = 'invite' AND status = 'pending'") == 1);
  CHECK(has(coop.manager.get("/coop/members").body, "马*福"));
}

STORE_TEST("the orders page shows each order with the members whose goods it holds",
           "[pages][coop]") {
  Coop coop(store_kind, true);
  auto page = coop.manager.get("/coop/orders");
  REQUIRE(page.status == 200);
  CHECK(has(page.body, "#" + std::to_string(coop.order.order)));
  CHECK(has(page.body, "王*国、李*英"));
}

STORE_TEST("a tampered cursor on the orders page is refused", "[pages][coop]") {
  Coop coop(store_kind);
  CHECK(coop.manager.get("/coop/orders?cursor=forged").status == 400);
}

STORE_TEST("the income page shows this month's sales line by line by member share",
           "[pages][coop]") {
  Coop coop(store_kind, true);
  deliver_by_scans(coop.server, coop.c, coop.order.order);
  const std::string confirm =
      "/api/v1/orders/" + std::to_string(coop.order.order) + "/confirm-receipt";
  REQUIRE(coop.c.request("POST", confirm, "", bearer(coop.consumer)).status == 200);
  REQUIRE(eventually([&] { return has(coop.manager.get("/coop/income").body, "60%"); }));
  const auto page = coop.manager.get("/coop/income").body;
  CHECK(has(page, "#" + std::to_string(coop.order.order)));
  CHECK(has(page, "<td>王*国</td><td class=\"n\">60%</td>"));
  CHECK(has(page, "<td>李*英</td><td class=\"n\">40%</td>"));
}

TEST_CASE("the cooperative's pages are its own manager's", "[pages][coop]") {
  TestServer server(StoreKind::sqlite);
  HttpClient c(server.port());
  const std::string consumer = server.login(kConsumer);
  auto made = server.app().db().write([&](db::Session& tx) -> Result<int> {
    CUNHUO_TRY(tx.exec("UPDATE accounts SET role = 'shop_manager', shop_id = 1 WHERE phone = ?",
                       {kHouseholdShopManager}));
    return 0;
  });
  REQUIRE(made.ok());
  const Bought other = buy_and_pay(server, c, consumer);  // 王's household shop
  const std::string order = std::to_string(other.order);
  // A visitor logs in first; another role, or a household shop's manager, is refused; the
  // cooperative's manager finds no order of another shop.
  check_refusals(server, {
                             {"a visitor", "", "GET", "/coop", 303, "/login?next=/coop"},
                             {"a consumer", consumer, "GET", "/coop", 403, ""},
                             {"a farmer", server.login(kFarmer), "GET", "/coop/members", 403, ""},
                             {"a household shop's manager", server.login(kHouseholdShopManager),
                              "GET", "/coop", 403, ""},
                             {"a household shop's manager", server.login(kHouseholdShopManager),
                              "GET", "/coop/orders", 403, ""},
                             {"a household shop's manager", server.login(kHouseholdShopManager),
                              "GET", "/coop/list", 403, ""},
                             {"a household shop's manager", server.login(kHouseholdShopManager),
                              "GET", "/coop/income", 403, ""},
                             {"a household shop's manager", server.login(kHouseholdShopManager),
                              "POST", "/coop/orders/" + order + "/packed", 403, ""},
                             {"the cooperative's manager", server.login(kCoopManager), "GET",
                              "/coop/orders/" + order + "/label", 404, ""},
                             {"the cooperative's manager", server.login(kCoopManager), "POST",
                              "/coop/orders/" + order + "/packed", 404, ""},
                         });
  Browser shop_manager(server);  // refused as a manager, not for another role
  shop_manager.sign_in(server.login(kHouseholdShopManager));
  CHECK(has(shop_manager.get("/coop").body, "仅供合作社经理"));
  CHECK(order_status(c, consumer, other.order) == "paid");
}
