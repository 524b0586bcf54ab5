// The trace page a lot's QR code opens (/t/<code>) and the farmer's income page, over
// HTTP: origin, cold chain and what reached the households, with nothing personal on it;
// the income of the farmer's own household only.
#include <catch2/catch.hpp>

#include <regex>

#include "core/clock.hpp"
#include "tests/pages/page_support.hpp"
#include "tests/support/flows.hpp"

using namespace cunhuo;
using namespace cunhuo::test;

namespace {

const std::string kLot = "MQ-2026-08A";
// The melon listing with a lot printed on its boxes (made when called: kMelon is another
// file's constant, not yet made while this file's are).
std::string melon_with_lot() {
  return kMelon.substr(0, kMelon.size() - 1) + R"(,"lot":")" + kLot + R"("})";
}

std::int64_t product_of(HttpClient& c, const std::string& token, std::int64_t order) {
  auto reply = c.request("GET", "/api/v1/orders/" + std::to_string(order), "", bearer(token));
  REQUIRE(reply.status == 200);
  std::smatch m;
  REQUIRE(std::regex_search(reply.body, m, std::regex("\"product_id\":([0-9]+)")));
  return std::stoll(m[1]);
}

// The trace link the product page carries, as a visitor finds it.
std::string trace_path(TestServer& server, std::int64_t product) {
  Browser visitor(server);
  auto page = visitor.get("/p/" + std::to_string(product));
  REQUIRE(page.status == 200);
  std::smatch m;
  REQUIRE(std::regex_search(page.body, m, std::regex("href=\"(/t/[0-9a-z]+)\"")));
  return m[1];
}

}  // namespace

STORE_TEST("a lot's trace page shows where it came from and its parcels' cold chain",
           "[pages][trace]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string consumer = server.login(kConsumer);
  const Bought b = buy_and_pay(server, c, consumer, melon_with_lot());
  REQUIRE_FALSE(tracking_numbers(c, consumer, b.order).empty());
  Browser visitor(server);
  auto page = visitor.get(trace_path(server, product_of(c, consumer, b.order)));
  REQUIRE(page.status == 200);
  CHECK(has(page.body, "产品溯源"));
  CHECK(has(page.body, "民勤沙漠蜜瓜"));
  CHECK(has(page.body, "王家蜜瓜小店"));  // the shop, by its public name
  CHECK(has(page.body, "620621104201"));
  CHECK(has(page.body, "2026-08-20"));
  CHECK(has(page.body, kLot));
  CHECK(has(page.body, "冷藏 0–8°C"));
  CHECK(has(page.body, "未认定"));
  CHECK(has(page.body, "暂无结算"));
}

STORE_TEST("a settled sale of the lot shows how much reached the households", "[pages][trace]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string consumer = server.login(kConsumer);
  const Bought b = buy_and_pay(server, c, consumer, melon_with_lot());
  deliver_by_scans(server, c, b.order);
  const std::string order_path = "/api/v1/orders/" + std::to_string(b.order);
  REQUIRE(c.request("POST", order_path + "/confirm-receipt", "", bearer(consumer)).status == 200);
  const std::string path = trace_path(server, product_of(c, consumer, b.order));
  Browser visitor(server);
  // 2 boxes at ¥39.80: ¥79.60 less the 3% platform fee and the ¥6 logistics fee.
  REQUIRE(eventually([&] { return has(visitor.get(path).body, "¥71.22"); }));
  auto page = visitor.get(path);
  CHECK(has(page.body, "¥79.60"));
  CHECK(has(page.body, "89%"));
  CHECK(has(page.body, "已送达"));
  CHECK(has(page.body, "温控达标"));
}

STORE_TEST("the trace page carries nothing personal", "[pages][trace]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string consumer = server.login(kConsumer);
  const Bought b = buy_and_pay(server, c, consumer, melon_with_lot());
  REQUIRE_FALSE(tracking_numbers(c, consumer, b.order).empty());
  Browser visitor(server);
  const std::string body = visitor.get(trace_path(server, product_of(c, consumer, b.order))).body;
  // The producing household's head, ID number and phone; the farmer's and buyer's phones.
  const std::vector<std::string> personal_data = {
      "王建国", "620621197803150013", "13800000001", kFarmer, kConsumer, "王*"};
  for (const auto& personal : personal_data) {
    INFO(personal);
    CHECK_FALSE(has(body, personal));
  }
}

TEST_CASE("a trace code that names no lot is a page not found", "[pages][trace]") {
  TestServer server(StoreKind::sqlite);
  struct Case {
    std::string why, path;
  };
  // Checked before the store: a code of the wrong length or letters; then an unknown one.
  const std::vector<Case> refusals = {
      {"too short", "/t/abc"},
      {"too long", "/t/abcdefghjkmnp"},
      {"a letter no code has", "/t/ABCDEFGHJKMN"},
      {"unknown", "/t/abcdefghjkmn"},
  };
  for (const auto& r : refusals) {
    INFO(r.why);
    Browser visitor(server);
    auto reply = visitor.get(r.path);
    CHECK(reply.status == 404);
    CHECK(has(reply.body, "找不到"));
  }
}

STORE_TEST("the farmer sees this month's income line by line, signed", "[pages][income]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string consumer = server.login(kConsumer);
  const Bought b = buy_and_pay(server, c, consumer);
  deliver_by_scans(server, c, b.order);
  const std::string order_path = "/api/v1/orders/" + std::to_string(b.order);
  REQUIRE(c.request("POST", order_path + "/confirm-receipt", "", bearer(consumer)).status == 200);
  Browser farmer(server);
  farmer.sign_in(server.login(kFarmer));
  CHECK(has(farmer.get("/farm").body, "href=\"/farm/income\""));  // from the farmer's home
  REQUIRE(eventually([&] { return has(farmer.get("/farm/income").body, "¥71.22"); }));
  auto page = farmer.get("/farm/income");
  CHECK(page.status == 200);
  CHECK(has(page.body, "#" + std::to_string(b.order)));
  CHECK(has(page.body, "SHA-256"));
  CHECK(has(page.body, "class=\"scroll\""));
}

TEST_CASE("the income page is the farmer's own household's", "[pages][income]") {
  TestServer server(StoreKind::sqlite);
  HttpClient c(server.port());
  const std::string consumer = server.login(kConsumer);
  const Bought b = buy_and_pay(server, c, consumer);
  deliver_by_scans(server, c, b.order);
  REQUIRE(c.request("POST", "/api/v1/orders/" + std::to_string(b.order) + "/confirm-receipt", "",
                    bearer(consumer))
              .status == 200);
  Browser owner(server);
  owner.sign_in(server.login(kFarmer));
  REQUIRE(eventually([&] { return has(owner.get("/farm/income").body, "¥71.22"); }));
  struct Case {
    std::string who, token;
    int status;
    std::string location;
  };
  // A visitor is sent to log in; another role is refused; another farmer sees only their own.
  const std::vector<Case> refusals = {
      {"a visitor", "", 303, "/login?next=/farm/income"},
      {"a consumer", consumer, 403, ""},
      {"another farmer", server.login(kOtherFarmer), 200, ""},
  };
  for (const auto& r : refusals) {
    INFO(r.who);
    Browser browser(server);
    if (!r.token.empty()) browser.sign_in(r.token);
    auto reply = browser.get("/farm/income");
    CHECK(reply.status == r.status);
    if (!r.location.empty())
      CHECK(reply.header("location") == std::optional<std::string>(r.location));
    CHECK_FALSE(has(reply.body, "#" + std::to_string(b.order)));
    CHECK_FALSE(has(reply.body, "¥71.22"));
  }
}

namespace {

// The farmer's income page once this month's sale settled, and its verification path.
std::string settled_verify_path(TestServer& server) {
  HttpClient c(server.port());
  const std::string consumer = server.login(kConsumer);
  const Bought b = buy_and_pay(server, c, consumer);
  deliver_by_scans(server, c, b.order);
  REQUIRE(c.request("POST", "/api/v1/orders/" + std::to_string(b.order) + "/confirm-receipt", "",
                    bearer(consumer))
              .status == 200);
  Browser farmer(server);
  farmer.sign_in(server.login(kFarmer));
  REQUIRE(eventually([&] { return has(farmer.get("/farm/income").body, "¥71.22"); }));
  const std::string body = farmer.get("/farm/income").body;
  CHECK(has(body, "<svg"));  // the QR code of the link
  std::smatch m;
  REQUIRE(std::regex_search(body, m, std::regex("id=\"verify\" href=\"https?://[^/]+([^\"]+)\"")));
  std::string path = m[1];
  for (auto at = path.find("&amp;"); at != std::string::npos; at = path.find("&amp;"))
    path.replace(at, 5, "&");
  return path;
}

std::string with_param(std::string path, const std::string& name, const std::string& value) {
  const auto at = path.find(name + "=");
  REQUIRE(at != std::string::npos);
  const auto end = path.find('&', at);
  return path.replace(at, end == std::string::npos ? std::string::npos : end - at,
                      name + "=" + value);
}

}  // namespace

STORE_TEST("a statement's QR code opens a page that says it is genuine, with nothing personal",
           "[pages][income]") {
  TestServer server(store_kind);
  const std::string path = settled_verify_path(server);
  Browser bank(server);
  auto page = bank.get(path);
  REQUIRE(page.status == 200);
  CHECK(has(page.body, "真实有效"));
  CHECK(has(page.body, "¥71.22"));
  CHECK_FALSE(has(page.body, "王建国"));
  CHECK_FALSE(has(page.body, "王*"));
  CHECK_FALSE(has(page.body, "民勤沙漠蜜瓜"));  // the lines stay on the paper
}

TEST_CASE("a statement's verification link that was changed is not genuine", "[pages][income]") {
  TestServer server(StoreKind::sqlite);
  const std::string path = settled_verify_path(server);
  struct Case {
    std::string why, path;
    int status;
  };
  // A link that is not one is not found; then each figure changed fails the signature.
  const std::vector<Case> refusals = {
      {"no signature", with_param(path, "sig", ""), 404},
      {"net not a number", with_param(path, "net", "a"), 404},
      {"net income raised", with_param(path, "net", "99999"), 200},
      {"another period", with_param(path, "period", "2020-01"), 200},
      {"another document", with_param(path, "sha256", std::string(64, 'a')), 200},
      {"an unknown key", with_param(path, "key", "0000000000000000"), 200},
  };
  Browser bank(server);
  for (const auto& r : refusals) {
    INFO(r.why);
    auto reply = bank.get(r.path);
    CHECK(reply.status == r.status);
    CHECK_FALSE(has(reply.body, "真实有效"));
    if (r.status == 200) CHECK(has(reply.body, "无法核验"));
  }
}

TEST_CASE("the parcel label carries a QR code of its lot's trace page", "[pages][trace]") {
  TestServer server(StoreKind::sqlite);
  HttpClient c(server.port());
  const std::string consumer = server.login(kConsumer);
  const Bought b = buy_and_pay(server, c, consumer, melon_with_lot());
  REQUIRE_FALSE(tracking_numbers(c, consumer, b.order).empty());
  Browser farmer(server);
  farmer.sign_in(server.login(kFarmer));
  auto label = farmer.get("/farm/orders/" + std::to_string(b.order) + "/label");
  REQUIRE(label.status == 200);
  CHECK(has(label.body, "扫码溯源 " + kLot));
}
