// Shops over real TCP: a household opens its own shop, a cooperative opens once its county
// approves it, households join only by their own consent and leave, a shop's public page,
// the shops of a village a page at a time, and Taobao villages.
#include "core/json.hpp"
#include "marketplace/catalog.hpp"
#include "marketplace/id_numbers.hpp"
#include "marketplace/shops.hpp"
#include "tests/support/flows.hpp"
#include "tests/support/server.hpp"

using namespace cunhuo;
using namespace cunhuo::test;
namespace mk = cunhuo::marketplace;

namespace {

const std::string kManager = "13900000002";  // manages 西渠 cooperative (shop 2)
const std::string kTownshipOffice = "13900000010";
constexpr std::int64_t kWangShop = 1, kXiquCoop = 2;
constexpr std::int64_t kWang = 1, kLi = 2, kZhang = 3;

// An account the seed does not have; the password is the seed's.
void add_account(TestServer& server, const std::string& phone, storefront::Role role,
                 const std::string& region, std::optional<std::int64_t> household = {}) {
  storefront::Auth auth(server.app().db(), server.clock());
  auto made = server.app().db().write([&](db::Session& tx) {
    return auth.create_account(tx, storefront::NewAccount{.phone = phone,
                                                          .password = "cunhuo-demo",
                                                          .display_name = "测试账号",
                                                          .role = role,
                                                          .region_code = region,
                                                          .household_id = household});
  });
  REQUIRE(made.ok());
}

std::string shop_path(std::int64_t id) { return "/api/v1/shops/" + std::to_string(id); }

std::size_t members_on_page(HttpClient& c, std::int64_t shop) {
  auto page = c.request("GET", shop_path(shop));
  REQUIRE(page.status == 200);
  return Json::parse(page.body)->find("members")->as_array().size();
}

// A new manager's cooperative in 西渠 village, approved by the county office.
std::int64_t approved_cooperative(TestServer& server, HttpClient& c, const std::string& phone) {
  add_account(server, phone, storefront::Role::shop_manager, "620621104201");
  auto proposed = post_json(c, "/api/v1/cooperatives",
                            R"({"name":"红沙梁蜜瓜合作社","village_code":"620621104201"})",
                            bearer(server.login(phone)));
  REQUIRE(proposed.status == 201);
  const std::int64_t id = json_int(proposed.body, "id");
  auto approved =
      post_json(c, "/api/v1/cooperatives/" + std::to_string(id) + "/decision",
                R"({"approve":true,"reason":"章程齐全"})", bearer(server.login(kOffice)));
  REQUIRE(approved.status == 200);
  return id;
}

std::string listing_in(std::int64_t shop, const std::string& producers) {
  return R"({"shop_id":)" + std::to_string(shop) +
         R"(,"title":"民勤蜜瓜","category":"水果","unit":"box","price_fen":3980,"stock":50,)"
         R"("temperature_class":"chilled","shelf_life_days":20,"origin_code":"620621104201",)"
         R"("producers":)" +
         producers + "}";
}

HttpReply order(HttpClient& c, const std::string& consumer, std::int64_t product,
                const std::string& key) {
  return post_json(c, "/api/v1/orders",
                   R"({"items":[{"product_id":)" + std::to_string(product) +
                       R"(,"quantity":1}],"shipping_address":{"name":"张三明",)"
                       R"("phone":"13711112222","address":"兰州市城关区某路1号",)"
                       R"("region_code":"620102"}})",
                   bearer(consumer, {{"Idempotency-Key", key}}));
}

}  // namespace

STORE_TEST("a farmer opens the household's own shop, once", "[http][shops]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string li = server.login(kOtherFarmer);
  auto opened = post_json(c, "/api/v1/shops",
                          R"({"name":"李家枸杞小店","story":"三亩枸杞，自家晾晒"})", bearer(li));
  REQUIRE(opened.status == 201);
  CHECK(str_field(opened.body, "kind") == "household");
  CHECK(str_field(opened.body, "status") == "active");
  CHECK(str_field(opened.body, "village_code") == "620621104201");
  CHECK(opened.body.find(R"("members":[{"head_name":"李*英"}])") != std::string::npos);
  CHECK(opened.body.find("李秀英") == std::string::npos);
  // Refusals in the order they are checked.
  struct Case {
    const char* why;
    std::string token, body;
    int status;
    std::string code;
  };
  const std::vector<Case> cases = {
      {"a consumer has no household", server.login(kConsumer), R"({"name":"x"})", 403,
       "role_not_allowed"},
      {"no name", li, R"({"story":"x"})", 400, "missing_field"},
      {"a second shop of the same household", li, R"({"name":"又一家"})", 409,
       "household_shop_exists"},
      {"the seed's household shop counts too", server.login(kFarmer), R"({"name":"王家二店"})", 409,
       "household_shop_exists"},
  };
  for (const auto& k : cases) {
    INFO(k.why);
    auto refused = post_json(c, "/api/v1/shops", k.body, bearer(k.token));
    CHECK(refused.status == k.status);
    CHECK(error_code(refused) == k.code);
  }
  CHECK(server.count("SELECT COUNT(*) FROM shops WHERE kind = 'household'") == 2);
}

STORE_TEST("a cooperative opens when its county's office approves it", "[http][shops]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  add_account(server, "13900000031", storefront::Role::shop_manager, "620621104201");
  add_account(server, "13900000032", storefront::Role::poverty_office, "620622");
  const std::string manager = server.login("13900000031");
  auto proposed = post_json(c, "/api/v1/cooperatives",
                            R"({"name":"红沙梁蜜瓜合作社","village_code":"620621104201",)"
                            R"("story":"十二户种瓜"})",
                            bearer(manager));
  REQUIRE(proposed.status == 201);
  CHECK(str_field(proposed.body, "status") == "pending");
  const std::int64_t coop = json_int(proposed.body, "id");
  const std::string decision = "/api/v1/cooperatives/" + std::to_string(coop) + "/decision";
  // Pending, it cannot list and is not among the village's shops.
  CHECK(post_json(c, "/api/v1/products", listing_in(coop, "[]"), bearer(manager)).status == 404);
  CHECK(c.request("GET", "/api/v1/shops?village=620621104201").body.find("红沙梁") ==
        std::string::npos);
  CHECK(error_code(post_json(c, "/api/v1/cooperatives",
                             R"({"name":"又一社","village_code":"620621104201"})",
                             bearer(manager))) == "cooperative_pending");
  CHECK(error_code(post_json(c, "/api/v1/cooperatives",
                             R"({"name":"又一社","village_code":"620621104201"})",
                             bearer(server.login(kManager)))) == "already_manages_a_shop");
  struct Case {
    const char* why;
    std::string token, body;
    int status;
    std::string code;
  };
  const std::string yes = R"({"approve":true,"reason":"章程齐全，成员均为本村农户"})";
  const std::vector<Case> cases = {
      {"the centre does not decide", server.login(kCentre), yes, 403, "role_not_allowed"},
      {"no reason", server.login(kOffice), R"({"approve":true})", 400, "missing_field"},
      {"a township office", server.login(kTownshipOffice), yes, 403, "county_office_only"},
      {"another county's office", server.login("13900000032"), yes, 404, "not_found"},
  };
  for (const auto& k : cases) {
    INFO(k.why);
    auto refused = post_json(c, decision, k.body, bearer(k.token));
    CHECK(refused.status == k.status);
    CHECK(error_code(refused) == k.code);
  }
  auto approved = post_json(c, decision, yes, bearer(server.login(kOffice)));
  REQUIRE(approved.status == 200);
  CHECK(str_field(approved.body, "status") == "active");
  CHECK(error_code(post_json(c, decision, yes, bearer(server.login(kOffice)))) ==
        "already_decided");
  // Approved, the manager's account runs it: it invites at once.
  CHECK(post_json(c, shop_path(coop) + "/membership-requests",
                  R"({"household_id":)" + std::to_string(kLi) + "}", bearer(manager))
            .status == 201);
}

STORE_TEST("a declined cooperative takes no members", "[http][shops]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  add_account(server, "13900000031", storefront::Role::shop_manager, "620621104201");
  const std::string manager = server.login("13900000031");
  auto proposed = post_json(c, "/api/v1/cooperatives",
                            R"({"name":"空壳社","village_code":"620621104201"})", bearer(manager));
  const std::int64_t coop = json_int(proposed.body, "id");
  auto declined =
      post_json(c, "/api/v1/cooperatives/" + std::to_string(coop) + "/decision",
                R"({"approve":false,"reason":"无实际经营"})", bearer(server.login(kOffice)));
  REQUIRE(declined.status == 200);
  CHECK(str_field(declined.body, "status") == "declined");
  auto asked = post_json(c, shop_path(coop) + "/membership-requests", "{}",
                         bearer(server.login(kOtherFarmer)));
  CHECK(asked.status == 409);
  CHECK(error_code(asked) == "shop_declined");
}

STORE_TEST("a household joins a cooperative only with its own consent", "[http][shops]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::int64_t coop = approved_cooperative(server, c, "13900000031");
  const std::string manager = server.login("13900000031"), li = server.login(kOtherFarmer),
                    wang = server.login(kFarmer);
  const std::string requests = shop_path(coop) + "/membership-requests";
  auto answer = [&](std::int64_t request, bool accept, const std::string& token) {
    return post_json(c, "/api/v1/membership-requests/" + std::to_string(request) + "/answer",
                     accept ? R"({"accept":true})" : R"({"accept":false})", bearer(token));
  };
  auto invited = post_json(c, requests, R"({"household_id":2})", bearer(manager));
  REQUIRE(invited.status == 201);
  CHECK(str_field(invited.body, "direction") == "invite");
  const std::int64_t invitation = json_int(invited.body, "id");
  // The manager cannot add the household: not by answering for it, not directly.
  auto for_it = answer(invitation, true, manager);
  CHECK(for_it.status == 403);
  CHECK(error_code(for_it) == "household_consent_required");
  CHECK(
      post_json(c, shop_path(coop) + "/members", R"({"household_id":2})", bearer(manager)).status ==
      404);
  CHECK(answer(invitation, true, wang).status == 404);  // not wang's household
  CHECK(members_on_page(c, coop) == 0);
  auto accepted = answer(invitation, true, li);
  REQUIRE(accepted.status == 200);
  CHECK(str_field(accepted.body, "status") == "accepted");
  CHECK(members_on_page(c, coop) == 1);
  CHECK(error_code(answer(invitation, false, li)) == "request_answered");
  // A household asks; the shop's manager answers.
  auto asked = post_json(c, requests, "{}", bearer(wang));
  REQUIRE(asked.status == 201);
  CHECK(str_field(asked.body, "direction") == "ask");
  CHECK(error_code(answer(json_int(asked.body, "id"), true, wang)) == "shop_consent_required");
  CHECK(answer(json_int(asked.body, "id"), true, manager).status == 200);
  CHECK(members_on_page(c, coop) == 2);
  // A household declining an invitation stays out.
  auto zhang_invited = post_json(c, requests, R"({"household_id":3})", bearer(manager));
  REQUIRE(zhang_invited.status == 201);
  CHECK(server.count("SELECT COUNT(*) FROM shop_members WHERE household_id = 3 AND shop_id = " +
                     std::to_string(coop)) == 0);
}

STORE_TEST("membership requests are refused in order of precedence", "[http][shops]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::int64_t coop = approved_cooperative(server, c, "13900000031");
  const std::string manager = server.login("13900000031"), li = server.login(kOtherFarmer);
  const std::string requests = shop_path(coop) + "/membership-requests";
  REQUIRE(post_json(c, requests, R"({"household_id":3})", bearer(manager)).status == 201);
  struct Case {
    const char* why;
    std::string path, token, body;
    int status;
    std::string code;
  };
  const std::vector<Case> cases = {
      {"a consumer", requests, server.login(kConsumer), "{}", 403, "role_not_allowed"},
      {"an unknown shop", shop_path(999) + "/membership-requests", li, "{}", 404, "not_found"},
      {"another shop's manager", requests, server.login(kManager), R"({"household_id":2})", 404,
       "not_found"},
      {"an invitation naming no household", requests, manager, "{}", 400, "missing_field"},
      {"an unknown household", requests, manager, R"({"household_id":999})", 404,
       "unknown_household"},
      {"a farmer asking for another household", requests, li, R"({"household_id":1})", 403,
       "not_your_household"},
      {"a household shop takes no members", shop_path(kWangShop) + "/membership-requests", li, "{}",
       409, "not_a_cooperative"},
      {"a household already a member", shop_path(kXiquCoop) + "/membership-requests", li, "{}", 409,
       "already_a_member"},
      {"a request already waiting", requests, manager, R"({"household_id":3})", 409,
       "request_pending"},
  };
  for (const auto& k : cases) {
    INFO(k.why);
    auto refused = post_json(c, k.path, k.body, bearer(k.token));
    CHECK(refused.status == k.status);
    CHECK(error_code(refused) == k.code);
  }
  CHECK(server.count("SELECT COUNT(*) FROM membership_requests") == 1);
  CHECK(members_on_page(c, coop) == 0);
}

STORE_TEST("a household that leaves keeps what it sold, and its listing waits for new shares",
           "[http][shops]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string manager = server.login(kManager), consumer = server.login(kConsumer),
                    li = server.login(kOtherFarmer);
  auto listed = post_json(c, "/api/v1/products",
                          listing_in(kXiquCoop, R"([{"household_id":1,"share_bps":5000},)"
                                                R"({"household_id":2,"share_bps":5000}])"),
                          bearer(manager));
  REQUIRE(listed.status == 201);
  const std::int64_t product = json_int(listed.body, "id");
  REQUIRE(order(c, consumer, product, "before-leaving").status == 201);
  auto left = c.request("POST", shop_path(kXiquCoop) + "/leave", "", bearer(li));
  REQUIRE(left.status == 200);
  CHECK(members_on_page(c, kXiquCoop) == 2);
  // The order placed before keeps li's share.
  CHECK(server.count("SELECT COUNT(*) FROM order_lines WHERE producers LIKE "
                     "'%\"household_id\":2,\"share_bps\":5000%'") == 1);
  auto after = order(c, consumer, product, "after-leaving");
  CHECK(after.status == 409);
  CHECK(error_code(after) == "producer_left_shop");
  auto reshared =
      c.request("PATCH", "/api/v1/products/" + std::to_string(product),
                R"({"producers":[{"household_id":1,"share_bps":10000}]})", bearer(manager));
  REQUIRE(reshared.status == 200);
  CHECK(order(c, consumer, product, "after-resharing").status == 201);
  struct Case {
    const char* why;
    std::int64_t shop;
    std::string token;
    int status;
    std::string code;
  };
  const std::vector<Case> cases = {
      {"a manager does not leave for a household", kXiquCoop, manager, 403, "role_not_allowed"},
      {"a household no longer a member", kXiquCoop, li, 404, "not_a_member"},
      {"a household's own shop", kWangShop, server.login(kFarmer), 409, "own_household_shop"},
  };
  for (const auto& k : cases) {
    INFO(k.why);
    auto refused = c.request("POST", shop_path(k.shop) + "/leave", "", bearer(k.token));
    CHECK(refused.status == k.status);
    CHECK(error_code(refused) == k.code);
  }
}

STORE_TEST("anyone reads a shop's page: story, members masked, listings and certificates",
           "[http][shops]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string farmer = server.login(kFarmer);
  auto listed = post_json(c, "/api/v1/products", kMelon, bearer(farmer));
  REQUIRE(listed.status == 201);
  const std::string product = std::to_string(json_int(listed.body, "id"));
  auto applied = post_json(c, "/api/v1/products/" + product + "/certification",
                           R"({"benefit_mechanism":"收益全部归王建国户"})", bearer(farmer));
  const std::string cert = "/api/v1/certifications/" + std::to_string(json_int(applied.body, "id"));
  REQUIRE(post_json(c, cert + "/review", R"({"approve":true,"note":"产地核实无误"})",
                    bearer(server.login(kTownshipOffice)))
              .status == 200);
  REQUIRE(post_json(c, cert + "/approve",
                    R"({"certificate_no":"MQ-2026-007","issuing_office":"民勤县乡村振兴局"})",
                    bearer(server.login(kOffice)))
              .status == 200);
  auto page = c.request("GET", shop_path(kWangShop));  // no account
  REQUIRE(page.status == 200);
  CHECK(str_field(page.body, "kind") == "household");
  CHECK(page.body.find(R"("head_name":"王*国")") != std::string::npos);
  CHECK(page.body.find("王建国") == std::string::npos);
  CHECK(page.body.find("13800000001") == std::string::npos);
  CHECK(page.body.find(R"("title":"民勤沙漠蜜瓜 5斤装")") != std::string::npos);
  CHECK(page.body.find(R"("certified":true)") != std::string::npos);
  CHECK(page.body.find(R"("certificate_no":"MQ-2026-007")") != std::string::npos);
  auto coop = c.request("GET", shop_path(kXiquCoop));
  CHECK(Json::parse(coop.body)->find("members")->as_array().size() == 3);
  CHECK(c.request("GET", shop_path(999)).status == 404);
}

STORE_TEST("the shops of a place come a page at a time", "[http][shops]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  auto first = c.request("GET", "/api/v1/shops?village=620621104201&limit=1");
  REQUIRE(first.status == 200);
  auto doc = Json::parse(first.body);
  REQUIRE(doc->find("items")->as_array().size() == 1);
  CHECK(doc->find("items")->as_array()[0].find("id")->as_integer() == kWangShop);
  const std::string cursor = doc->find("next_cursor")->as_string();
  auto second = c.request("GET", "/api/v1/shops?village=620621104201&limit=1&cursor=" + cursor);
  REQUIRE(second.status == 200);
  auto next = Json::parse(second.body);
  CHECK(next->find("items")->as_array()[0].find("id")->as_integer() == kXiquCoop);
  CHECK(next->find("next_cursor")->is_null());
  CHECK(Json::parse(c.request("GET", "/api/v1/shops?village=620621").body)
            ->find("items")
            ->as_array()
            .size() == 3);
  struct Case {
    const char* why;
    std::string query;
    std::string code;
  };
  const std::vector<Case> cases = {
      {"an undeclared parameter", "?town=620621104", "unknown_parameter"},
      {"not a place", "?village=62x", "invalid_region_code"},
      {"not a flag", "?taobao_village=yes", "invalid_type"},
      {"a cursor of another filter", "?village=620621&cursor=" + cursor, "invalid_cursor"},
      {"a changed cursor", "?village=620621104201&cursor=x" + cursor, "invalid_cursor"},
  };
  for (const auto& k : cases) {
    INFO(k.why);
    auto refused = c.request("GET", "/api/v1/shops" + k.query);
    CHECK(refused.status == 400);
    CHECK(error_code(refused) == k.code);
  }
}

STORE_TEST("a village with enough active shops is a Taobao village, shown and filtered",
           "[http][shops][taobao]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string village = "620621104202";
  auto before = c.request("GET", "/api/v1/villages/" + village);
  REQUIRE(before.status == 200);
  CHECK(before.body.find(R"("taobao_village":false)") != std::string::npos);
  // kTaobaoVillageShops households each open a shop and list one product; the last lists
  // nothing until the end, so the count stands one short first.
  std::vector<std::int64_t> products;
  for (std::int64_t i = 0; i < mk::kTaobaoVillageShops; ++i) {
    const std::string first17 = "62062119800101" + std::to_string(100 + i);
    auto made = server.app().db().write([&](db::Session& tx) -> Result<std::int64_t> {
      const auto h = CUNHUO_TRY(mk::create_household(
          tx,
          mk::NewHousehold{.village_code = village,
                           .head_name = "网店户",
                           .head_id_number = first17 + mk::id_number_check_char(first17),
                           .phone = "1380000" + std::to_string(2000 + i),
                           .member_count = 2,
                           .status = mk::PovertyStatus::registered_poor},
          server.clock()));
      const auto shop = CUNHUO_TRY(mk::open_household_shop(tx, h, "网店", "", server.clock()));
      mk::ListingFields f;
      f.title = "红枣";
      f.category = "干果";
      f.unit = "jin";
      f.price = Money::fen(1500);
      f.stock = i + 1 == mk::kTaobaoVillageShops ? 0 : 10;
      f.temperature = mk::TemperatureClass::ambient;
      f.shelf_life_days = 180;
      f.origin_code = village;
      f.producers = std::vector<mk::ProducerShare>{{h, mk::kFullShare}};
      return CUNHUO_TRY(mk::create_product(tx, shop, f, server.clock())).value;
    });
    REQUIRE(made.ok());
    products.push_back(*made);
  }
  auto short_by_one = c.request("GET", "/api/v1/villages/" + village);
  CHECK(json_int(short_by_one.body, "shops") == mk::kTaobaoVillageShops);
  CHECK(json_int(short_by_one.body, "active_shops") == mk::kTaobaoVillageShops - 1);
  CHECK(short_by_one.body.find(R"("taobao_village":false)") != std::string::npos);
  CHECK(c.request("GET", "/api/v1/shops?taobao_village=true").body.find(R"("items":[])") !=
        std::string::npos);
  REQUIRE(c.request("PATCH", "/api/v1/products/" + std::to_string(products.back()),
                    R"({"stock":5})", bearer(server.login("13900000008")))
              .status == 200);
  auto taobao = c.request("GET", "/api/v1/villages/" + village);
  CHECK(taobao.body.find(R"("taobao_village":true)") != std::string::npos);
  auto listed = c.request("GET", "/api/v1/shops?taobao_village=true&limit=100");
  REQUIRE(listed.status == 200);
  auto items = Json::parse(listed.body)->find("items")->as_array();
  CHECK(static_cast<std::int64_t>(items.size()) == mk::kTaobaoVillageShops);
  for (const auto& item : items) CHECK(item.find("village_code")->as_string() == village);
  CHECK(c.request("GET", "/api/v1/shops?village=620621104201&taobao_village=true")
            .body.find(R"("items":[])") != std::string::npos);
}
