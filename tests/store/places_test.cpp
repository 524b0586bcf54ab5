// Place names by administrative division code, and the seed sets that bring them: a later
// version of a seed is a set of its own, so a store loaded before gets the names too.
#include <set>

#include "core/json.hpp"
#include "marketplace/places.hpp"
#include "seeds/demo.hpp"
#include "seeds/loader.hpp"
#include "storefront/auth.hpp"
#include "tests/support/support.hpp"

using namespace cunhuo;
using cunhuo::test::TestStore;

namespace {

struct Refusal {
  std::string code, name, error, field;
};

Result<marketplace::PlaceNames> names_of(db::Database& db, std::vector<std::string> codes) {
  return db.read([&](db::Session& s) { return marketplace::place_names(s, codes); });
}

Status name(db::Database& db, const std::string& code, const std::string& place) {
  return db.write([&](db::Session& tx) { return marketplace::name_place(tx, code, place); });
}

seeds::AccountCreator no_accounts() {
  return [](db::Session&, const seeds::SeedAccount&) -> Result<std::int64_t> {
    return make_error(ErrorKind::internal, "unexpected", "a places set makes no accounts");
  };
}

}  // namespace

STORE_TEST("a place is named by its code, renamed by naming it again, unknown codes left out",
           "[store][places]") {
  TestStore store(store_kind);
  store.migrate();
  REQUIRE(name(store.db(), "620621104", "西渠镇").ok());
  REQUIRE(name(store.db(), "620621104201", "致力村").ok());
  REQUIRE(name(store.db(), "620621104201", "致力新村").ok());
  auto names = names_of(store.db(), {"620621104201", "620621104", "620621104", "620621999"});
  REQUIRE(names.ok());
  CHECK(*names == marketplace::PlaceNames{{"620621104", "西渠镇"}, {"620621104201", "致力新村"}});
}

STORE_TEST("a place name is refused for a malformed code or an empty or long name",
           "[store][places]") {
  TestStore store(store_kind);
  store.migrate();
  const std::string longest(marketplace::kMaxPlaceNameChars * 3, 'x');  // bytes, not characters
  std::string longest_chinese;
  for (std::size_t i = 0; i < marketplace::kMaxPlaceNameChars; ++i) longest_chinese += "村";
  CHECK(name(store.db(), "620621104202", longest_chinese).ok());  // counted in characters
  const std::vector<Refusal> refusals = {
      {"62062110420", "致力村", "invalid_region_code", "code"},
      {"abcdef", "民勤县", "invalid_region_code", "code"},
      {"620621104201", "", "invalid_length", "name"},
      {"620621104201", longest_chinese + "村", "invalid_length", "name"},
  };
  for (const auto& r : refusals) {
    INFO(r.code << " " << r.name);
    auto refused = name(store.db(), r.code, r.name);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().code == r.error);
    CHECK(refused.error().field == r.field);
  }
  CHECK(names_of(store.db(), {"620621104201"})->empty());
}

STORE_TEST("more codes than one statement takes are looked up in batches", "[store][places]") {
  TestStore store(store_kind);
  store.migrate();
  std::vector<std::string> codes;
  REQUIRE(store.db()
              .write([&](db::Session& tx) -> Status {
                for (std::size_t i = 0; i < marketplace::kPlaceLookupBatch + 10; ++i) {
                  codes.push_back("620621" + std::to_string(100'000 + i));
                  CUNHUO_CHECK(marketplace::name_place(tx, codes.back(), "村" + codes.back()));
                }
                return {};
              })
              .ok());
  auto names = names_of(store.db(), codes);
  REQUIRE(names.ok());
  CHECK(names->size() == codes.size());
  CHECK(names->at(codes.back()) == "村" + codes.back());
}

STORE_TEST("the fixture's place names are a set of their own, loaded once after it",
           "[store][places][seeds]") {
  TestStore store(store_kind);
  store.migrate();
  const SystemClock clock;
  storefront::Auth auth(store.db(), clock);
  auto creator = [&auth](db::Session& tx, const seeds::SeedAccount& a) -> Result<std::int64_t> {
    return auth.create_account(
        tx, {a.phone, a.password, a.display_name, CUNHUO_TRY(storefront::parse_role(a.role)),
             a.region_code, a.household_id, a.shop_id, a.node_id});
  };
  REQUIRE(seeds::load(store.db(), *seeds::builtin("fixture"), clock, creator).ok());
  CHECK(names_of(store.db(), {"620621104"})->empty());  // the fixture as it first was
  const auto updates = seeds::updates_of("fixture");
  REQUIRE(updates.size() == 1);
  auto first = seeds::load(store.db(), updates[0], clock, no_accounts());
  REQUIRE(first.ok());
  CHECK(first->loaded);
  CHECK(first->places == 15);
  CHECK(names_of(store.db(), {"620621", "620621104", "620621104201"})->size() == 3);
  auto again = seeds::load(store.db(), updates[0], clock, no_accounts());
  REQUIRE(again.ok());
  CHECK_FALSE(again->loaded);
}

TEST_CASE("the demo county names every township and village it has", "[store][places][seeds]") {
  auto doc = Json::parse(seeds::demo::places_json());
  REQUIRE(doc.ok());
  CHECK(doc->find("name")->as_string() == "minqin:places:1");
  std::set<std::string> codes;
  for (const auto& p : doc->find("places")->as_array()) codes.insert(p.find("code")->as_string());
  CHECK(codes.contains("620621"));
  CHECK(codes.contains("620621118"));          // 南湖镇, the 18th township
  CHECK(codes.contains("620621104201"));       // the fixture's villages keep their codes
  CHECK(codes.size() == 3 + 18 + 7 + 13 * 2);  // 兰州, 城关, 民勤; townships; villages
}
