// Places named beside their codes on every page that shows a code: "致力村（620621104201）",
// "致力村 (620621104201)" in English, the code alone where the store has no name for it.
#include <catch2/catch.hpp>

#include <regex>

#include "storefront/app.hpp"
#include "tests/pages/page_support.hpp"
#include "tests/support/flows.hpp"

using namespace cunhuo;
using namespace cunhuo::test;

namespace {

const std::string kVillage = "致力村（620621104201）";

std::int64_t listed_melon(TestServer& server, HttpClient& c, const std::string& listing) {
  auto listed = post_json(c, "/api/v1/products", listing, bearer(server.login(kFarmer)));
  REQUIRE(listed.status == 201);
  return json_int(listed.body, "id");
}

// A household of 致力村 whose exit is under public notice.
void notice_for_household_one(TestServer& server) {
  REQUIRE(server.app()
              .db()
              .write([](db::Session& tx) -> Status {
                CUNHUO_TRY(
                    tx.exec("INSERT INTO exit_proposals (household_id, evaluation_id, status, "
                            "notice_ends_at, created_at, updated_at) "
                            "VALUES (1, 1, 'in_notice', 4102444800000, 0, 0)"));
                return {};
              })
              .ok());
}

}  // namespace

STORE_TEST("the product, shop and village pages name the village beside its code",
           "[pages][places]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const auto product = listed_melon(server, c, kMelon);
  Browser visitor(server);
  for (const std::string path : {"/p/" + std::to_string(product), std::string("/shop/1")}) {
    INFO(path);
    auto page = visitor.get(path);
    REQUIRE(page.status == 200);
    CHECK(has(page.body, "<a href=\"/village/620621104201\">" + kVillage + "</a>"));
  }
  auto village = visitor.get("/village/620621104201");
  REQUIRE(village.status == 200);
  CHECK(has(village.body, "<h1>" + std::string("村庄") + " " + kVillage));
}

TEST_CASE("a lot's trace page names the village it came from", "[pages][places]") {
  TestServer server(StoreKind::sqlite);
  HttpClient c(server.port());
  const auto product =
      listed_melon(server, c, kMelon.substr(0, kMelon.size() - 1) + R"(,"lot":"MQ-2026-08A"})");
  Browser visitor(server);
  auto page = visitor.get("/p/" + std::to_string(product));
  std::smatch m;
  REQUIRE(std::regex_search(page.body, m, std::regex("href=\"(/t/[0-9a-z]+)\"")));
  auto trace = visitor.get(m[1]);
  REQUIRE(trace.status == 200);
  CHECK(has(trace.body, "<a href=\"/village/620621104201\">" + kVillage + "</a>"));
}

TEST_CASE("in English a place reads as its name and the code in brackets", "[pages][places]") {
  TestServer server(StoreKind::sqlite);
  HttpClient c(server.port());
  auto page = c.request("GET", "/village/620621104201", "", {{"Cookie", "cunhuo_lang=en"}});
  REQUIRE(page.status == 200);
  CHECK(has(page.body, "致力村 (620621104201)"));
}

STORE_TEST("the open statistics page names its area, its parts and the notices' villages",
           "[pages][places][statistics]") {
  TestServer server(store_kind);
  notice_for_household_one(server);
  Browser visitor(server);
  auto page = visitor.get("/public/statistics?region=620621104");
  REQUIRE(page.status == 200);
  CHECK(has(page.body, "<b id=\"area\">西渠镇（620621104）</b>"));
  CHECK(has(page.body, "<a href=\"/public/statistics?region=620621104201\">" + kVillage + "</a>"));
  CHECK(
      has(page.body, "<a href=\"/public/statistics?region=620621104202\">首好村（620621104202）"));
  CHECK(has(page.body, "<td>" + kVillage + "</td><td>王*国</td>"));  // the notice's row
}

TEST_CASE("a code the store has no name for shows alone", "[pages][places][statistics]") {
  TestServer server(StoreKind::sqlite);
  Browser visitor(server);
  auto page = visitor.get("/public/statistics?region=620621106");  // a township not seeded
  REQUIRE(page.status == 200);
  CHECK(has(page.body, "<b id=\"area\">620621106</b>"));
}

STORE_TEST("a store seeded before place names existed gets them at its next start",
           "[pages][places][seeds]") {
  TestServer server(store_kind);
  REQUIRE(server.app()
              .db()
              .write([](db::Session& tx) -> Status {  // as the fixture's first version left it
                CUNHUO_TRY(tx.exec("DELETE FROM place_names"));
                CUNHUO_TRY(tx.exec("DELETE FROM seed_sets WHERE name = 'fixture:places:1'"));
                return {};
              })
              .ok());
  REQUIRE(server.count("SELECT COUNT(*) FROM place_names") == 0);
  Config config;
  config.listen_host = "127.0.0.1";
  config.listen_port = 0;
  config.db_url = server.store().url();
  config.seed = "fixture";
  config.data_dir = temp_dir();
  const SystemClock clock;
  REQUIRE(storefront::App::open(config, clock).ok());
  CHECK(server.count("SELECT COUNT(*) FROM place_names") == 15);
  CHECK(server.count("SELECT COUNT(*) FROM households") == 6);  // the fixture is not loaded twice
}

// --- the language switch on the pages API routes render ----------------------------------

STORE_TEST("the open statistics page switches to English and comes back to the same area",
           "[pages][lang][statistics]") {
  TestServer server(store_kind);
  Browser visitor(server);
  const std::string path = "/public/statistics?region=620621104";
  auto page = visitor.get(path);
  REQUIRE(page.status == 200);
  CHECK(page.header("cache-control") == std::optional<std::string>("no-store"));  // a cookie
  CHECK(has(page.body, "action=\"/lang\""));
  CHECK(has(page.body, "name=\"next\" value=\"/public/statistics?region=620621104\""));
  auto switched = visitor.post("/lang", {{"next", path}});
  REQUIRE(switched.status == 303);
  CHECK(switched.header("location") == std::optional<std::string>(path));
  auto english = visitor.get(path);
  CHECK(has(english.body, "<html lang=\"en\">"));
  CHECK(has(english.body, "西渠镇 (620621104)"));
  CHECK(english.header("cache-control") == std::optional<std::string>("no-cache"));
}

STORE_TEST("the printable statement carries the language switch", "[pages][lang][statistics]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string month = format_date(shanghai_date(SystemClock().now_ms())).substr(0, 7);
  auto page = c.request("GET", "/api/v1/households/1/statements/" + month + "?format=html", "",
                        bearer(server.login(kFarmer), {{"Cookie", "cunhuo_lang=en"}}));
  REQUIRE(page.status == 200);
  CHECK(has(page.body, "<html lang=\"en\">"));
  CHECK(has(page.body, "action=\"/lang\""));
  CHECK(has(page.body, "<dd>致力村 (620621104201)</dd>"));
  CHECK(page.header("cache-control") == std::optional<std::string>("no-store"));
}
