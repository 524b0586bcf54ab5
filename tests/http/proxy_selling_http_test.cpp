// Assisted selling at the station (代买代卖) over real TCP: a station operator asks the
// villager's phone to confirm exactly the order or listing it will make, the text says what
// it is, and the order or listing is written only with that code and that very content.
// Refusal tables are ordered by which refusal takes precedence, and write nothing.
#include <chrono>

#include "core/json.hpp"
#include "messaging/phone_codes.hpp"
#include "tests/support/server.hpp"

using namespace cunhuo;
using namespace cunhuo::test;
using namespace std::chrono_literals;

namespace {

// Seed accounts (tests/support/server.hpp's default seed).
const std::string kCountyOffice = "13900000007", kCentre = "13900000006", kStation = "13900000005",
                  kConsumer = "13900000003", kFarmer = "13900000001";
// Card phones of seed households (the heads' own phones, not their accounts').
const std::string kWangCard = "13800000001";  // 王建国's household, 西渠镇致力村, its own shop
const std::string kLiCard = "13800000002";     // 西渠镇, another household
const std::string kZhangCard = "13800000003";  // 西渠镇首好村, no shop of its own
const std::string kZhaoCard = "13800000004";   // 三雷镇: not the 西渠镇 station's township

struct Case {
  std::string who;  // a seed account's phone, or "" for no session
  std::string body;
  int status;
  std::string code;
};

Headers auth_headers(const std::string& token) {
  return token.empty() ? Headers{{"Content-Type", "application/json"}} : bearer(token);
}

void check_refusals(TestServer& server, const std::string& method, const std::string& path,
                    const std::vector<Case>& table) {
  HttpClient c(server.port());
  for (const auto& r : table) {
    CAPTURE(r.who, r.body);
    auto reply =
        c.request(method, path, r.body, auth_headers(r.who.empty() ? "" : server.login(r.who)));
    CHECK(reply.status == r.status);
    CHECK(error_code(reply) == r.code);
  }
}

std::int64_t household_with_card(TestServer& server, const std::string& phone) {
  return server.count("SELECT id FROM households WHERE phone = '" + phone + "'");
}

std::string melon_for(std::int64_t household, std::int64_t price_fen = 3980) {
  return R"({"title":"民勤沙漠蜜瓜 5斤装","category":"水果","unit":"box","price_fen":)" +
         std::to_string(price_fen) +
         R"(,"stock":5,"temperature_class":"chilled","shelf_life_days":20,)"
         R"("origin_code":"620621104201","origin_name":"甘肃民勤","producers":[{"household_id":)" +
         std::to_string(household) + R"(,"share_bps":10000}]})";
}

const std::string kAddress = R"("shipping_address":{"name":"王建国","phone":"13800000001",)"
                             R"("address":"西渠镇致力村站点自提","region_code":"620621104201"})";

std::string item(std::int64_t product, std::int64_t quantity) {
  return R"({"product_id":)" + std::to_string(product) + R"(,"quantity":)" +
         std::to_string(quantity) + "}";
}

std::string cart_of(std::int64_t product, std::int64_t quantity = 1) {
  return R"({"items":[)" + item(product, quantity) + "]," + kAddress + "}";
}

// A request for a confirmation of `object` (a cart for "order", a listing for "listing").
std::string ask(std::int64_t household, const std::string& action, const std::string& object) {
  return R"({"household_id":)" + std::to_string(household) + R"(,"action":")" + action + R"(",")" +
         action + "\":" + object + "}";
}

std::string proxy_body(std::int64_t household, const std::string& code, const std::string& what,
                       const std::string& object) {
  return R"({"household_id":)" + std::to_string(household) + R"(,"confirmation_code":")" + code +
         R"(",")" + what + "\":" + object + "}";
}

// The code in the newest text to `phone`: the digits after 码 (验证码, 确认码).
std::string latest_code(TestServer& server, const std::string& phone) {
  const std::string text = sandbox_text(server, phone);
  const auto at = text.find_first_of("0123456789", text.find("码"));
  REQUIRE(at != std::string::npos);
  return text.substr(at, messaging::kCodeDigits);
}

std::string wrong(const std::string& code) { return code == "000000" ? "111111" : "000000"; }

// Asks the household's phone to confirm `object` for `action`; returns the code it got.
std::string confirmed_code(TestServer& server, HttpClient& c, const std::string& station,
                           std::int64_t household, const std::string& card,
                           const std::string& action, const std::string& object) {
  auto asked =
      post_json(c, "/api/v1/proxy/confirmations", ask(household, action, object), bearer(station));
  REQUIRE(asked.status == 202);
  const std::string code = latest_code(server, card);
  CHECK(asked.body.find(code) == std::string::npos);  // never in the answer
  return code;
}

std::int64_t account_id(TestServer& server, const std::string& phone) {
  return server.count("SELECT id FROM accounts WHERE phone = '" + phone + "'");
}

std::int64_t list_melon(TestServer& server, HttpClient& c, std::int64_t household) {
  auto listed =
      post_json(c, "/api/v1/products", melon_for(household), bearer(server.login(kFarmer)));
  REQUIRE(listed.status == 201);
  return json_int(listed.body, "id");
}

std::int64_t tries_left(TestServer& server, const std::string& phone) {
  return server.count(
      "SELECT tries_left FROM phone_codes WHERE purpose = 'proxy_confirm' AND "
      "phone = '" +
      phone + "'");
}

}  // namespace

STORE_TEST("a station lists a villager's produce with the code their phone got, kept by proxy",
           "[http][proxy]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string station = server.login(kStation);
  const std::int64_t wang = household_with_card(server, kWangCard);
  const std::string code =
      confirmed_code(server, c, station, wang, kWangCard, "listing", melon_for(wang));
  auto listed = post_json(c, "/api/v1/proxy/products",
                          proxy_body(wang, code, "listing", melon_for(wang)), bearer(station));
  REQUIRE(listed.status == 201);
  const std::int64_t own_shop = server.count(
      "SELECT s.id FROM shops s JOIN shop_members m ON m.shop_id = s.id WHERE s.kind = "
      "'household' AND m.household_id = " +
      std::to_string(wang));
  CHECK(json_int(listed.body, "shop_id") == own_shop);
  // Both sides are kept: the operator, and the household with its farmer's account.
  auto actions = c.request("GET", "/api/v1/households/" + std::to_string(wang) + "/proxy-actions",
                           "", bearer(server.login(kCountyOffice)));
  REQUIRE(actions.status == 200);
  CHECK(actions.body.find(R"("kind":"listing")") != std::string::npos);
  CHECK(actions.body.find("\"operator_account\":" + std::to_string(account_id(server, kStation))) !=
        std::string::npos);
  CHECK(actions.body.find("\"villager_account\":" + std::to_string(account_id(server, kFarmer))) !=
        std::string::npos);
  auto stranger = c.request("GET", "/api/v1/households/" + std::to_string(wang) + "/proxy-actions",
                            "", bearer(server.login(kConsumer)));
  CHECK(stranger.status == 404);
  auto audit = c.request("GET", "/api/v1/households/" + std::to_string(wang) + "/audit", "",
                         bearer(server.login(kCountyOffice)));
  REQUIRE(audit.status == 200);
  CHECK(audit.body.find("proxy_listing") != std::string::npos);
}

STORE_TEST("the villager's text says what they confirm: goods, quantity and total, or the listing",
           "[http][proxy]") {
  TestServer server(store_kind, kTestSeed, {}, ServerClock::manual);
  HttpClient c(server.port());
  const std::int64_t wang = household_with_card(server, kWangCard);
  const std::int64_t melon = list_melon(server, c, wang);
  const std::string station = server.login(kStation);
  auto asked = post_json(c, "/api/v1/proxy/confirmations", ask(wang, "order", cart_of(melon, 2)),
                         bearer(station));
  REQUIRE(asked.status == 202);
  CHECK(json_int(asked.body, "total_fen") == 2 * 3980);
  const std::string order_text = sandbox_text(server, kWangCard);
  CAPTURE(order_text);
  CHECK(order_text.find("代买民勤沙漠蜜瓜 5斤装×2，共79.60元") != std::string::npos);
  CHECK(order_text.find("王建国") == std::string::npos);  // no more than the villager needs
  server.advance(std::chrono::milliseconds(messaging::kCodeResendMs));
  auto listing = post_json(c, "/api/v1/proxy/confirmations", ask(wang, "listing", melon_for(wang)),
                           bearer(station));
  REQUIRE(listing.status == 202);
  const std::string listing_text = sandbox_text(server, kWangCard);
  CAPTURE(listing_text);
  CHECK(listing_text.find("代卖民勤沙漠蜜瓜 5斤装，每箱39.80元，共5箱") != std::string::npos);
}

STORE_TEST("a station orders for a villager with the code, pays for it, and the code is used once",
           "[http][proxy]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::int64_t wang = household_with_card(server, kWangCard);
  const std::int64_t melon = list_melon(server, c, wang);
  const std::string station = server.login(kStation);
  const std::string code =
      confirmed_code(server, c, station, wang, kWangCard, "order", cart_of(melon));
  const std::string body = proxy_body(wang, code, "order", cart_of(melon));
  auto ordered =
      post_json(c, "/api/v1/proxy/orders", body, bearer(station, {{"Idempotency-Key", "proxy-1"}}));
  REQUIRE(ordered.status == 201);
  auto replayed =
      post_json(c, "/api/v1/proxy/orders", body, bearer(station, {{"Idempotency-Key", "proxy-1"}}));
  CHECK(replayed.status == 201);
  CHECK(replayed.body == ordered.body);
  auto again =
      post_json(c, "/api/v1/proxy/orders", body, bearer(station, {{"Idempotency-Key", "proxy-2"}}));
  CHECK(again.status == 409);
  CHECK(error_code(again) == "confirmation_not_requested");
  CHECK(server.count("SELECT COUNT(*) FROM proxy_actions WHERE kind = 'order'") == 1);
  const std::int64_t checkout = json_int(ordered.body, "checkout_id");
  auto paid = post_json(c, "/api/v1/checkouts/" + std::to_string(checkout) + "/payments", "",
                        bearer(station, {{"Idempotency-Key", "pay-proxy-1"}}));
  CHECK(paid.status == 201);
}

STORE_TEST("a confirmed cart is the same cart whatever the order of its items and keys",
           "[http][proxy]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::int64_t wang = household_with_card(server, kWangCard);
  const std::int64_t melon = list_melon(server, c, wang), other = list_melon(server, c, wang);
  const std::string station = server.login(kStation);
  const std::string asked =
      R"({"items":[)" + item(melon, 1) + "," + item(other, 2) + "]," + kAddress + "}";
  const std::string code = confirmed_code(server, c, station, wang, kWangCard, "order", asked);
  CHECK(sandbox_text(server, kWangCard).find("×1等2种，共119.40元") != std::string::npos);
  const std::string same =
      "{" + kAddress + R"(,"items":[)" + item(other, 2) + "," + item(melon, 1) + "]}";
  auto ordered = post_json(c, "/api/v1/proxy/orders", proxy_body(wang, code, "order", same),
                           bearer(station, {{"Idempotency-Key", "reordered"}}));
  CHECK(ordered.status == 201);
}

STORE_TEST("a proxy order that fails leaves the villager's code for the next try",
           "[http][proxy]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::int64_t wang = household_with_card(server, kWangCard);
  const std::int64_t melon = list_melon(server, c, wang);  // 5 in stock
  const std::string station = server.login(kStation);
  const std::string code =
      confirmed_code(server, c, station, wang, kWangCard, "order", cart_of(melon, 5));
  const std::string farmer = server.login(kFarmer);
  const std::string product = "/api/v1/products/" + std::to_string(melon);
  REQUIRE(c.request("PATCH", product, R"({"stock":4})", bearer(farmer)).status == 200);
  auto failed =
      post_json(c, "/api/v1/proxy/orders", proxy_body(wang, code, "order", cart_of(melon, 5)),
                bearer(station, {{"Idempotency-Key", "proxy-too-many"}}));
  REQUIRE(failed.status == 409);
  CHECK(error_code(failed) == "out_of_stock");
  REQUIRE(c.request("PATCH", product, R"({"stock":5})", bearer(farmer)).status == 200);
  auto ordered =
      post_json(c, "/api/v1/proxy/orders", proxy_body(wang, code, "order", cart_of(melon, 5)),
                bearer(station, {{"Idempotency-Key", "proxy-five"}}));
  CHECK(ordered.status == 201);
}

STORE_TEST("a price changed since the villager was told the total is refused, writing nothing",
           "[http][proxy]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::int64_t wang = household_with_card(server, kWangCard);
  const std::int64_t melon = list_melon(server, c, wang);
  const std::string station = server.login(kStation);
  const std::string code =
      confirmed_code(server, c, station, wang, kWangCard, "order", cart_of(melon));
  REQUIRE(c.request("PATCH", "/api/v1/products/" + std::to_string(melon), R"({"price_fen":4980})",
                    bearer(server.login(kFarmer)))
              .status == 200);
  auto refused =
      post_json(c, "/api/v1/proxy/orders", proxy_body(wang, code, "order", cart_of(melon)),
                bearer(station, {{"Idempotency-Key", "dearer"}}));
  CHECK(refused.status == 409);
  CHECK(error_code(refused) == "confirmation_price_changed");
  CHECK(server.count("SELECT COUNT(*) FROM orders") == 0);
  CHECK(server.count("SELECT COUNT(*) FROM proxy_actions") == 0);
}

STORE_TEST("wrong codes on proxy orders still run out the code's tries", "[http][proxy]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::int64_t wang = household_with_card(server, kWangCard);
  const std::int64_t melon = list_melon(server, c, wang);
  const std::string station = server.login(kStation);
  const std::string code =
      confirmed_code(server, c, station, wang, kWangCard, "order", cart_of(melon));
  for (int i = 0; i < messaging::kCodeTries; ++i)
    CHECK(post_json(c, "/api/v1/proxy/orders",
                    proxy_body(wang, wrong(code), "order", cart_of(melon)),
                    bearer(station, {{"Idempotency-Key", "wrong-" + std::to_string(i)}}))
              .status == 403);
  auto right = post_json(c, "/api/v1/proxy/orders", proxy_body(wang, code, "order", cart_of(melon)),
                         bearer(station, {{"Idempotency-Key", "right-at-last"}}));
  CHECK(right.status == 403);  // the tries ran out: even the right code is refused
  CHECK(server.count("SELECT COUNT(*) FROM orders") == 0);
}

STORE_TEST(
    "a proxy order without the villager's confirmation of it is refused in order, "
    "writing nothing",
    "[http][proxy]") {
  TestServer server(store_kind, kTestSeed, {}, ServerClock::manual);
  HttpClient c(server.port());
  const std::int64_t wang = household_with_card(server, kWangCard);
  const std::int64_t zhao = household_with_card(server, kZhaoCard);
  const std::int64_t melon = list_melon(server, c, wang);
  const std::string station = server.login(kStation);
  auto order = [&](std::int64_t household, const std::string& code, std::int64_t quantity = 1) {
    return proxy_body(household, code, "order", cart_of(melon, quantity));
  };
  struct Row {
    std::string who, body;
    bool key;
    int status;
    std::string code;
  };
  int keys = 0;
  auto run = [&](const std::vector<Row>& rows) {
    for (const auto& r : rows) {
      CAPTURE(r.who, r.body);
      Headers h = auth_headers(r.who.empty()       ? ""
                               : r.who == kStation ? station
                                                   : server.login(r.who));
      if (r.key) h.emplace_back("Idempotency-Key", "key-" + std::to_string(++keys));
      auto reply = c.request("POST", "/api/v1/proxy/orders", r.body, h);
      CHECK(reply.status == r.status);
      if (reply.status >= 400) CHECK(error_code(reply) == r.code);
    }
  };
  run({
      {"", "{}", true, 401, "unauthenticated"},
      {kConsumer, order(wang, "123456"), true, 403, "role_not_allowed"},
      {kStation, R"({"household_id":1,"order":{}})", true, 400, "missing_field"},
      {kStation, order(wang, "123456"), false, 400, "missing_idempotency_key"},
      {kStation, order(99999, "123456"), true, 400, "unknown_household"},
      {kStation, order(zhao, "123456"), true, 403, "outside_your_area"},
      {kStation, order(wang, "123456"), true, 409, "confirmation_not_requested"},
  });
  // A confirmation for a listing does not confirm an order.
  confirmed_code(server, c, station, wang, kWangCard, "listing", melon_for(wang));
  run({{kStation, order(wang, "123456"), true, 409, "confirmation_not_requested"}});
  server.advance(std::chrono::milliseconds(messaging::kCodeResendMs));
  const std::string code =
      confirmed_code(server, c, station, wang, kWangCard, "order", cart_of(melon));
  run({
      {kStation, order(wang, wrong(code), 2), true, 403, "invalid_confirmation_code"},
      {kStation, order(wang, code, 2), true, 422, "confirmation_mismatch"},
  });
  CHECK(tries_left(server, kWangCard) == messaging::kCodeTries - 2);  // each counted a try
  CHECK(server.count("SELECT COUNT(*) FROM orders") == 0);
  CHECK(server.count("SELECT COUNT(*) FROM proxy_actions") == 0);
  run({{kStation, order(wang, code), true, 201, ""}});  // the code was left for this cart
}

STORE_TEST("asking a villager's phone for a confirmation is refused in order, sending nothing",
           "[http][proxy]") {
  TestServer server(store_kind);
  const std::int64_t wang = household_with_card(server, kWangCard);
  const std::int64_t zhao = household_with_card(server, kZhaoCard);
  const std::int64_t zhang = household_with_card(server, kZhangCard);
  HttpClient c(server.port());
  const std::int64_t melon = list_melon(server, c, wang);
  const std::string cart = cart_of(melon);
  const std::int64_t sms_before = server.count("SELECT COUNT(*) FROM sms_queue");
  check_refusals(
      server, "POST", "/api/v1/proxy/confirmations",
      {
          {"", "{}", 401, "unauthenticated"},
          {kCentre, ask(wang, "order", cart), 403, "role_not_allowed"},
          {kFarmer, ask(wang, "order", cart), 403, "role_not_allowed"},
          {kStation, R"({"household_id":1})", 400, "missing_field"},
          {kStation, R"({"household_id":1,"action":"refund","order":)" + cart + "}", 400,
           "invalid_action"},
          {kStation, R"({"household_id":1,"action":"order"})", 400, "missing_field"},
          {kStation,
           R"({"household_id":1,"action":"order","order":)" + cart + R"(,"listing":)" +
               melon_for(wang) + "}",
           400, "unknown_field"},
          {kStation, ask(wang, "order", R"({"items":[]})"), 400, "missing_field"},
          {kStation, ask(99999, "order", cart), 400, "unknown_household"},
          {kStation, ask(zhao, "order", cart), 403, "outside_your_area"},
          {kStation, ask(wang, "order", cart_of(melon, 6)), 409, "out_of_stock"},
          {kStation, ask(zhang, "listing", melon_for(zhang)), 409, "no_household_shop"},
          {kStation, ask(wang, "listing", melon_for(household_with_card(server, kLiCard))), 400,
           "not_the_household"},
      });
  CHECK(server.count("SELECT COUNT(*) FROM sms_queue") == sms_before);
  CHECK(server.count("SELECT COUNT(*) FROM proxy_confirmations") == 0);
  const std::string station = server.login(kStation);
  REQUIRE(post_json(c, "/api/v1/proxy/confirmations", ask(wang, "order", cart), bearer(station))
              .status == 202);
  auto soon =
      post_json(c, "/api/v1/proxy/confirmations", ask(wang, "order", cart), bearer(station));
  CHECK(soon.status == 429);
}

STORE_TEST(
    "a proxy listing is the household's own, and needs its code for that very listing; "
    "refusals write nothing",
    "[http][proxy]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::int64_t wang = household_with_card(server, kWangCard);
  const std::int64_t zhang = household_with_card(server, kZhangCard);  // no shop of its own
  const std::int64_t li = household_with_card(server, kLiCard);
  const std::string station = server.login(kStation);
  const std::int64_t products = server.count("SELECT COUNT(*) FROM products");
  const std::string code =
      confirmed_code(server, c, station, wang, kWangCard, "listing", melon_for(wang));
  check_refusals(
      server, "POST", "/api/v1/proxy/products",
      {
          {kStation, proxy_body(zhang, code, "listing", melon_for(zhang)), 409,
           "no_household_shop"},
          {kStation, proxy_body(wang, code, "listing", melon_for(li)), 400, "not_the_household"},
          {kStation, proxy_body(wang, wrong(code), "listing", melon_for(wang)), 403,
           "invalid_confirmation_code"},
          {kStation, proxy_body(wang, code, "listing", melon_for(wang, 2980)), 422,
           "confirmation_mismatch"},
      });
  CHECK(server.count("SELECT COUNT(*) FROM products") == products);
  CHECK(server.count("SELECT COUNT(*) FROM proxy_actions") == 0);
  CHECK(tries_left(server, kWangCard) == messaging::kCodeTries - 2);
}

STORE_TEST("ten log_in requests leave reset_password and proxy_confirm codes working",
           "[http][proxy][limits]") {
  TestServer server(store_kind, kTestSeed, {}, ServerClock::manual);
  HttpClient c(server.port());
  // The card's phone has an account of its own (the villager signed up once).
  auto phone_code = [&](const std::string& purpose) {
    return post_json(c, "/api/v1/phone-codes",
                     R"({"phone":")" + kWangCard + R"(","purpose":")" + purpose + R"("})");
  };
  REQUIRE(phone_code("sign_up").status == 202);
  REQUIRE(post_json(c, "/api/v1/accounts",
                    R"({"phone":")" + kWangCard + R"(","code":")" + latest_code(server, kWangCard) +
                        R"(","display_name":"王建国"})")
              .status == 201);
  // Anyone may ask for log_in codes to the phone until its log_in budget is spent.
  for (int i = 0; i < 10; ++i) {
    server.advance(std::chrono::milliseconds(messaging::kCodeResendMs));
    CHECK(phone_code("log_in").status == 202);
  }
  const std::int64_t sent = server.count("SELECT COUNT(*) FROM sms_queue");
  server.advance(std::chrono::milliseconds(messaging::kCodeResendMs));
  CHECK(phone_code("log_in").status == 202);
  CHECK(server.count("SELECT COUNT(*) FROM sms_queue") == sent);  // log_in: nothing more
  // A password reset still reaches the phone.
  REQUIRE(phone_code("reset_password").status == 202);
  CHECK(server.count("SELECT COUNT(*) FROM sms_queue") == sent + 1);
  CHECK(sandbox_text(server, kWangCard).find("验证码") != std::string::npos);
  // And so does the station's confirmation, which then confirms the order.
  const std::int64_t wang = household_with_card(server, kWangCard);
  const std::int64_t melon = list_melon(server, c, wang);
  const std::string station = server.login(kStation);
  const std::string code =
      confirmed_code(server, c, station, wang, kWangCard, "order", cart_of(melon));
  auto ordered =
      post_json(c, "/api/v1/proxy/orders", proxy_body(wang, code, "order", cart_of(melon)),
                bearer(station, {{"Idempotency-Key", "after-the-flood"}}));
  CHECK(ordered.status == 201);
}
