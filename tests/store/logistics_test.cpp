// Shipments and telemetry against both stores, on a small network with a manual clock.
#include <sodium.h>

#include <algorithm>
#include <cstring>

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
      for (auto n : {NewNode{"VP", NodeKind::village_point, "村", "620621104201", 0, std::nullopt,
                             std::nullopt, std::nullopt, std::nullopt},
                     NewNode{"TS", NodeKind::township_station, "站", "620621104", 0, std::nullopt,
                             std::nullopt, std::nullopt, std::nullopt},
                     NewNode{"CS", NodeKind::cold_store, "冷库", "620621104", 100, std::nullopt,
                             std::nullopt, std::nullopt, std::nullopt},
                     NewNode{"HUB", NodeKind::city_hub, "枢纽", "620100", 0, std::nullopt,
                             std::nullopt, std::nullopt, std::nullopt}})
        CUNHUO_TRY(create_node(tx, n, clock));
      CUNHUO_TRY(
          create_link(tx, NewLink{"VP", "TS", "tricycle", false, 30, 300, "on_demand"}, clock));
      CUNHUO_TRY(
          create_link(tx, NewLink{"TS", "CS", "tricycle", false, 10, 100, "on_demand"}, clock));
      CUNHUO_TRY(create_link(
          tx, NewLink{"CS", "HUB", "refrigerated_trunk", true, 300, 9000, "Mon-Sun 20:00"}, clock));
      return register_sensor(tx, "CS-T1", "CS", clock);
    });
    REQUIRE(made.ok());
  }
  Shipment ship() {
    auto s = store.db().write([&](db::Session& tx) {
      const NewShipment melon{.order_id = 1,
                              .origin_code = "VP",
                              .destination_code = "HUB",
                              .temperature_class = TemperatureClass::chilled,
                              .lot = "LOT-1",
                              .ready_at_ms = clock.now_ms(),
                              .shelf_deadline_ms = clock.now_ms() + 10 * 86'400'000LL};
      return create_shipment(tx, planner, melon, clock);
    });
    REQUIRE(s.ok());
    return *s;
  }
  Result<Shipment> scan(const std::string& number, const char* node, const char* step) {
    return store.db().write([&](db::Session& tx) {
      return record_scan(tx, planner, number, ScanInput{node, step, "in_progress", 0}, "test",
                         clock);
    });
  }
  // Readings as a sensor sends them live: the clock has reached the newest of them.
  Result<IngestReport> readings(std::vector<Reading> rs) {
    for (const auto& r : rs)
      if (r.at_ms > clock.now_ms())
        clock.advance(std::chrono::milliseconds(r.at_ms - clock.now_ms()));
    return sent(rs);
  }
  // Readings as they arrive, whatever the clock says.
  Result<IngestReport> sent(std::vector<Reading> rs,
                            ReadingSender sender = ReadingSender{.anywhere = true}) {
    return store.db().write(
        [&](db::Session& tx) { return ingest(tx, rs, sender, ExcursionRules{}, clock); });
  }
  std::vector<Excursion> open_excursions() {
    auto list = store.db().read([&](db::Session& sn) { return excursions_in(sn, "", "open"); });
    REQUIRE(list.ok());
    return *list;
  }
  std::int64_t sensor_column(const char* column) {
    auto v = store.db().read([&](db::Session& sn) -> Result<std::int64_t> {
      auto r = CUNHUO_TRY(sn.query_one(std::string("SELECT ") + column +
                                       " FROM sensors WHERE sensor_code = 'CS-T1'"));
      return r ? r->i64(0) : -1;
    });
    REQUIRE(v.ok());
    return *v;
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

STORE_TEST("short breaches that add up raise the cumulative alarm and hold the parcel",
           "[store][logistics][telemetry]") {
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
  auto e = f.store.db().read(
      [&](db::Session& sn) { return find_excursion(sn, report->excursions.front()); });
  REQUIRE(e.ok());
  CHECK((*e)->kind == "cumulative");
  CHECK((*e)->shipments == std::vector<std::int64_t>{s.id});
  auto held =
      f.store.db().read([&](db::Session& sn) { return find_shipment(sn, s.tracking_number); });
  CHECK((*held)->status == "held");
  // The same readings again change nothing and open nothing.
  auto again = f.readings(rs);
  CHECK(again->duplicates == rs.size());
  CHECK(again->excursions.empty());
}

STORE_TEST("a sensor that stops reporting where parcels wait raises its own alarm, once",
           "[store][logistics][telemetry]") {
  Fixture f(store_kind);
  const auto s = f.ship();
  REQUIRE(f.scan(s.tracking_number, "CS", "storing").ok());
  REQUIRE(f.readings({{"CS-T1", f.clock.now_ms(), 300}}).ok());
  f.clock.advance(std::chrono::minutes(10));
  auto quiet = f.store.db().write(
      [&](db::Session& tx) { return check_silence(tx, ExcursionRules{}, f.clock); });
  CHECK(quiet->empty());
  f.clock.advance(std::chrono::minutes(10));
  auto silent = f.store.db().write(
      [&](db::Session& tx) { return check_silence(tx, ExcursionRules{}, f.clock); });
  REQUIRE(silent->size() == 1);
  auto twice = f.store.db().write(
      [&](db::Session& tx) { return check_silence(tx, ExcursionRules{}, f.clock); });
  CHECK(twice->empty());
}

STORE_TEST("readings in range keep a parcel moving; a released excursion lets it go on",
           "[store][logistics][telemetry]") {
  Fixture f(store_kind);
  const auto s = f.ship();
  REQUIRE(f.scan(s.tracking_number, "CS", "storing").ok());
  std::vector<Reading> rs;
  for (int m = 1; m <= 12; ++m)
    rs.push_back({"CS-T1", f.clock.now_ms() + m * 5 * 60'000, m == 6 ? 1200 : 400});
  auto report = f.readings(rs);
  REQUIRE(report.ok());
  CHECK(report->excursions.empty());  // five warm minutes are within the limits
  std::vector<Reading> warm;
  for (int m = 13; m <= 22; ++m) warm.push_back({"CS-T1", f.clock.now_ms() + m * 5 * 60'000, 1500});
  auto hot = f.readings(warm);
  REQUIRE(hot->excursions.size() == 1);
  auto decided = f.store.db().write([&](db::Session& tx) {
    return decide_excursion(tx, hot->excursions.front(), false, f.clock);
  });
  REQUIRE(decided.ok());
  auto after =
      f.store.db().read([&](db::Session& sn) { return find_shipment(sn, s.tracking_number); });
  CHECK((*after)->status == "at_node");
  // The verdict is published, for the centre's board and the store's station.
  auto published = f.store.db().read([&](db::Session& sn) {
    return sn.query("SELECT payload FROM outbox_events WHERE topic = ?", {kExcursionDecided});
  });
  REQUIRE(published->size() == 1);
  auto event = ExcursionDecided::decode(published->front().str(0));
  REQUIRE(event.ok());
  CHECK(event->excursion_id == hot->excursions.front());
  CHECK(event->verdict == "released");
}

STORE_TEST("a warm truck holds the parcels riding it, and a held parcel cannot be delivered",
           "[store][logistics][telemetry]") {
  Fixture f(store_kind);
  const auto s = f.ship();
  REQUIRE(f.scan(s.tracking_number, "CS", "storing").ok());
  f.clock.advance(std::chrono::hours(11));  // 20:00: the trunk leaves
  auto riding = f.scan(s.tracking_number, "CS", "departing");
  REQUIRE(riding.ok());
  REQUIRE(riding->status == "in_transit");
  const std::int64_t link = riding->route.front().link_id;
  REQUIRE(f.store.db()
              .write([&](db::Session& tx) {
                return register_vehicle_sensor(tx, "TRUCK-1", link, f.clock);
              })
              .ok());
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

// ---- readings from the future and from the past ------------------------------------

// `count` readings of one sensor, `step_min` apart from `from_ms`.
std::vector<Reading> series(std::int64_t from_ms, int count, int step_min, int centi) {
  std::vector<Reading> out;
  for (int i = 0; i < count; ++i)
    out.push_back({"CS-T1", from_ms + i * step_min * 60'000LL, centi});
  return out;
}

const std::int64_t k2096 = shanghai_midnight_ms(LocalDate{2096, 1, 1});

STORE_TEST(
    "a reading dated in 2096 is refused on its own, and two warm hours after it raise the "
    "excursion",
    "[store][logistics][telemetry]") {
  Fixture f(store_kind);
  const auto s = f.ship();
  REQUIRE(f.scan(s.tracking_number, "CS", "storing").ok());
  f.clock.advance(std::chrono::hours(2));
  const std::int64_t now = f.clock.now_ms();
  auto forged = f.sent({{"CS-T1", k2096, 400}, {"CS-T1", now - 125 * 60'000, 400}});
  REQUIRE(forged.ok());
  REQUIRE(forged->refused.size() == 1);
  CHECK(forged->refused.front().index == 0);
  CHECK(forged->refused.front().code == "future_time");
  CHECK(forged->stored == 1);
  auto warm = f.sent(series(now - 120 * 60'000, 25, 5, 1500));
  REQUIRE(warm.ok());
  CHECK(warm->late == 0);
  CHECK(warm->checked == 25);
  CHECK(warm->excursions.size() == 1);
}

STORE_TEST(
    "a reading a little ahead of the clock is kept, but the sensor's state stays at the present",
    "[store][logistics][telemetry]") {
  Fixture f(store_kind);
  const std::int64_t now = f.clock.now_ms();
  auto ahead = f.sent({{"CS-T1", now + kMaxReadingAheadMs, 400}});
  REQUIRE(ahead.ok());
  CHECK(ahead->stored == 1);
  CHECK(f.sensor_column("last_reading_at") == now);
  auto beyond = f.sent({{"CS-T1", now + kMaxReadingAheadMs + 1, 400}});
  CHECK(beyond->refused.size() == 1);
  CHECK(beyond->stored == 0);
}

STORE_TEST("a sensor that uploads its buffered readings late still raises the continuous alarm",
           "[store][logistics][telemetry]") {
  Fixture f(store_kind);
  const auto s = f.ship();
  REQUIRE(f.scan(s.tracking_number, "CS", "storing").ok());
  const std::int64_t t0 = f.clock.now_ms();
  // Back online after two hours: its live reading first, then what it buffered.
  REQUIRE(f.readings({{"CS-T1", t0 + 120 * 60'000, 400}}).ok());
  auto buffered = f.sent(series(t0, 24, 5, 1200));
  REQUIRE(buffered.ok());
  CHECK(buffered->late == 24);
  CHECK(buffered->checked == 24);
  REQUIRE(buffered->excursions.size() == 1);
  const auto open = f.open_excursions();
  REQUIRE(open.size() == 1);
  CHECK(open.front().kind == "continuous");
  CHECK(open.front().started_at_ms == t0);
}

STORE_TEST("late readings between cold ones add their warm minutes to the time out of range",
           "[store][logistics][telemetry]") {
  Fixture f(store_kind);
  const auto s = f.ship();
  REQUIRE(f.scan(s.tracking_number, "CS", "storing").ok());
  const std::int64_t t0 = f.clock.now_ms();
  REQUIRE(f.readings(series(t0, 16, 10, 400)).ok());  // cold every ten minutes, 2.5 hours
  CHECK(f.open_excursions().empty());
  // Fourteen warm readings, each five minutes after a cold one: never a long run, but
  // 70 minutes out of range in all.
  auto warm = f.sent(series(t0 + 5 * 60'000, 14, 10, 1100));
  REQUIRE(warm.ok());
  CHECK(warm->late == 14);
  const auto open = f.open_excursions();
  REQUIRE(open.size() == 1);
  CHECK(open.front().kind == "cumulative");
}

STORE_TEST("a late cold reading inside a warm spell starts the running breach again after it",
           "[store][logistics][telemetry]") {
  Fixture f(store_kind);
  const auto s = f.ship();
  REQUIRE(f.scan(s.tracking_number, "CS", "storing").ok());
  const std::int64_t t0 = f.clock.now_ms();
  auto spell = series(t0 + 5 * 60'000, 5, 5, 1200);  // warm from 5 to 25 minutes
  spell.insert(spell.begin(), Reading{"CS-T1", t0, 400});
  REQUIRE(f.readings(spell).ok());
  REQUIRE(f.sent({{"CS-T1", t0 + 12 * 60'000, 400}}).ok());  // it was cold at 12 minutes after all
  // Warm on to 40 minutes: 28 minutes since the cold reading, within the 30 allowed.
  auto on = f.readings(series(t0 + 30 * 60'000, 3, 5, 1200));
  REQUIRE(on.ok());
  CHECK(on->excursions.empty());
}

STORE_TEST("readings for a sensor the sender does not answer for are refused one by one",
           "[store][logistics][telemetry]") {
  Fixture f(store_kind);
  auto node = f.store.db().read([&](db::Session& sn) { return find_node(sn, "CS"); });
  REQUIRE(node.ok());
  const std::int64_t now = f.clock.now_ms();
  const std::vector<Reading> rs{{"CS-T1", now - 60'000, 400}, {"CS-T1", now, 400}};
  struct Row {
    const char* who;
    ReadingSender sender;
    std::size_t stored;
  };
  const std::vector<Row> rows{
      {"a device key of another sensor", ReadingSender{.sensor_code = "OTHER-T1"}, 0},
      {"a station operator elsewhere", ReadingSender{.node_id = (*node)->id.value + 100}, 0},
      {"a centre of another county", ReadingSender{.region_code = "620102"}, 0},
      {"nobody in particular", ReadingSender{}, 0},
      {"the sensor's own device key", ReadingSender{.sensor_code = "CS-T1"}, 2},
  };
  for (const auto& row : rows) {
    INFO(row.who);
    auto report = f.sent(rs, row.sender);
    REQUIRE(report.ok());
    CHECK(report->stored == row.stored);
    CHECK(report->refused.size() == rs.size() - row.stored);
    if (!report->refused.empty()) CHECK(report->refused.front().code == "not_your_sensor");
  }
  for (const auto& sender :
       {ReadingSender{.node_id = (*node)->id.value}, ReadingSender{.region_code = "620621"}})
    CHECK(f.sent(rs, sender)->duplicates == 2);  // taken (and already there)
}

// ---- tracking numbers ------------------------------------------------------------------

namespace {

// A random source that always gives the same byte: numbers drawn from it are predictable.
void fixed_buf(void* out, std::size_t n) { std::memset(out, 7, n); }
uint32_t fixed_random() { return 0x07070707u; }
const char* fixed_name() { return "fixed"; }
randombytes_implementation kFixed = {fixed_name, fixed_random, nullptr,
                                     nullptr,    fixed_buf,    nullptr};

}  // namespace

STORE_TEST("tracking numbers are drawn from libsodium's CSPRNG", "[store][logistics]") {
  Fixture f(store_kind);
  REQUIRE(sodium_init() >= 0);
  randombytes_set_implementation(&kFixed);
  auto made = f.store.db().write([&](db::Session& tx) {
    return create_shipment(tx, f.planner,
                           NewShipment{.order_id = 1,
                                       .origin_code = "VP",
                                       .destination_code = "HUB",
                                       .ready_at_ms = f.clock.now_ms()},
                           f.clock);
  });
  randombytes_set_implementation(&randombytes_internal_implementation);
  REQUIRE(made.ok());
  CHECK(made->tracking_number == "CH777777777777");
}

// ---- planning ---------------------------------------------------------------------------

STORE_TEST("a parcel ready a second after a departure's minute misses it",
           "[store][logistics][routing]") {
  Fixture f(store_kind);
  // 19:20 at the village: 40 minutes by tricycle to the cold store, the 20:00 trunk.
  const std::int64_t at_1920 =
      shanghai_midnight_ms(LocalDate{2026, 11, 23}) + (19 * 60 + 20) * 60'000LL;
  auto plan_from = [&](std::int64_t ready) {
    auto p = f.planner.plan(PlanRequest{.origin_code = "VP",
                                        .destination_code = "HUB",
                                        .temperature_class = TemperatureClass::ambient,
                                        .ready_at_ms = ready,
                                        .arrive_by_ms = std::nullopt});
    REQUIRE(p.ok());
    return p->hops.back().depart_ms;
  };
  const std::int64_t tonight = at_1920 + 40 * 60'000;
  CHECK(plan_from(at_1920) == tonight);
  CHECK(plan_from(at_1920 + 1000) == tonight + 86'400'000);
}
