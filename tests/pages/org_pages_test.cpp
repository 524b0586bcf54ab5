// The organisation buyer's pages: the budget and certified share, a bulk order placed once
// against the budget and paid in the sandbox, the year's orders, and a printable voucher of
// each paid order; refusals say why in Chinese, keep every typed quantity and write nothing.
#include <catch2/catch.hpp>

#include <regex>

#include "storefront/org_pages.hpp"
#include "tests/pages/page_support.hpp"
#include "tests/support/flows.hpp"

using namespace cunhuo;
using namespace cunhuo::test;

namespace {

const std::string kOrgBuyer = "13900000004";  // the fixture's public unit, budget ¥500000
const std::string kManager = "13900000002";   // the cooperative's: a second shop

const FormFields kAddress = {{"name", "李主任"},
                             {"phone", "13711112222"},
                             {"address", "兰州市城关区某单位食堂"},
                             {"region_code", "620102"}};

// A listing dearer than the budget allows six of: ¥100000 a box, 100 in stock.
std::string dear_melon() {
  return std::regex_replace(kMelon, std::regex(R"re("price_fen":3980,"stock":5)re"),
                            R"("price_fen":10000000,"stock":100)");
}

// The fixture's organisation buyer signed in on a browser, beside an API client, and the
// farmer's melon listed.
struct Scene {
  explicit Scene(StoreKind kind) : server(kind), c(server.port()), b(server) {
    b.sign_in(server.login(kOrgBuyer));
    melon = listed(server, c, kFarmer);
  }
  TestServer server;
  HttpClient c;
  Browser b;
  std::int64_t melon = 0;
};

std::string row(std::int64_t product) { return "q" + std::to_string(product); }

// The bulk order form as the buyer fills it: the quantities, the address, the form's key.
FormFields order_form(Browser& b, const FormFields& quantities, const char* action = "place") {
  const std::string key = form_key(b.get("/org/order").body);
  FormFields fields = quantities;
  fields.insert(fields.end(), kAddress.begin(), kAddress.end());
  fields.emplace_back("key", key);
  fields.emplace_back("do", action);
  return fields;
}

// Places `quantities` as a bulk order and pays it in the sandbox; returns the checkout's page.
std::string order_and_pay(TestServer& server, Browser& b, const FormFields& quantities) {
  auto placed = b.post("/org/order", order_form(b, quantities));
  REQUIRE(placed.status == 303);
  const std::string done = *placed.header("location");
  auto shown = b.get(done);
  auto paying = b.post(done + "/pay", {{"key", form_key(shown.body)}});
  REQUIRE(paying.status == 303);
  // The payer confirms on the sandbox provider's page, as the browser posts its form.
  REQUIRE(on_pay_page(*paying.header("location"), "confirm", /*browser=*/true).status == 303);
  REQUIRE(eventually([&] {
    return server.count(
               "SELECT COUNT(*) FROM orders WHERE status = "
               "'pending_payment'") == 0;
  }));
  return done;
}

}  // namespace

STORE_TEST("an organisation buyer's home shows the budget, what is left and the certified share",
           "[pages][org]") {
  Scene s(store_kind);
  auto home = s.b.get("/org");
  REQUIRE(home.status == 200);
  CHECK(has(home.body, "兰州市某事业单位（示例）"));
  CHECK(has(home.body, "¥500000.00"));  // the budget, all of it left
  CHECK(has(home.body, "要求 30.0%"));  // the public unit's required share
  CHECK(has(home.body, "<progress id=\"share\""));
  CHECK(has(home.body, "href=\"/org/order\""));
}

STORE_TEST("only an organisation buyer opens the organisation's pages", "[pages][org]") {
  TestServer server(store_kind);
  Browser visitor(server);
  auto signed_out = visitor.get("/org/orders");
  REQUIRE(signed_out.status == 303);
  CHECK(signed_out.header("location") == std::optional<std::string>("/login?next=/org/orders"));
  Browser consumer(server);
  consumer.sign_in(server.login(kConsumer));
  auto refused = consumer.get("/org");
  CHECK(refused.status == 403);
  CHECK(has(refused.body, "此页面不对您的账户开放"));
}

STORE_TEST("a bulk order of two shops' listings is placed once and charged to the budget",
           "[pages][org]") {
  Scene s(store_kind);
  const auto coop_melon = listed(s.server, s.c, kManager);
  const FormFields form = order_form(s.b, {{row(s.melon), "2"}, {row(coop_melon), "3"}});
  auto first = s.b.post("/org/order", form);
  auto again = s.b.post("/org/order", form);  // a double tap, or a retry after a lost answer
  REQUIRE(first.status == 303);
  CHECK(first.header("location")->starts_with("/checkouts/"));
  CHECK(again.header("location") == first.header("location"));
  CHECK(s.server.count("SELECT COUNT(*) FROM checkouts") == 1);
  CHECK(s.server.count("SELECT COUNT(*) FROM orders") == 2);  // one per shop
  CHECK(s.server.count("SELECT spent_fen FROM organisations") == 5 * 3980);
  CHECK(has(s.b.get(*first.header("location")).body, "/pay"));  // on to paying
}

STORE_TEST("the calculate button totals the quantities and the budget left, placing nothing",
           "[pages][org]") {
  Scene s(store_kind);
  auto form = s.b.get("/org/order");
  CHECK(has(form.body, "name=\"" + row(s.melon) + "\""));
  CHECK(has(form.body, "data-price=\"3980\""));  // what the script totals by
  auto totalled = s.b.post("/org/order", order_form(s.b, {{row(s.melon), "2"}}, "calc"));
  REQUIRE(totalled.status == 200);
  CHECK(has(totalled.body, "<b id=\"total\" class=\"price\">¥79.60</b>"));
  CHECK(has(totalled.body, "¥499920.40"));  // the budget left after it
  CHECK(has(totalled.body, "value=\"2\""));
  CHECK(s.server.count("SELECT COUNT(*) FROM orders") == 0);
}

STORE_TEST("the order form's listings are narrowed by words and category", "[pages][org]") {
  Scene s(store_kind);
  const std::string field = "name=\"" + row(s.melon) + "\"";
  CHECK(has(s.b.get("/org/order?category=%E6%B0%B4%E6%9E%9C").body, field));        // 水果
  CHECK_FALSE(has(s.b.get("/org/order?category=%E8%94%AC%E8%8F%9C").body, field));  // 蔬菜
  CHECK(has(s.b.get("/org/order?text=%E8%9C%9C%E7%93%9C").body, field));            // 蜜瓜
  CHECK_FALSE(has(s.b.get("/org/order?certified=1").body, field));                  // not certified
}

STORE_TEST("a refused bulk order says why in Chinese, keeps every quantity and writes nothing",
           "[pages][org]") {
  Scene s(store_kind);
  const auto dear = listed(s.server, s.c, kFarmer, dear_melon());
  FormFields no_address = order_form(s.b, {{row(s.melon), "1"}});
  FormFields too_many;  // one row past the named limit
  for (int i = 1; i <= storefront::kMaxBulkOrderRows + 1; ++i) too_many.emplace_back(row(i), "1");
  for (auto& [name, value] : no_address)
    if (name == "address") value = "";
  struct Case {
    std::string what;
    FormFields fields;
    bool forged;
    int status;
    std::string says, kept;
  };
  // In the order the page checks them: the form's token, the quantities as typed, that one
  // was chosen and not too many, the address, then the order module: stock, and last the budget.
  const std::vector<Case> refusals = {
      {"a forged form", order_form(s.b, {{row(s.melon), "1"}}), true, 403, "页面已过期",
       "value=\"1\""},
      {"a quantity of 0", order_form(s.b, {{row(s.melon), "0"}}), false, 400, "1到10000的整数",
       "value=\"0\""},
      {"a negative quantity", order_form(s.b, {{row(s.melon), "-2"}}), false, 400, "1到10000的整数",
       "value=\"-2\""},
      {"a quantity that is not a number", order_form(s.b, {{row(s.melon), "两箱"}}), false, 400,
       "1到10000的整数", "value=\"两箱\""},
      {"nothing chosen", order_form(s.b, {{row(s.melon), ""}}), false, 400, "请至少填写一种商品",
       "李主任"},
      {"one row too many", order_form(s.b, too_many), false, 400, "一次最多下单50种商品", "李主任"},
      {"no address", no_address, false, 400, "请填写收货人", "value=\"1\""},
      {"more than the stock", order_form(s.b, {{row(s.melon), "6"}, {row(dear), "1"}}), false, 409,
       "库存不足", "value=\"6\""},
      {"over the budget", order_form(s.b, {{row(s.melon), "1"}, {row(dear), "6"}}), false, 409,
       "超过本单位预算余额", "value=\"6\""},
  };
  for (const auto& r : refusals) {
    INFO(r.what);
    auto refused = s.b.post("/org/order", r.fields, r.forged);
    CHECK(refused.status == r.status);
    CHECK(has(refused.body, r.says));
    CHECK(has(refused.body, r.kept));
    CHECK(s.server.count("SELECT COUNT(*) FROM orders") == 0);
    CHECK(s.server.count("SELECT spent_fen FROM organisations") == 0);
  }
}

STORE_TEST("a paid order has a printable voucher and counts in the year's summary by seller",
           "[pages][org]") {
  Scene s(store_kind);
  order_and_pay(s.server, s.b, {{row(s.melon), "2"}});
  const std::int64_t order = s.server.count("SELECT id FROM orders");

  auto orders = s.b.get("/org/orders");
  REQUIRE(orders.status == 200);
  CHECK(has(orders.body, "href=\"/org/invoices/" + std::to_string(order) + "\""));
  CHECK(has(orders.body, "¥79.60"));

  auto summary = s.b.get("/org/invoices");
  REQUIRE(summary.status == 200);
  CHECK(has(summary.body, "王家蜜瓜小店"));
  CHECK(has(summary.body, "¥79.60"));

  auto voucher = s.b.get("/org/invoices/" + std::to_string(order));
  REQUIRE(voucher.status == 200);
  CHECK(has(voucher.body, "采购凭证"));
  CHECK(has(voucher.body, "兰州市某事业单位（示例）"));  // the buyer organisation
  CHECK(has(voucher.body, "王家蜜瓜小店"));              // the seller
  CHECK(has(voucher.body, "民勤沙漠蜜瓜"));
  CHECK(has(voucher.body, "¥39.80"));  // the unit price
  CHECK(has(voucher.body, "¥79.60"));
  CHECK(has(voucher.body, "id=\"print\""));
}

STORE_TEST("the year's orders come a page at a time, newest first, and other years apart",
           "[pages][org]") {
  Scene s(store_kind);
  const std::string buyer = s.server.login(kOrgBuyer);
  std::vector<std::int64_t> placed;  // through the API, charged to the organisation as well
  for (int i = 0; i <= storefront::kOrgOrdersPerPage; ++i)
    placed.push_back(buy(s.server, s.c, buyer, 1).order);
  auto first = s.b.get("/org/orders");
  REQUIRE(first.status == 200);
  CHECK(has(first.body, ">" + std::to_string(placed.back()) + " "));
  CHECK_FALSE(has(first.body, ">" + std::to_string(placed.front()) + " "));
  const std::string next = first_match(first.body, R"re(href="(/org/orders\?year=[^"]+)")re");
  auto second = s.b.get(std::regex_replace(next, std::regex("&amp;"), "&"));
  REQUIRE(second.status == 200);
  CHECK(has(second.body, ">" + std::to_string(placed.front()) + " "));
  auto tampered = s.b.get("/org/orders?cursor=AAAA");
  CHECK(tampered.status == 400);
  CHECK(has(tampered.body, "翻页链接无效"));
  CHECK_FALSE(has(s.b.get("/org/orders?year=2000").body, ">" + std::to_string(placed.back())));
}

STORE_TEST("certified listings are marked and count toward the share once paid", "[pages][org]") {
  Scene s(store_kind);
  const auto coop_melon = listed(s.server, s.c, kManager);
  certify(s.server, s.c, s.melon);
  CHECK(has(s.b.get("/org/order?certified=1").body, "扶贫产品"));
  order_and_pay(s.server, s.b, {{row(s.melon), "2"}, {row(coop_melon), "1"}});
  auto home = s.b.get("/org");
  CHECK(has(home.body, "¥79.60 · 66.6%"));  // two of the three boxes were certified
  CHECK(has(home.body, "已达到要求的比例"));
  auto voucher =
      s.b.get("/org/invoices/" +
              std::to_string(s.server.count("SELECT id FROM orders WHERE total_fen = 7960")));
  REQUIRE(voucher.status == 200);
  CHECK(has(voucher.body, "<span class=\"tag\">扶贫产品</span>"));
}

STORE_TEST("an order outside the buyer's organisation, or unpaid, has no voucher", "[pages][org]") {
  Scene s(store_kind);
  // Another organisation, whose buyer orders through the API.
  const std::string consumer = s.server.login(kConsumer);
  const auto me = s.c.request("GET", "/api/v1/me", "", bearer(consumer));
  auto other =
      post_json(s.c, "/api/v1/organisations",
                R"({"name":"另一单位","kind":"enterprise","region_code":"620102",)"
                R"("budget_fen":100000,"paired_villages":["620621104201"],"buyer_account_ids":[)" +
                    std::to_string(json_int(me.body, "id")) + "]}",
                bearer(s.server.login(kCentre)));
  INFO(other.body);
  REQUIRE(other.status == 201);
  const Bought theirs = buy(s.server, s.c, consumer, 1);
  auto placed = s.b.post("/org/order", order_form(s.b, {{row(s.melon), "1"}}));
  REQUIRE(placed.status == 303);
  const std::int64_t ours = s.server.count("SELECT MAX(id) FROM orders");  // not yet paid
  for (const std::int64_t order : {theirs.order, ours}) {
    INFO(order);
    auto missing = s.b.get("/org/invoices/" + std::to_string(order));
    CHECK(missing.status == 404);
    CHECK(has(missing.body, "找不到"));
  }
}
