// The pages a buyer browses, over HTTP: search, a product, a shop, a village; public, with
// household heads masked, and a 404 page for what does not exist.
#include <catch2/catch.hpp>

#include "tests/support/flows.hpp"
#include "tests/pages/page_support.hpp"
#include "tests/support/server.hpp"

using namespace cunhuo;
using namespace cunhuo::test;

namespace {

std::int64_t list_melon(TestServer& server, HttpClient& c) {
  auto listed = post_json(c, "/api/v1/products", kMelon, bearer(server.login(kFarmer)));
  REQUIRE(listed.status == 201);
  return json_int(listed.body, "id");
}

}  // namespace

STORE_TEST("a product page shows who grew it, masked, and what reaches the households",
           "[pages][catalog]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const auto id = list_melon(server, c);
  auto page = c.request("GET", "/p/" + std::to_string(id));
  REQUIRE(page.status == 200);
  CHECK(has(page.body, "<title>民勤沙漠蜜瓜 5斤装</title>"));
  CHECK(has(page.body, "¥39.80"));
  CHECK(has(page.body, "王*国"));         // the household head, masked
  CHECK_FALSE(has(page.body, "王建国"));  // never whole on a public page
  CHECK(has(page.body, "冷藏"));
  CHECK(has(page.body, "2026-08-20"));
  // ¥39.80 alone: ¥6.00 logistics, 3 % platform fee (¥1.19), the rest to the household.
  CHECK(has(page.body, "¥32.61"));
}

STORE_TEST("search finds a product by part of its Chinese name", "[pages][catalog]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const auto id = list_melon(server, c);
  auto found = c.request("GET", "/search?q=%E8%9C%9C%E7%93%9C");  // 蜜瓜
  REQUIRE(found.status == 200);
  CHECK(has(found.body, "href=\"/p/" + std::to_string(id) + "\""));
  auto none = c.request("GET", "/search?q=%E6%A6%B4%E8%8E%B2");  // 榴莲
  REQUIRE(none.status == 200);
  CHECK(has(none.body, "没有找到"));
}

TEST_CASE("a shop page lists what it sells and masks its members", "[pages][catalog]") {
  TestServer server(StoreKind::sqlite);
  HttpClient c(server.port());
  const auto id = list_melon(server, c);
  const auto shop = server.count("SELECT shop_id FROM products WHERE id = " + std::to_string(id));
  auto page = c.request("GET", "/shop/" + std::to_string(shop));
  REQUIRE(page.status == 200);
  CHECK(has(page.body, "王家蜜瓜小店"));
  CHECK(has(page.body, "王*国"));
  CHECK_FALSE(has(page.body, "王建国"));
  CHECK(has(page.body, "href=\"/p/" + std::to_string(id) + "\""));
  auto village = c.request("GET", "/village/620621104201");
  REQUIRE(village.status == 200);
  CHECK(has(village.body, "href=\"/shop/" + std::to_string(shop) + "\""));
}

TEST_CASE("what does not exist is a 404 page in Chinese, not a blank one", "[pages][catalog]") {
  TestServer server(StoreKind::sqlite);
  HttpClient c(server.port());
  for (const std::string path : {"/p/999999", "/p/abc", "/p/0", "/p/-1", "/shop/999999",
                                 "/village/620621999999", "/village/12", "/village/abc"}) {
    INFO(path);
    auto page = c.request("GET", path);
    CHECK(page.status == 404);
    CHECK(page.header("content-type") == std::optional<std::string>("text/html; charset=utf-8"));
    CHECK(has(page.body, "找不到"));
  }
}
