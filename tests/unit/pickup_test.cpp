// Pickup runs: every parcel collected once, within capacity and opening hours, and the
// savings plan no longer than the nearest-neighbour baseline.
#include <catch2/catch.hpp>

#include <random>
#include <set>

#include "logistics/pickup.hpp"

using namespace cunhuo::logistics;

namespace {

std::vector<PickupStop> random_stops(std::uint64_t seed, int n) {
  std::mt19937_64 rng(seed);
  std::vector<PickupStop> stops;
  for (int i = 0; i < n; ++i) {
    PickupStop s;
    s.x_km = static_cast<double>(rng() % 2000) / 100.0 - 10;
    s.y_km = static_cast<double>(rng() % 2000) / 100.0 - 10;
    s.crates = 1 + static_cast<int>(rng() % 8);
    stops.push_back(s);
  }
  return stops;
}

void check_plan(const PickupPlan& plan, const std::vector<PickupStop>& stops,
                const PickupVehicle& v) {
  std::multiset<int> seen;
  double total = 0;
  for (const auto& run : plan.runs) {
    int crates = 0;
    for (int s : run.stops) {
      seen.insert(s);
      crates += stops[static_cast<std::size_t>(s)].crates;
    }
    CHECK(crates <= v.capacity_crates);
    CHECK(run.end_min <= 19 * 60);
    total += run.km;
  }
  for (int s : plan.unserved) seen.insert(s);
  CHECK(seen.size() == stops.size());
  for (std::size_t i = 0; i < stops.size(); ++i) CHECK(seen.count(static_cast<int>(i)) == 1);
  CHECK(std::abs(total - plan.total_km) < 1e-6);
}

}  // namespace

TEST_CASE("pickup runs collect every parcel once, within capacity and hours", "[unit][pickup]") {
  const PickupVehicle v;
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    const auto stops = random_stops(seed, 40);
    const auto plan = plan_pickups(PickupDepot{}, stops, v);
    check_plan(plan, stops, v);
    CHECK(plan.unserved.empty());
    check_plan(plan_nearest_neighbour(PickupDepot{}, stops, v), stops, v);
  }
}

TEST_CASE("the savings plan is no longer than the nearest-neighbour baseline", "[unit][pickup]") {
  double savings = 0, baseline = 0;
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    const auto stops = random_stops(seed, 30);
    savings += plan_pickups(PickupDepot{}, stops, PickupVehicle{}).total_km;
    baseline += plan_nearest_neighbour(PickupDepot{}, stops, PickupVehicle{}).total_km;
  }
  CHECK(savings <= baseline);
}

TEST_CASE("a point that closes before any vehicle can reach it is left unserved, not forced",
          "[unit][pickup]") {
  std::vector<PickupStop> stops = random_stops(3, 5);
  stops[2].x_km = 200;  // 200 km out, closes at 08:00
  stops[2].close_min = 8 * 60;
  const auto plan = plan_pickups(PickupDepot{}, stops, PickupVehicle{});
  REQUIRE(plan.unserved.size() == 1);
  CHECK(plan.unserved.front() == 2);
  check_plan(plan, stops, PickupVehicle{});
}

TEST_CASE("a point opening late is visited after it opens", "[unit][pickup]") {
  std::vector<PickupStop> stops(1);
  stops[0].x_km = 1;
  stops[0].open_min = 15 * 60;
  const auto plan = plan_pickups(PickupDepot{}, stops, PickupVehicle{});
  REQUIRE(plan.runs.size() == 1);
  CHECK(plan.runs[0].end_min >= 15 * 60);
}
