// Shipments and telemetry against both stores, on a small network with a manual clock.
#include "logistics/network.hpp"
#include "logistics/planner.hpp"
#include "logistics/shipments.hpp"
#include "logistics/telemetry.hpp"
#include "tests/support/support.hpp"

using namespace cunhuo;
using namespace cunhuo::logistics;
using cunhuo::test::TestStore;

namespace {

// Monday 2026-11-23 09:00 Beijing time.
const std::int64_t kStart = shanghai_midnight_ms(LocalDate{2026, 11, 23}) + 9 * 3'600'000;

struct Fixture {
  TestStore store;
  ManualClock clock{kStart};
  Planner planner;
  explicit Fixture(test::StoreKind kind) : store(kind), planner(store.db(), ColdChainRules{}) {
    store.migrate();
    auto made = store.db().write([&](db::Session& tx) -> Status {
      for (auto n : {NewNode{"VP", NodeKind::village_point, "村", "620621104201", 0, std::nullopt, std::nullopt, std::nullopt, std::nullopt},
                     NewNode{"TS", NodeKind::township_station, "站", "620621104", 0, std::nullopt, std::nullopt, std::nullopt, std::nullopt},
                     NewNode{"CS", NodeKind::cold_store, "冷库", "620621104", 100, std::nullopt, std::nullopt, std::nullopt, std::nullopt},
                     NewNode{"HUB", NodeKind::city_hub, "枢纽", "620100", 0, std::nullopt, std::nullopt, std::nullopt, std::nullopt}})
        CUNHUO_TRY(create_node(tx, n, clock));
      CUNHUO_TRY(create_link(tx, NewLink{"VP", "TS", "tricycle", false, 30, 300, "on_demand"}, clock));
      CUNHUO_TRY(create_link(tx, NewLink{"TS", "CS", "tricycle", false, 10, 100, "on_demand"}, clock));
      CUNHUO_TRY(create_link(tx, NewLink{"CS", "HUB", "refrigerated_trunk", true, 300, 9000, "Mon-Sun 20:00"}, clock));
      return register_sensor(tx, "CS-T1", "CS", clock);
    });
    REQUIRE(made.ok());
  }
  Shipment ship() {
    auto s = store.db().write([&](db::Session& tx) {
      return create_shipment(tx, planner, NewShipment{1, "VP", "HUB", "chilled", "LOT-1", 1, clock.now_ms(), clock.now_ms() + 10 * 86'400'000LL}, clock);
    });
    REQUIRE(s.ok());
    return *s;
  }
  Result<Shipment> scan(const std::string& number, const char* node, const char* step) {
    return store.db().write([&](db::Session& tx) { return record_scan(tx, planner, number, ScanInput{node, step, "in_progress", 0}, "test", clock); });
  }
  Result<IngestReport> readings(std::vector<Reading> rs) {
    return store.db().write([&](db::Session& tx) { return ingest(tx, rs, ExcursionRules{}, clock); });
  }
};

}  // namespace

STORE_TEST("a parcel running late is re-planned from where it was scanned", "[store][logistics]") {
  Fixture f(store_kind);
  const auto s = f.ship();
  REQUIRE(s.status == "planned");
  REQUIRE(s.route.size() == 3);
  CHECK(s.eta_ms == shanghai_midnight_ms(LocalDate{2026, 11, 24}) + 1 * 3'600'000);  // 20:00 + 5 h
  f.clock.advance(std::chrono::hours(12));  // 21:00: the day's trunk has left
  auto late = f.scan(s.tracking_number, "CS", "storing");
  REQUIRE(late.ok());
  CHECK(late->status == "at_node");
  CHECK(late->note.find("re-planned") != std::string::npos);
  CHECK(*late->eta_ms == *s.eta_ms + 86'400'000);  // tomorrow's trunk
  auto wrong = f.scan(s.tracking_number, "VP", "arriving");
  CHECK(wrong.error().code == "not_on_route");
}

STORE_TEST("short breaches that add up raise the cumulative alarm and hold the parcel", "[store][logistics][telemetry]") {
  Fixture f(store_kind);
  const auto s = f.ship();
  REQUIRE(f.scan(s.tracking_number, "CS", "storing").ok());
  // Twenty minutes warm, ten cold, five times over: never 30 minutes at once, 80 in all.
  std::vector<Reading> rs;
  std::int64_t t = f.clock.now_ms();
  for (int cycle = 0; cycle < 5; ++cycle) {
    for (int m = 0; m < 4; ++m) rs.push_back({"CS-T1", t += 5 * 60'000, 1000});
    for (int m = 0; m < 2; ++m) rs.push_back({"CS-T1", t += 5 * 60'000, 300});
  }
  auto report = f.readings(rs);
  REQUIRE(report.ok());
  REQUIRE(report->excursions.size() == 1);
  auto e = f.store.db().read([&](db::Session& sn) { return find_excursion(sn, report->excursions.front()); });
  REQUIRE(e.ok());
  CHECK((*e)->kind == "cumulative");
  CHECK((*e)->shipments == std::vector<std::int64_t>{s.id});
  auto held = f.store.db().read([&](db::Session& sn) { return find_shipment(sn, s.tracking_number); });
  CHECK((*held)->status == "held");
  // The same readings again change nothing and open nothing.
  auto again = f.readings(rs);
  CHECK(again->duplicates == rs.size());
  CHECK(again->excursions.empty());
}

STORE_TEST("a sensor that stops reporting where parcels wait raises its own alarm, once", "[store][logistics][telemetry]") {
  Fixture f(store_kind);
  const auto s = f.ship();
  REQUIRE(f.scan(s.tracking_number, "CS", "storing").ok());
  REQUIRE(f.readings({{"CS-T1", f.clock.now_ms(), 300}}).ok());
  f.clock.advance(std::chrono::minutes(10));
  auto quiet = f.store.db().write([&](db::Session& tx) { return check_silence(tx, ExcursionRules{}, f.clock); });
  CHECK(quiet->empty());
  f.clock.advance(std::chrono::minutes(10));
  auto silent = f.store.db().write([&](db::Session& tx) { return check_silence(tx, ExcursionRules{}, f.clock); });
  REQUIRE(silent->size() == 1);
  auto twice = f.store.db().write([&](db::Session& tx) { return check_silence(tx, ExcursionRules{}, f.clock); });
  CHECK(twice->empty());
}

STORE_TEST("readings in range keep a parcel moving; a released excursion lets it go on", "[store][logistics][telemetry]") {
  Fixture f(store_kind);
  const auto s = f.ship();
  REQUIRE(f.scan(s.tracking_number, "CS", "storing").ok());
  std::vector<Reading> rs;
  for (int m = 1; m <= 12; ++m) rs.push_back({"CS-T1", f.clock.now_ms() + m * 5 * 60'000, m == 6 ? 1200 : 400});
  auto report = f.readings(rs);
  REQUIRE(report.ok());
  CHECK(report->excursions.empty());  // five warm minutes are within the limits
  std::vector<Reading> warm;
  for (int m = 13; m <= 22; ++m) warm.push_back({"CS-T1", f.clock.now_ms() + m * 5 * 60'000, 1500});
  auto hot = f.readings(warm);
  REQUIRE(hot->excursions.size() == 1);
  auto decided = f.store.db().write([&](db::Session& tx) { return decide_excursion(tx, hot->excursions.front(), false, f.clock); });
  REQUIRE(decided.ok());
  auto after = f.store.db().read([&](db::Session& sn) { return find_shipment(sn, s.tracking_number); });
  CHECK((*after)->status == "at_node");
}

STORE_TEST("a warm truck holds the parcels riding it, and a held parcel cannot be delivered", "[store][logistics][telemetry]") {
  Fixture f(store_kind);
  const auto s = f.ship();
  REQUIRE(f.scan(s.tracking_number, "CS", "storing").ok());
  f.clock.advance(std::chrono::hours(11));  // 20:00: the trunk leaves
  auto riding = f.scan(s.tracking_number, "CS", "departing");
  REQUIRE(riding.ok());
  REQUIRE(riding->status == "in_transit");
  const std::int64_t link = riding->route.front().link_id;
  REQUIRE(f.store.db().write([&](db::Session& tx) { return register_vehicle_sensor(tx, "TRUCK-1", link, f.clock); }).ok());
  std::vector<Reading> warm;
  for (int m = 1; m <= 9; ++m) warm.push_back({"TRUCK-1", f.clock.now_ms() + m * 5 * 60'000, 1400});
  auto report = f.readings(warm);
  REQUIRE(report.ok());
  REQUIRE(report->excursions.size() == 1);
  f.clock.advance(std::chrono::hours(5));
  auto arrived = f.scan(s.tracking_number, "HUB", "arriving");
  REQUIRE(arrived.ok());
  CHECK(arrived->status == "held");
  auto delivered = f.scan(s.tracking_number, "HUB", "delivering");
  CHECK(delivered.error().code == "on_hold");
}
