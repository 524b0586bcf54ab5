// The consumer's pages from cart to receipt: a cart across shops kept through signing up,
// one checkout, paying in the sandbox, the order's timeline, confirming receipt; refusals
// say why in Chinese, keep what was typed and write nothing.
#include <catch2/catch.hpp>

#include <regex>

#include "core/json.hpp"
#include "storefront/cart.hpp"
#include "tests/pages/page_support.hpp"
#include "tests/support/flows.hpp"

using namespace cunhuo;
using namespace cunhuo::test;

namespace {

const std::string kNewBuyer = "13700000077";
const std::string kManager = "13900000002";  // the cooperative's: a second shop

const FormFields kAddress = {{"name", "张三明"},
                             {"phone", "13711112222"},
                             {"address", "兰州市城关区某路1号"},
                             {"region_code", "620102"}};

std::vector<std::int64_t> order_ids(const std::string& body) {
  std::vector<std::int64_t> ids;
  const std::regex re(R"re(href="/orders/(\d+)")re");
  for (auto it = std::sregex_iterator(body.begin(), body.end(), re); it != std::sregex_iterator();
       ++it)
    ids.push_back(std::stoll((*it)[1].str()));
  return ids;
}

FormFields with_key(FormFields fields, const std::string& key) {
  fields.emplace_back("key", key);
  return fields;
}

void add(Browser& b, std::int64_t product, const std::string& quantity) {
  b.get("/p/" + std::to_string(product));
  auto added =
      b.post("/cart/add", {{"product_id", std::to_string(product)}, {"quantity", quantity}});
  REQUIRE(added.status == 303);
  CHECK(added.header("location") == std::optional<std::string>("/cart"));
}

// The consumer's order, bought and paid, and `b` signed in as them: the order page's path.
std::string paid_order_page(TestServer& server, HttpClient& c, Browser& b) {
  const auto bought = buy_and_pay(server, c, server.login(kConsumer));
  b.sign_in(server.login(kConsumer));
  return "/orders/" + std::to_string(bought.order);
}

}  // namespace

STORE_TEST("a visitor buys from two shops, signs up on the way, pays once and confirms receipt",
           "[pages][buyer]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const auto melon = listed(server, c, kFarmer), coop_melon = listed(server, c, kManager);
  Browser b(server);
  add(b, melon, "1");
  add(b, coop_melon, "2");
  auto cart = b.get("/cart");
  CHECK(has(cart.body, "王家蜜瓜小店"));
  CHECK(has(cart.body, "西渠镇蜜瓜专业合作社"));

  auto checkout = b.get("/checkout");  // not signed in: to the login page, back here after
  REQUIRE(checkout.status == 303);
  CHECK(checkout.header("location") == std::optional<std::string>("/login?next=/checkout"));
  b.get("/login?next=%2Fcheckout");
  REQUIRE(b.post("/login/code", {{"phone", kNewBuyer}, {"next", "/checkout"}}).status == 200);
  auto in = b.post(
      "/login",
      {{"phone", kNewBuyer}, {"code", sandbox_code(server, kNewBuyer)}, {"next", "/checkout"}});
  REQUIRE(in.status == 303);
  CHECK(in.header("location") == std::optional<std::string>("/checkout"));

  checkout = b.get("/checkout");  // the cart came along
  REQUIRE(checkout.status == 200);
  CHECK(has(checkout.body, "王家蜜瓜小店"));
  CHECK(has(checkout.body, "西渠镇蜜瓜专业合作社"));
  const std::string key = form_key(checkout.body);
  auto placed = b.post("/checkout", with_key(kAddress, key));
  REQUIRE(placed.status == 303);
  const std::string done = *placed.header("location");
  CHECK(done.starts_with("/checkouts/"));

  auto shown = b.get(done);
  REQUIRE(shown.status == 200);
  const auto orders = order_ids(shown.body);
  REQUIRE(orders.size() == 2);  // one order per shop
  auto paying = b.post(done + "/pay", {{"key", form_key(shown.body)}});
  REQUIRE(paying.status == 303);
  const std::string pay_url = *paying.header("location");
  CHECK(pay_url.find("/pay/wx") != std::string::npos);  // the sandbox provider's H5 link
  auto sandbox = on_pay_page(pay_url, "page");          // its page, opened by the link alone
  REQUIRE(sandbox.status == 200);
  CHECK(has(sandbox.body, "119.40"));  // the one payment covers both shops' orders
  CHECK(has(sandbox.body, "确认支付"));
  auto paid = on_pay_page(pay_url, "confirm", /*browser=*/true);
  REQUIRE(paid.status == 303);
  CHECK(
      paid.header("location") ==
      std::optional<std::string>("http://127.0.0.1:" + std::to_string(server.port()) + "/orders"));
  REQUIRE(eventually(
      [&] { return has(b.get("/orders/" + std::to_string(orders[0])).body, "已付款"); }));
  CHECK(has(b.get("/orders").body, "已付款"));

  deliver_by_scans(server, c, orders[0]);
  auto delivered = b.get("/orders/" + std::to_string(orders[0]));
  CHECK(has(delivered.body, "确认收货"));
  CHECK(has(delivered.body, "/track/"));
  auto confirmed = b.post("/orders/" + std::to_string(orders[0]) + "/confirm", {});
  REQUIRE(confirmed.status == 303);
  CHECK(has(b.get("/orders/" + std::to_string(orders[0])).body, "已确认收货"));

  const std::string farmer = server.login(kFarmer);
  REQUIRE(eventually([&] {
    auto balance = c.request("GET", "/api/v1/households/1/balance", "", bearer(farmer));
    return balance.status == 200 && json_int(balance.body, "balance_fen") > 0;
  }));
}

STORE_TEST("a checkout form sent twice places one checkout", "[pages][buyer]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const auto melon = listed(server, c, kFarmer);
  Browser b(server);
  b.sign_in(server.login(kConsumer));
  add(b, melon, "2");
  const std::string key = form_key(b.get("/checkout").body);
  auto first = b.post("/checkout", with_key(kAddress, key));
  auto again = b.post("/checkout", with_key(kAddress, key));
  REQUIRE(first.status == 303);
  REQUIRE(again.status == 303);
  CHECK(first.header("location") == again.header("location"));
  CHECK(server.count("SELECT COUNT(*) FROM checkouts") == 1);
  CHECK(server.count("SELECT COUNT(*) FROM orders") == 1);
  CHECK(server.count("SELECT COUNT(*) FROM cart_lines") == 0);  // the cart was checked out
}

TEST_CASE(
    "a refused checkout or cart change says why in Chinese, keeps what was typed and "
    "writes nothing",
    "[pages][buyer]") {
  TestServer server(StoreKind::sqlite);
  HttpClient c(server.port());
  const auto melon = listed(server, c, kFarmer);
  Browser b(server);
  b.sign_in(server.login(kConsumer));
  add(b, melon, "1");
  const std::string key = form_key(b.get("/checkout").body);
  FormFields no_address = kAddress;
  no_address[2].second = "";
  struct Case {
    std::string what, path;
    FormFields fields;
    bool bad_token;
    int status;
    std::string says, kept;
  };
  // In the order the pages check them: the form's token, then what was typed.
  // The text names the bound the cart keeps.
  const std::string kQuantityText = "1到" + std::to_string(storefront::kMaxCartQuantity);
  const std::vector<Case> refusals = {
      {"a forged form", "/checkout", with_key(kAddress, key), true, 403, "页面已过期", "张三明"},
      {"a missing address", "/checkout", with_key(no_address, key), false, 400, "请填写收货人",
       "张三明"},
      {"a quantity of 0",
       "/cart/" + std::to_string(melon),
       {{"quantity", "0"}},
       false,
       400,
       kQuantityText,
       "民勤沙漠蜜瓜"},
      {"a quantity past the bound",
       "/cart/add",
       {{"product_id", std::to_string(melon)},
        {"quantity", std::to_string(storefront::kMaxCartQuantity + 1)}},
       false,
       400,
       kQuantityText,
       "民勤沙漠蜜瓜"},
  };
  for (const auto& r : refusals) {
    INFO(r.what);
    auto refused = b.post(r.path, r.fields, r.bad_token);
    CHECK(refused.status == r.status);
    CHECK(has(refused.body, r.says));
    CHECK(has(refused.body, r.kept));
    CHECK(server.count("SELECT COUNT(*) FROM orders") == 0);
    CHECK(server.count("SELECT quantity FROM cart_lines") == 1);
  }
}

TEST_CASE("a checkout after the session expired is refused and places nothing", "[pages][buyer]") {
  TestServer server(StoreKind::sqlite, kTestSeed, {}, ServerClock::manual);
  HttpClient c(server.port());
  const auto melon = listed(server, c, kFarmer);
  Browser b(server);
  b.sign_in(server.login(kConsumer));
  add(b, melon, "1");
  const std::string key = form_key(b.get("/checkout").body);
  server.advance(std::chrono::hours(24 * 31));
  auto refused = b.post("/checkout", with_key(kAddress, key));
  CHECK(refused.status == 401);
  CHECK(has(refused.body, "登录已过期"));
  CHECK(has(refused.body, "张三明"));
  CHECK(server.count("SELECT COUNT(*) FROM orders") == 0);
}

TEST_CASE("a buyer sees only their own orders; unknown orders and parcels are not found",
          "[pages][buyer]") {
  TestServer server(StoreKind::sqlite);
  HttpClient c(server.port());
  const auto bought = buy(server, c, server.login(kConsumer));
  Browser owner(server), other(server), visitor(server);
  owner.sign_in(server.login(kConsumer));
  other.sign_in(server.login("13900000004"));  // an organisation's buyer
  CHECK(owner.get("/orders/" + std::to_string(bought.order)).status == 200);
  CHECK(other.get("/orders/" + std::to_string(bought.order)).status == 404);
  CHECK(owner.get("/orders/999999").status == 404);
  CHECK(owner.get("/orders/abc").status == 404);
  CHECK(owner.get("/orders?cursor=forged").status == 400);
  CHECK(visitor.get("/track/NO-SUCH-PARCEL").status == 404);
}

TEST_CASE("public tracking shows where a parcel has been and no personal data", "[pages][buyer]") {
  TestServer server(StoreKind::sqlite);
  HttpClient c(server.port());
  const std::string consumer = server.login(kConsumer);
  const auto bought = buy_and_pay(server, c, consumer);
  const auto numbers = tracking_numbers(c, consumer, bought.order);
  REQUIRE(!numbers.empty());
  Browser visitor(server);
  auto page = visitor.get("/track/" + numbers.front());
  REQUIRE(page.status == 200);
  CHECK(has(page.body, numbers.front()));
  CHECK_FALSE(has(page.body, "张三明"));
  CHECK_FALSE(has(page.body, "13711112222"));
  CHECK_FALSE(has(page.body, "兰州市城关区"));
}

STORE_TEST("a buyer claims a refund with a photo of spoiled goods, once for a form sent twice",
           "[pages][buyer][refund]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  Browser b(server);
  const std::string path = paid_order_page(server, c, b);
  const std::string key = form_key(b.get(path).body);
  const FormFields claim = {{"amount", "10.00"}, {"reason", "到货时蜜瓜已经坏了"}, {"key", key}};
  const std::string photo = camera_jpeg(1280, 960);
  auto first = b.post_multipart(path + "/refund", claim, "photo", photo);
  auto again = b.post_multipart(path + "/refund", claim, "photo", photo);
  REQUIRE(first.status == 303);
  REQUIRE(again.status == 303);
  CHECK(server.count("SELECT COUNT(*) FROM refund_claims") == 1);
  CHECK(server.count("SELECT COUNT(*) FROM refund_claim_photos") == 1);
  CHECK(server.count("SELECT amount_fen FROM refund_claims") == 1000);
  CHECK(has(b.get(*first.header("location")).body, "退款申请已提交"));
}

TEST_CASE("the county centre deciding a refund claim sees its photo; other people do not",
          "[pages][buyer][refund]") {
  TestServer server(StoreKind::sqlite);
  HttpClient c(server.port());
  Browser b(server);
  const std::string path = paid_order_page(server, c, b);
  const std::string key = form_key(b.get(path).body);
  REQUIRE(b.post_multipart(path + "/refund",
                           {{"amount", "10.00"}, {"reason", "到货时蜜瓜已经坏了"}, {"key", key}},
                           "photo", camera_jpeg(1280, 960))
              .status == 303);
  const std::string claim = "/api/v1/refund-claims/1";
  auto seen = c.request("GET", claim, "", bearer(server.login(kCentre)));
  REQUIRE(seen.status == 200);
  CHECK(str_field(seen.body, "photo_url") == claim + "/photo");
  auto photo = c.request("GET", claim + "/photo", "", bearer(server.login(kCentre)));
  REQUIRE(photo.status == 200);
  CHECK(photo.header("content-type") == std::optional<std::string>("image/jpeg"));
  CHECK(photo.body.substr(0, 2) == "\xFF\xD8");
  CHECK(c.request("GET", claim + "/photo", "", bearer(server.login(kConsumer))).status == 200);
  struct Refusal {
    std::string who;
    Headers headers;
    int status;
  };
  const std::vector<Refusal> refusals = {
      {"nobody signed in", {}, 401},
      {"the farmer who sold it", bearer(server.login(kFarmer)), 404},
      {"another buyer", bearer(server.login("13900000004")), 404},
      {"the county's poverty office", bearer(server.login(kOffice)), 404},
  };
  for (const auto& r : refusals) {
    INFO(r.who);
    CHECK(c.request("GET", claim + "/photo", "", r.headers).status == r.status);
  }
}

TEST_CASE("a refused refund claim says why in Chinese, keeps what was typed and claims nothing",
          "[pages][buyer][refund]") {
  TestServer server(StoreKind::sqlite);
  HttpClient c(server.port());
  Browser b(server);
  const std::string path = paid_order_page(server, c, b);
  const std::string key = form_key(b.get(path).body);
  const std::string photo = camera_jpeg(640, 480);
  struct Case {
    std::string what;
    FormFields fields;
    std::string photo;
    bool bad_token;
    int status;
    std::string says;
  };
  // In the order the page checks them: the form's token, the amount, the reason, the photo,
  // then what the payments module says.
  const std::vector<Case> refusals = {
      {"a forged form",
       {{"amount", "10"}, {"reason", "坏了"}, {"key", key}},
       photo,
       true,
       403,
       "页面已过期"},
      {"no amount",
       {{"amount", ""}, {"reason", "坏了"}, {"key", key}},
       photo,
       false,
       400,
       "正确的金额"},
      {"no reason",
       {{"amount", "10"}, {"reason", " "}, {"key", key}},
       photo,
       false,
       400,
       "有什么问题"},
      {"no photo", {{"amount", "10"}, {"reason", "坏了"}, {"key", key}}, "", false, 400, "拍一张"},
      {"more than was paid",
       {{"amount", "999"}, {"reason", "坏了"}, {"key", key}},
       photo,
       false,
       409,
       "超过了实付"},
  };
  for (const auto& r : refusals) {
    INFO(r.what);
    auto refused = b.post_multipart(path + "/refund", r.fields, "photo", r.photo, r.bad_token);
    CHECK(refused.status == r.status);
    CHECK(has(refused.body, r.says));
    CHECK(has(refused.body, r.fields[1].second));  // the reason typed
    CHECK(server.count("SELECT COUNT(*) FROM refund_claims") == 0);
  }
  Browser other(server);
  other.sign_in(server.login("13900000004"));
  other.get("/orders");
  CHECK(other
            .post_multipart(path + "/refund", {{"amount", "10"}, {"reason", "坏了"}, {"key", key}},
                            "photo", photo)
            .status == 404);
}

TEST_CASE("the buyer's orders come a page at a time, newest first", "[pages][buyer]") {
  TestServer server(StoreKind::sqlite);
  HttpClient c(server.port());
  const std::string consumer = server.login(kConsumer);
  std::vector<std::int64_t> bought;
  for (int i = 0; i < 21; ++i) bought.push_back(buy(server, c, consumer, 1).order);
  Browser b(server);
  b.sign_in(consumer);
  auto first = b.get("/orders");
  const auto on_first = order_ids(first.body);
  REQUIRE(on_first.size() == 20);
  CHECK(on_first.front() == bought.back());
  auto second = b.get(first_match(first.body, R"re(href="(/orders\?cursor=[^"]+)")re"));
  CHECK(order_ids(second.body) == std::vector<std::int64_t>{bought.front()});
}

TEST_CASE("a checkout refused for a wrong phone is placed once the phone is corrected",
          "[pages][buyer]") {
  TestServer server(StoreKind::sqlite);
  HttpClient c(server.port());
  const auto melon = listed(server, c, kFarmer);
  Browser b(server);
  b.sign_in(server.login(kConsumer));
  add(b, melon, "1");
  const std::string key = form_key(b.get("/checkout").body);
  FormFields wrong = kAddress;
  wrong[1].second = "12345";
  auto refused = b.post("/checkout", with_key(wrong, key));
  CHECK(refused.status == 400);
  CHECK(has(refused.body, "11 位手机号"));
  CHECK(has(refused.body, "value=\"12345\""));
  const std::string fresh = form_key(refused.body);
  CHECK(fresh != key);  // the refusal is kept under the first key
  REQUIRE(b.post("/checkout", with_key(kAddress, fresh)).status == 303);
  CHECK(server.count("SELECT COUNT(*) FROM orders") == 1);
}

TEST_CASE("a cart holds a bounded number of products and says so past the bound",
          "[pages][buyer]") {
  TestServer server(StoreKind::sqlite);
  HttpClient c(server.port());
  Browser b(server);
  for (std::size_t i = 0; i < storefront::kMaxCartLines; ++i)
    add(b, listed(server, c, kFarmer), "1");
  const auto one_more = listed(server, c, kFarmer);
  b.get("/p/" + std::to_string(one_more));
  auto refused = b.post("/cart/add", {{"product_id", std::to_string(one_more)}, {"quantity", "1"}});
  CHECK(refused.status == 409);
  CHECK(has(refused.body, "最多" + std::to_string(storefront::kMaxCartLines)));  // the text's bound
  CHECK(server.count("SELECT COUNT(*) FROM cart_lines") ==
        static_cast<std::int64_t>(storefront::kMaxCartLines));
}
