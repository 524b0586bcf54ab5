// The module repositories and the seed loader, on both stores.
#include "logistics/network.hpp"
#include "marketplace/registry.hpp"
#include "seeds/loader.hpp"
#include "storefront/auth.hpp"
#include "tests/support/support.hpp"

using namespace cunhuo;
using cunhuo::test::TestStore;

namespace {

seeds::AccountCreator account_creator(storefront::Auth& auth) {
  return [&auth](db::Session& tx, const seeds::SeedAccount& a) -> Result<std::int64_t> {
    storefront::NewAccount account{
        a.phone,       a.password,     a.display_name, CUNHUO_TRY(storefront::parse_role(a.role)),
        a.region_code, a.household_id, a.shop_id,      a.node_id};
    return auth.create_account(tx, account);
  };
}

marketplace::NewHousehold sample_household() {
  return marketplace::NewHousehold{
      "620621104201", "王建国", "620621197803150013",
      "13800000001",  4,        marketplace::PovertyStatus::registered_poor};
}

}  // namespace

STORE_TEST("a household is stored whole and found by id", "[store][registry]") {
  TestStore store(store_kind);
  store.migrate();
  ManualClock clock(1'795'000'000'000);  // late 2026
  auto id = store.db().write([&](db::Session& tx) {
    return marketplace::create_household(tx, sample_household(), clock);
  });
  REQUIRE(id.ok());
  auto found = store.db().read([&](db::Session& s) { return marketplace::find_household(s, *id); });
  REQUIRE(found->has_value());
  CHECK((*found)->head_id_number == "620621197803150013");
  CHECK((*found)->status == marketplace::PovertyStatus::registered_poor);
  auto missing = store.db().read([&](db::Session& s) {
    return marketplace::find_household(s, marketplace::HouseholdId{999});
  });
  CHECK_FALSE(missing->has_value());
}

STORE_TEST("a household with a bad id number or village code is refused", "[store][registry]") {
  TestStore store(store_kind);
  store.migrate();
  ManualClock clock(1'795'000'000'000);  // late 2026
  auto bad_id = sample_household();
  bad_id.head_id_number = "12345";
  auto r1 = store.db().write(
      [&](db::Session& tx) { return marketplace::create_household(tx, bad_id, clock); });
  CHECK(r1.error().field == "head_id_number");
  auto bad_village = sample_household();
  bad_village.village_code = "620621";
  auto r2 = store.db().write(
      [&](db::Session& tx) { return marketplace::create_household(tx, bad_village, clock); });
  CHECK(r2.error().field == "village_code");
}

STORE_TEST("a cooperative shop names its member households", "[store][registry]") {
  TestStore store(store_kind);
  store.migrate();
  ManualClock clock(1'795'000'000'000);  // late 2026
  auto shop = store.db().write([&](db::Session& tx) -> Result<marketplace::ShopId> {
    auto a = CUNHUO_TRY(marketplace::create_household(tx, sample_household(), clock));
    auto neighbour = sample_household();
    neighbour.head_id_number = "620621198808080012";  // one ID number stands on one card
    auto b = CUNHUO_TRY(marketplace::create_household(tx, neighbour, clock));
    return marketplace::create_shop(
        tx, {"合作社", marketplace::ShopKind::cooperative, "620621104201", {a, b}}, clock);
  });
  REQUIRE(shop.ok());
  auto found = store.db().read([&](db::Session& s) { return marketplace::find_shop(s, *shop); });
  REQUIRE(found->has_value());
  CHECK((*found)->members.size() == 2);
  auto orphan = store.db().write([&](db::Session& tx) {
    return marketplace::create_shop(
        tx, {"x", marketplace::ShopKind::household, "620621104201", {marketplace::HouseholdId{77}}},
        clock);
  });
  CHECK(orphan.error().code == "unknown_household");
}

STORE_TEST("network nodes have unique codes and are listed by region", "[store][network]") {
  TestStore store(store_kind);
  store.migrate();
  ManualClock clock(1'795'000'000'000);  // late 2026
  logistics::NewNode station{"TS-1",
                             logistics::NodeKind::township_station,
                             "站",
                             "620621104",
                             0,
                             std::nullopt,
                             std::nullopt,
                             std::nullopt,
                             std::nullopt};
  REQUIRE(store.db()
              .write([&](db::Session& tx) { return logistics::create_node(tx, station, clock); })
              .ok());
  auto dup =
      store.db().write([&](db::Session& tx) { return logistics::create_node(tx, station, clock); });
  CHECK(dup.error().code == "duplicate_code");
  logistics::NewNode cold{"CS-1",
                          logistics::NodeKind::cold_store,
                          "冷库",
                          "620621",
                          0,
                          std::nullopt,
                          std::nullopt,
                          std::nullopt,
                          std::nullopt};
  CHECK(store.db()
            .write([&](db::Session& tx) { return logistics::create_node(tx, cold, clock); })
            .error()
            .field == "cold_capacity_crates");
  auto in_county = store.db().read([](db::Session& s) { return logistics::nodes_in(s, "620621"); });
  CHECK(in_county->size() == 1);
  auto elsewhere = store.db().read([](db::Session& s) { return logistics::nodes_in(s, "620622"); });
  CHECK(elsewhere->empty());
}

STORE_TEST("the Minqin seed loads once with accounts for every role", "[store][seeds]") {
  TestStore store(store_kind);
  store.migrate();
  ManualClock clock(1'795'000'000'000);  // late 2026
  storefront::Auth auth(store.db(), clock);
  auto first = seeds::load(store.db(), *seeds::builtin("fixture"), clock, account_creator(auth));
  REQUIRE(first.ok());
  CHECK(first->loaded);
  CHECK(first->households == 6);
  CHECK(first->accounts >= 8);
  auto second = seeds::load(store.db(), *seeds::builtin("fixture"), clock, account_creator(auth));
  REQUIRE(second.ok());
  CHECK_FALSE(second->loaded);
  auto roles = store.db().read(
      [](db::Session& s) { return s.query_one("SELECT COUNT(DISTINCT role) FROM accounts"); });
  CHECK((*roles)->i64(0) == 9);
}

STORE_TEST("a seed with a broken reference loads nothing at all", "[store][seeds]") {
  TestStore store(store_kind);
  store.migrate();
  ManualClock clock(1'795'000'000'000);  // late 2026
  storefront::Auth auth(store.db(), clock);
  const char* seed =
      R"({"name":"broken","nodes":[{"code":"N1","kind":"township_station","name":"n",)"
      R"("region_code":"620621104"}],"households":[],"shops":[{"key":"s","name":"s",)"
      R"("kind":"household","village_code":"620621104201","members":["ghost"]}]})";
  auto r = seeds::load(store.db(), seed, clock, account_creator(auth));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == "unknown_reference");
  auto nodes = store.db().read(
      [](db::Session& s) { return s.query_one("SELECT COUNT(*) FROM network_nodes"); });
  CHECK((*nodes)->i64(0) == 0);
}

STORE_TEST("a login with the right password opens a session and a wrong one does not",
           "[store][auth]") {
  TestStore store(store_kind);
  store.migrate();
  ManualClock clock(1'000'000);
  storefront::Auth auth(store.db(), clock);
  REQUIRE(store.db()
              .write([&](db::Session& tx) {
                return auth.create_account(tx, {"13900000042",
                                                "correct horse",
                                                "测试",
                                                storefront::Role::consumer,
                                                "620621",
                                                {},
                                                {},
                                                {}});
              })
              .ok());
  auto wrong = auth.login("13900000042", "wrong horse");
  CHECK(wrong.error().code == "invalid_credentials");
  auto unknown = auth.login("13900000043", "correct horse");
  CHECK(unknown.error().code == "invalid_credentials");
  auto grant = auth.login("13900000042", "correct horse");
  REQUIRE(grant.ok());
  CHECK(grant->token.size() == 64);
  storefront::Request req;
  req.headers.emplace_back("authorization", "Bearer " + grant->token);
  CHECK(auth.authenticate(req)->phone == "13900000042");
  clock.advance(std::chrono::hours(24 * 31));
  CHECK(auth.authenticate(req).error().code == "unauthenticated");  // expired
  auto stored = store.db().read([](db::Session& s) {
    return s.query_one("SELECT token_hash, password_hash FROM sessions, accounts");
  });
  CHECK((*stored)->str(0) != grant->token);              // only the hash is kept
  CHECK((*stored)->str(1).rfind("$argon2id$", 0) == 0);  // argon2id
}
