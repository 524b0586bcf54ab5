// A full disk is the operator's to fix, not a bug: writes answer 503 storage_full with
// Retry-After, /readyz says not ready so a proxy drains the process, and once space
// returns everything acknowledged is still there and writes work again. SQLite's page cap
// (PRAGMA max_page_count) stands in for the disk: the store's own code sees SQLITE_FULL.
#include "tests/support/server.hpp"

using namespace cunhuo;
using namespace cunhuo::test;

namespace {

const std::string kMelon =
    R"({"title":"民勤沙漠蜜瓜 5斤装","category":"水果","unit":"box","price_fen":3980,"stock":100,)"
    R"("temperature_class":"chilled","shelf_life_days":20,"origin_code":"620621104201",)"
    R"("origin_name":"甘肃民勤",)"
    R"("description":"沙漠里长大的蜜瓜，甜而多汁，产地直发，冷链到家。","producers":[{"household_id":1,)"
    R"("share_bps":10000}]})";

Status set_page_cap(db::Database& db, std::int64_t pages) {
  return db.write([&](db::Session& s) -> Status {
    CUNHUO_TRY(s.query("PRAGMA max_page_count = " + std::to_string(pages)));
    return {};
  });
}

// Caps the store at its present size and writes until it is full; returns the rows kept.
std::int64_t fill_to_the_brim(db::Database& db) {
  REQUIRE(db.write([](db::Session& s) -> Status {
              return s.exec_script(
                  "CREATE TABLE filler (id INTEGER PRIMARY KEY, bytes TEXT NOT NULL)");
            }).ok());
  auto pages = db.read([](db::Session& s) { return s.query_one("PRAGMA page_count"); });
  REQUIRE(pages.ok());
  REQUIRE(set_page_cap(db, (*pages)->i64(0) + 8).ok());
  std::int64_t kept = 0;
  for (int i = 0; i < 10'000; ++i) {
    Status st = db.write([](db::Session& s) -> Status {
      CUNHUO_TRY(s.exec("INSERT INTO filler (bytes) VALUES (?)", {std::string(3000, 'x')}));
      return {};
    });
    if (!st.ok()) {
      REQUIRE(st.error().code == db::kStorageFull);
      REQUIRE(st.error().kind == ErrorKind::unavailable);
      return kept;
    }
    ++kept;
  }
  FAIL("the capped store never filled");
  return kept;
}

// Lists melons until the store is full (pages of free room remain in each table even when
// the store may grow no further); returns the first refusal.
HttpReply list_until_full(HttpClient& client, const std::string& farmer) {
  for (int i = 0; i < 10'000; ++i) {
    auto reply = post_json(client, "/api/v1/products", kMelon, bearer(farmer));
    if (reply.status != 201) return reply;
  }
  FAIL("the capped store never filled");
  return {};
}

}  // namespace

TEST_CASE("a write to a full store answers 503 storage_full with Retry-After", "[http][store]") {
  TestServer server(StoreKind::sqlite);
  const std::string farmer = server.login("13900000001");
  fill_to_the_brim(server.app().db());
  HttpClient client(server.port());
  auto reply = list_until_full(client, farmer);
  CHECK(reply.status == 503);
  CHECK(error_code(reply) == "storage_full");
  CHECK(reply.header("retry-after").has_value());
}

TEST_CASE("a full store is not ready, and is ready again once space returns", "[http][store]") {
  TestServer server(StoreKind::sqlite);
  const std::string farmer = server.login("13900000001");
  fill_to_the_brim(server.app().db());
  HttpClient client(server.port());
  REQUIRE(list_until_full(client, farmer).status == 503);
  auto not_ready = client.request("GET", "/readyz");
  CHECK(not_ready.status == 503);
  CHECK(error_code(not_ready) == "storage_full");
  REQUIRE(set_page_cap(server.app().db(), 1'000'000).ok());
  CHECK(client.request("GET", "/readyz").status == 200);
  CHECK(post_json(client, "/api/v1/products", kMelon, bearer(farmer)).status == 201);
}

TEST_CASE("a full store loses nothing it acknowledged and stays intact", "[store]") {
  TestStore store(StoreKind::sqlite);
  const std::int64_t kept = fill_to_the_brim(store.db());
  REQUIRE(set_page_cap(store.db(), 1'000'000).ok());
  auto reopened = store.reopen();
  auto rows =
      reopened->read([](db::Session& s) { return s.query_one("SELECT COUNT(*) FROM filler"); });
  REQUIRE(rows.ok());
  CHECK((*rows)->i64(0) == kept);
  auto check = reopened->read([](db::Session& s) { return s.query_one("PRAGMA integrity_check"); });
  REQUIRE(check.ok());
  CHECK((*check)->str(0) == "ok");
}
