// The demo county "minqin": what a newcomer finds in it, that it loads once, that it says
// it is sample data, and that --seed none stays empty. The load takes a while: one load
// serves all the demo's checks (SQLite only).
#include <chrono>
#include <filesystem>

#include "core/config.hpp"
#include "seeds/demo.hpp"
#include "core/json.hpp"
#include "tests/support/server.hpp"

using namespace cunhuo;
using namespace cunhuo::test;

namespace {

constexpr std::int64_t kDayMs = 86'400'000;

std::string month_of(std::int64_t ms) { return format_date(shanghai_date(ms)).substr(0, 7); }

std::int64_t now_ms() { return SystemClock().now_ms(); }

// GB 11643: the 18th character checks the first 17 digits.
bool check_character_holds(const std::string& id) {
  constexpr int kWeights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
  if (id.size() != 18) return false;
  int sum = 0;
  for (int i = 0; i < 17; ++i) sum += (id[static_cast<std::size_t>(i)] - '0') * kWeights[i];
  return std::string_view("10X98765432")[static_cast<std::size_t>(sum % 11)] == id[17];
}

// The demo county has every township, each with its station.
void every_township_has_its_station(TestServer& server) {
  CHECK(server.count("SELECT COUNT(DISTINCT region_code) FROM network_nodes WHERE kind = "
                     "'township_station' AND region_code LIKE '620621%'") ==
        seeds::demo::kTownships);
}

// The demo county has a few hundred households with cards and dozens of shops.
void households_with_cards_and_shops(TestServer& server) {
  CHECK(server.count("SELECT COUNT(DISTINCT household_id) FROM household_members") >= 200);
  CHECK(server.count("SELECT COUNT(*) FROM shops") >= 24);
  CHECK(server.count("SELECT COUNT(*) FROM shops WHERE kind = 'cooperative'") >= 10);
}

// Every member of every demo household has a valid ID number.
void id_numbers_are_valid(TestServer& server) {
  auto rows = server.store().db().read(
      [](db::Session& s) { return s.query("SELECT id_number FROM household_members"); });
  REQUIRE(rows.ok());
  REQUIRE(rows->size() >= 200);
  for (const auto& r : *rows) CHECK(check_character_holds(r.str(0)));
}

// The demo county has about 150 listings, each with a photo.
void listings_have_photos(TestServer& server) {
  const auto listings = server.count("SELECT COUNT(*) FROM products");
  CHECK(listings >= 140);
  CHECK(listings <= 160);
  CHECK(server.count("SELECT COUNT(DISTINCT product_id) FROM product_photos") == listings);
}

// The demo county has campaigns running now.
void campaigns_are_running(TestServer& server) {
  const std::string at = std::to_string(now_ms());
  CHECK(server.count("SELECT COUNT(*) FROM campaigns WHERE starts_at <= " + at + " AND ends_at > " +
                     at) >= 3);
}

// The demo county has orders on each of 90 days, most settled into household income.
void ninety_days_of_settled_orders(TestServer& server) {
  const std::int64_t first =
      shanghai_midnight_ms(shanghai_date(now_ms())) - seeds::demo::kHistoryDays * kDayMs;
  const auto orders = server.count("SELECT COUNT(*) FROM orders");
  CHECK(orders >= (seeds::demo::kHistoryDays - 1) * seeds::demo::kMinOrdersPerDay);
  CHECK(server.count("SELECT COUNT(DISTINCT (created_at - " + std::to_string(first) + ") / " +
                     std::to_string(kDayMs) + ") FROM orders") >= seeds::demo::kHistoryDays - 1);
  CHECK(server.count("SELECT COUNT(*) FROM orders WHERE status = 'pending_payment'") == 0);
  CHECK(server.count("SELECT COUNT(*) FROM orders WHERE status = 'completed'") * 10 >= orders * 7);
  CHECK(server.count("SELECT COUNT(DISTINCT household_id) FROM settlement_lines") >= 20);
  CHECK(server.count("SELECT COALESCE(SUM(net_fen), 0) FROM settlement_lines") > 0);
}

// In the demo county 王建国's statement of last month shows sales and verifies.
void statement_shows_sales_and_verifies(TestServer& server) {
  HttpClient c(server.port());
  const std::string farmer = server.login("13900000001");
  auto statement =
      c.request("GET", "/api/v1/households/1/statements/" + month_of(now_ms() - 31 * kDayMs), "",
                bearer(farmer));
  REQUIRE(statement.status == 200);
  CHECK(statement.body.find("\"lines\":[]") == std::string::npos);
  auto verified = c.request("POST", "/api/v1/statements/verify", statement.body);
  CHECK(verified.body.find("\"genuine\":true") != std::string::npos);
}

// The demo county leaves a handful of exceptions open.
void exceptions_are_open(TestServer& server) {
  const std::string at = std::to_string(now_ms());
  CHECK(server.count("SELECT COUNT(*) FROM excursions WHERE status = 'open'") >= 1);
  CHECK(server.count("SELECT COUNT(*) FROM shipments WHERE status = 'held'") >= 1);
  CHECK(server.count("SELECT COUNT(*) FROM shipments WHERE status NOT IN ('delivered', "
                     "'cancelled', 'held') AND eta < " +
                     at) >= 1);
  CHECK(server.count("SELECT COUNT(*) FROM monitoring_alerts WHERE status = 'open'") >= 1);
  CHECK(server.count("SELECT COUNT(*) FROM refund_claims WHERE status = 'requested'") >= 1);
  CHECK(server.count("SELECT COUNT(*) FROM certifications WHERE status = 'applied'") >= 1);
}

// Every answer of the demo says it is sample data, and its pages say so in words.
void answers_say_sample_data(TestServer& server) {
  HttpClient c(server.port());
  CHECK(c.request("GET", "/healthz").header("x-sample-data") == "true");
  auto page = c.request("GET", "/public/statistics?region=620621");
  REQUIRE(page.status == 200);
  CHECK(page.body.find("演示数据 Sample data") != std::string::npos);
  CHECK(page.body.find("红沙岗镇（620621107）") != std::string::npos);  // named from its seed
}

// The README's accounts log in to the demo county with the demo password.
void readme_accounts_log_in(TestServer& server) {
  for (const char* phone : {"13900000001", "13900000003", "13900000005", "13900000006",
                            "13900000007", "13900000010", "13600000001"})
    CHECK_FALSE(server.login(phone).empty());
}

// The check: the 西渠镇 office finds a certification waiting in its queue.
void township_office_has_a_certification_to_review(TestServer& server) {
  HttpClient c(server.port());
  auto queue = c.request("GET", "/api/v1/queue", "", bearer(server.login("13900000010")));
  REQUIRE(queue.status == 200);
  auto doc = Json::parse(queue.body);
  REQUIRE(doc.ok());
  std::int64_t waiting = 0;
  for (const auto& group : doc->find("groups")->as_array())
    if (group.find("kind")->as_string() == "certifications_to_review")
      waiting = group.find("count")->as_integer();
  CHECK(waiting >= 1);
}

// A second start finds the demo county loaded and adds nothing.
void second_start_adds_nothing(TestServer& server) {
  const auto orders = server.count("SELECT COUNT(*) FROM orders");
  const auto sets = server.count("SELECT COUNT(*) FROM seed_sets");
  Config config;
  config.listen_host = "127.0.0.1";
  config.listen_port = 0;
  config.db_url = server.store().url();
  config.seed = std::string(seeds::demo::kName);
  config.data_dir = temp_dir();
  const SystemClock clock;
  // How long it takes is a benchmark's business, not a test's (a loaded machine is slow).
  auto second = storefront::App::open(config, clock);
  REQUIRE(second.ok());
  CHECK(server.count("SELECT COUNT(*) FROM orders") == orders);
  CHECK(server.count("SELECT COUNT(*) FROM seed_sets") == sets);
}

}  // namespace

// One load of the demo county for all its checks: it takes tens of seconds, and ctest
// runs each test case in a process of its own.
TEST_CASE(
    "the demo county: every township, households, shops, listings, campaigns, 90 days of "
    "sales, open exceptions, marked as sample data, loaded once",
    "[http][demo][slow]") {
  const auto started = std::chrono::steady_clock::now();
  TestServer server(StoreKind::sqlite, std::string(seeds::demo::kName));
  WARN("the demo county loaded in " << std::chrono::duration_cast<std::chrono::milliseconds>(
                                           std::chrono::steady_clock::now() - started)
                                           .count()
                                    << " ms");
  every_township_has_its_station(server);
  households_with_cards_and_shops(server);
  id_numbers_are_valid(server);
  listings_have_photos(server);
  campaigns_are_running(server);
  ninety_days_of_settled_orders(server);
  statement_shows_sales_and_verifies(server);
  exceptions_are_open(server);
  answers_say_sample_data(server);
  readme_accounts_log_in(server);
  township_office_has_a_certification_to_review(server);
  second_start_adds_nothing(server);
}

TEST_CASE("the demo's ID numbers carry their GB 11643 check character", "[http][demo]") {
  CHECK(seeds::demo::id_number("110105", 1949, 12, 31, 1, true) == "11010519491231002X");
  CHECK(check_character_holds(seeds::demo::id_number("620621", 1978, 3, 15, 7, false)));
}

TEST_CASE("with --seed none the store stays empty and nothing is marked sample data",
          "[http][demo]") {
  TestServer server(StoreKind::sqlite, "none");
  for (const char* table :
       {"households", "shops", "products", "orders", "network_nodes", "accounts", "seed_sets"})
    CHECK(server.count(std::string("SELECT COUNT(*) FROM ") + table) == 0);
  HttpClient c(server.port());
  CHECK_FALSE(c.request("GET", "/healthz").header("x-sample-data").has_value());
}

TEST_CASE("the small fixture seed is not marked sample data", "[http][demo]") {
  TestServer server(StoreKind::sqlite);
  HttpClient c(server.port());
  CHECK_FALSE(c.request("GET", "/healthz").header("x-sample-data").has_value());
  CHECK(server.count("SELECT COUNT(*) FROM seed_sets WHERE name = 'fixture'") == 1);
}

TEST_CASE("the demo county is refused on a store that holds the fixture", "[http][demo]") {
  TestServer server(StoreKind::sqlite);
  Config config;
  config.listen_host = "127.0.0.1";
  config.listen_port = 0;
  config.db_url = server.store().url();
  config.seed = std::string(seeds::demo::kName);
  config.data_dir = temp_dir();
  const SystemClock clock;
  auto refused = storefront::App::open(config, clock);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == "store_not_fresh");
  CHECK(server.count("SELECT COUNT(*) FROM products") == 0);
}
