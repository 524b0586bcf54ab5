// Cold-chain routing on small networks where the right answer is known.
#include "logistics/routing.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdio>
#include <optional>
#include <random>

#include "core/clock.hpp"
#include "seeds/province.hpp"

using namespace cunhuo::logistics;

namespace {

// Monday 2026-11-23 00:00 Beijing time, in minutes.
const std::int64_t kMonday =
    minute_of(cunhuo::shanghai_midnight_ms(cunhuo::LocalDate{2026, 11, 23}));

Timetable at(const char* text) {
  auto t = parse_timetable(text);
  REQUIRE(t.ok());
  return *t;
}

// village -(tricycle 30, on demand)- station -(van 60, daily 14:00)- county centre -(trunk 240,
// daily 20:00)- hub
//                                                                   county centre -(slow cheap
//                                                                   trunk 300, daily 06:00)- hub
// station -(tricycle 10)- township cold store -(refrigerated van 90, daily 10:00)- county cold
// store -(refrigerated trunk 200, 21:00)- hub
struct Net {
  RoutingGraph g;
  int village, station, centre, hub, township_store, county_store;
  explicit Net(int township_crates = 100, unsigned township_keeps = kKeepsChilled | kKeepsFrozen) {
    village = g.add_point({});
    station = g.add_point({});
    centre = g.add_point({});
    hub = g.add_point({true, 1000});
    township_store = g.add_point({true, township_crates, township_keeps});
    county_store = g.add_point({true, 500});
    g.add_link({village, station, LinkMode::tricycle, false, 30, 300, {}});
    g.add_link({station, centre, LinkMode::van, false, 60, 800, at("Mon-Sun 14:00")});
    g.add_link({centre, hub, LinkMode::ambient_trunk, false, 240, 5000, at("Mon-Sun 20:00")});
    g.add_link({centre, hub, LinkMode::ambient_trunk, false, 300, 3000, at("Mon-Sun 06:00")});
    g.add_link({station, township_store, LinkMode::tricycle, false, 10, 100, {}});
    g.add_link({township_store, county_store, LinkMode::refrigerated_van, true, 90, 1500,
                at("Mon-Sun 10:00")});
    g.add_link(
        {county_store, hub, LinkMode::refrigerated_trunk, true, 200, 12000, at("Mon-Sun 21:00")});
    g.finalize();
  }
  ParcelQuery query(std::int64_t ready, int budget) const {
    ParcelQuery q;
    q.origin = village;
    q.destination = hub;
    q.ready_minute = ready;
    q.unrefrigerated_budget_min = budget;
    return q;
  }
};

}  // namespace

TEST_CASE("a timetable is read from days and times, and gives the next departure",
          "[unit][routing]") {
  const Timetable t = at("Mon-Fri 08:00,14:00; Sat 09:30");
  CHECK(t.departures.size() == 11);
  CHECK(t.next_departure(kMonday) == kMonday + 8 * 60);
  CHECK(t.next_departure(kMonday + 8 * 60) == kMonday + 8 * 60);
  CHECK(t.next_departure(kMonday + 8 * 60 + 1) == kMonday + 14 * 60);
  CHECK(t.next_departure(kMonday + 5 * 1440 + 10 * 60) ==
        kMonday + 7 * 1440 + 8 * 60);  // Saturday 10:00 → next Monday
  CHECK(at("on_demand").next_departure(kMonday + 77) == kMonday + 77);
  for (const char* bad : {"Mon 25:00", "Funday 08:00", "Mon", "Fri-Mon 08:00", "Mon 8:00", ""})
    CHECK_FALSE(parse_timetable(bad).ok());
}

TEST_CASE("an ambient parcel takes the earliest route and agrees with the plain Dijkstra",
          "[unit][routing]") {
  Net n;
  auto a = earliest_arrival(n.g, n.query(kMonday + 9 * 60, kUnlimited));
  REQUIRE(a.plan);
  // 09:00 ready: the 14:00 van, then the 20:00 trunk, arrives midnight (the cold way, 00:20).
  CHECK(a.plan->arrival_minute == kMonday + 20 * 60 + 240);
  CHECK(timetable_dijkstra(n.g, n.village, n.hub, kMonday + 9 * 60) == a.plan->arrival_minute);
}

TEST_CASE("a chilled parcel waits in the cold store, not at the station", "[unit][routing]") {
  Net n;
  // Ready at 11:00: the ambient way waits at the station till 14:00 (unrefrigerated);
  // the cold way waits refrigerated for tomorrow's 10:00 van.
  auto a = earliest_arrival(n.g, n.query(kMonday + 11 * 60, 120));
  REQUIRE(a.plan);
  CHECK(a.plan->unrefrigerated_min <= 120);
  CHECK(a.plan->hops.size() == 4);
  CHECK(n.g.link(a.plan->hops[1].link).to == n.township_store);
  auto ambient = earliest_arrival(n.g, n.query(kMonday + 11 * 60, kUnlimited));
  REQUIRE(ambient.plan);
  CHECK(ambient.plan->arrival_minute < a.plan->arrival_minute);
}

TEST_CASE("no route says which limit stopped it", "[unit][routing]") {
  Net n;
  auto frozen =
      earliest_arrival(n.g, n.query(kMonday + 11 * 60, 20));  // the tricycle alone takes 30 min
  CHECK_FALSE(frozen.plan);
  CHECK(frozen.reason == NoRouteReason::unrefrigerated_budget);
  auto q = n.query(kMonday + 11 * 60, 120);
  q.shelf_deadline_minute = q.ready_minute + 300;
  auto spoiled = earliest_arrival(n.g, q);
  CHECK_FALSE(spoiled.plan);
  CHECK(spoiled.reason == NoRouteReason::shelf_life);
  Net full(0);  // the township cold store has no room left
  auto crowded = earliest_arrival(full.g, full.query(kMonday + 11 * 60, 120));
  CHECK_FALSE(crowded.plan);
  CHECK(crowded.reason == NoRouteReason::cold_store_capacity);
  auto back = n.query(kMonday, kUnlimited);
  std::swap(back.origin, back.destination);
  auto nowhere = earliest_arrival(n.g, back);
  CHECK_FALSE(nowhere.plan);
  CHECK(nowhere.reason == NoRouteReason::unreachable);
}

TEST_CASE("the cheapest route that arrives in time may be slower than the earliest",
          "[unit][routing]") {
  Net n;
  const auto ready = kMonday + 9 * 60;
  auto fastest = earliest_arrival(n.g, n.query(ready, kUnlimited));
  auto cheap = cheapest_by(n.g, n.query(ready, kUnlimited), ready + 2 * 1440);
  REQUIRE(fastest.plan);
  REQUIRE(cheap.plan);
  CHECK(cheap.plan->cost_fen == 300 + 800 + 3000);  // tomorrow's slow trunk
  CHECK(cheap.plan->arrival_minute == kMonday + 1440 + 6 * 60 + 300);
  CHECK(cheap.plan->cost_fen < fastest.plan->cost_fen);
  auto too_soon = cheapest_by(n.g, n.query(ready, kUnlimited), ready + 60);
  CHECK_FALSE(too_soon.plan);
  CHECK(too_soon.reason == NoRouteReason::arrive_by);
}

TEST_CASE("on the province network the search agrees with the plain Dijkstra for ambient parcels",
          "[unit][routing]") {
  auto net = cunhuo::seeds::generate_province(7, {3, 8, 60, 600});
  for (int i = 0; i < 200; ++i) {
    ParcelQuery q;
    q.origin = net->villages[static_cast<std::size_t>(i * 37) % net->villages.size()];
    q.destination = net->city_hubs[static_cast<std::size_t>(i) % net->city_hubs.size()];
    q.ready_minute = kMonday + i * 97;
    auto ours = earliest_arrival(net->graph, q);
    auto plain = timetable_dijkstra(net->graph, q.origin, q.destination, q.ready_minute);
    REQUIRE(ours.plan.has_value() == plain.has_value());
    if (plain) CHECK(ours.plan->arrival_minute == *plain);
  }
}

TEST_CASE("frozen goods wait cold only in a store rated for frozen", "[unit][routing]") {
  Net chilled_only(100, kKeepsChilled);
  auto q = chilled_only.query(kMonday + 11 * 60, 120);
  REQUIRE(earliest_arrival(chilled_only.g, q).plan);  // chilled: fine
  q.needs = kKeepsFrozen;
  auto frozen = earliest_arrival(chilled_only.g, q);
  CHECK_FALSE(frozen.plan);
  CHECK(frozen.reason == NoRouteReason::unrefrigerated_budget);
  Net both;
  auto ok = both.query(kMonday + 11 * 60, 120);
  ok.needs = kKeepsFrozen;
  CHECK(earliest_arrival(both.g, ok).plan);
}

// ---- ready times with seconds ---------------------------------------------------------

namespace {

// A small random network for the brute force: every link runs daily at its own few times
// (or on demand); all goods ambient.
struct SmallNet {
  RoutingGraph g;
  struct Line {
    int from, to, duration;
    std::vector<int> times;  // minutes after midnight; empty: on demand
  };
  std::vector<Line> lines;
  explicit SmallNet(std::mt19937& rng);
};

SmallNet::SmallNet(std::mt19937& rng) {
  SmallNet& n = *this;
  const int points = 3 + static_cast<int>(rng() % 5);
  for (int i = 0; i < points; ++i) n.g.add_point({});
  const int links = points + static_cast<int>(rng() % (2 * points));
  for (int i = 0; i < links; ++i) {
    SmallNet::Line l{static_cast<int>(rng() % points),
                     static_cast<int>(rng() % points),
                     1 + static_cast<int>(rng() % 300),
                     {}};
    if (l.from == l.to) continue;
    std::string text = "on_demand";
    if (rng() % 4 != 0) {
      text = "Mon-Sun ";
      for (int k = 0, count = 1 + static_cast<int>(rng() % 3); k < count; ++k)
        l.times.push_back(static_cast<int>(rng() % 1440));
      std::sort(l.times.begin(), l.times.end());
      l.times.erase(std::unique(l.times.begin(), l.times.end()), l.times.end());
      for (std::size_t k = 0; k < l.times.size(); ++k) {
        char hhmm[16];
        std::snprintf(hhmm, sizeof hhmm, "%02d:%02d", l.times[k] / 60, l.times[k] % 60);
        text += (k ? "," : "") + std::string(hhmm);
      }
    }
    n.g.add_link({l.from, l.to, LinkMode::van, false, l.duration, 100, at(text.c_str())});
    n.lines.push_back(l);
  }
  n.g.finalize();
}

// Earliest arrival in milliseconds by relaxing every link over every departure of the
// next weeks until nothing improves. Vehicles leave on whole minutes: a parcel takes the
// first departure at or after the moment it is there.
std::optional<std::int64_t> brute_force(const SmallNet& n, int origin, int destination,
                                        std::int64_t ready_ms) {
  constexpr std::int64_t kDayMs = 86'400'000, kNever = INT64_MAX;
  const std::int64_t monday_ms = epoch_ms_of(kMonday);
  std::vector<std::int64_t> best(static_cast<std::size_t>(n.g.points()), kNever);
  best[static_cast<std::size_t>(origin)] = ready_ms;
  for (bool changed = true; changed;) {
    changed = false;
    for (const auto& l : n.lines) {
      const std::int64_t there = best[static_cast<std::size_t>(l.from)];
      if (there == kNever) continue;
      std::int64_t depart = kNever;
      if (l.times.empty()) depart = (there + 59'999) / 60'000 * 60'000;  // the next whole minute
      for (std::int64_t day = 0; day < 28 && depart == kNever; ++day)
        for (int t : l.times)
          if (const std::int64_t d = monday_ms + day * kDayMs + t * 60'000LL;
              d >= there && d < depart)
            depart = d;
      if (depart == kNever) continue;
      const std::int64_t arrive = depart + l.duration * 60'000LL;
      if (arrive < best[static_cast<std::size_t>(l.to)]) {
        best[static_cast<std::size_t>(l.to)] = arrive;
        changed = true;
      }
    }
  }
  if (best[static_cast<std::size_t>(destination)] == kNever) return std::nullopt;
  return best[static_cast<std::size_t>(destination)];
}

}  // namespace

TEST_CASE("a ready time is rounded up to the minute: 08:00:01 misses the 08:00 van",
          "[unit][routing]") {
  const std::int64_t eight = epoch_ms_of(kMonday + 8 * 60);
  CHECK(ready_minute_of(eight) == kMonday + 8 * 60);
  CHECK(ready_minute_of(eight + 1000) == kMonday + 8 * 60 + 1);
  CHECK(ready_minute_of(eight - 1) == kMonday + 8 * 60);
}

TEST_CASE(
    "on small generated networks the earliest arrival agrees with a brute force over the timetable",
    "[unit][routing]") {
  const auto seed = static_cast<std::uint32_t>(std::random_device{}());
  INFO("seed " << seed);
  std::mt19937 rng(seed);
  for (int network = 0; network < 200; ++network) {
    const SmallNet n(rng);
    const int origin = static_cast<int>(rng() % static_cast<unsigned>(n.g.points()));
    const int destination = static_cast<int>(rng() % static_cast<unsigned>(n.g.points()));
    if (origin == destination) continue;
    // Ready within the first day, often a few seconds after a whole minute.
    const std::int64_t ready_ms = epoch_ms_of(kMonday) +
                                  static_cast<std::int64_t>(rng() % 1440) * 60'000 +
                                  (rng() % 2 ? static_cast<std::int64_t>(rng() % 60) * 1000 : 0);
    ParcelQuery q;
    q.origin = origin;
    q.destination = destination;
    q.ready_minute = ready_minute_of(ready_ms);
    const auto ours = earliest_arrival(n.g, q);
    const auto expected = brute_force(n, origin, destination, ready_ms);
    INFO("network " << network << " ready " << ready_ms);
    REQUIRE(ours.plan.has_value() == expected.has_value());
    if (expected) CHECK(epoch_ms_of(ours.plan->arrival_minute) == *expected);
  }
}

TEST_CASE("a search that runs out of its time budget stops and says so", "[unit][routing]") {
  auto net = cunhuo::seeds::generate_province(7, {3, 8, 60, 600});
  ParcelQuery q;
  q.origin = net->villages.front();
  q.destination = net->city_hubs.front();
  q.ready_minute = kMonday;
  q.time_budget = std::chrono::milliseconds(-1);  // spent before it starts
  const auto answer = earliest_arrival(net->graph, q);
  CHECK_FALSE(answer.plan);
  CHECK(answer.reason == NoRouteReason::search_limit);
  q.time_budget = kMaxSearchTime;
  CHECK(earliest_arrival(net->graph, q).plan);
}
