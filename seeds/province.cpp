#include "seeds/province.hpp"

#include <algorithm>
#include <random>
#include <string>

namespace cunhuo::seeds {
namespace {

using logistics::LinkMode;
using logistics::RouteLink;
using logistics::RoutePoint;
using logistics::Timetable;

Timetable daily(std::initializer_list<int> minutes_of_day) {
  Timetable t;
  for (int d = 0; d < 7; ++d)
    for (int m : minutes_of_day) t.departures.push_back(d * 1440 + m);
  std::sort(t.departures.begin(), t.departures.end());
  return t;
}

class Builder {
 public:
  Builder(ProvinceNetwork& net, std::uint64_t seed) : net_(net), rng_(seed) {}

  int between(int lo, int hi) {
    return lo + static_cast<int>(rng_() % static_cast<std::uint64_t>(hi - lo + 1));
  }

  int point(bool cold, int crates) { return net_.graph.add_point(RoutePoint{cold, crates}); }

  // A link each way; `back` is the return timetable.
  void both(int a, int b, LinkMode mode, bool cold, int minutes, std::int64_t cost,
            const Timetable& there, const Timetable& back) {
    net_.graph.add_link(RouteLink{a, b, mode, cold, minutes, cost, there});
    net_.graph.add_link(RouteLink{b, a, mode, cold, minutes, cost, back});
  }

  void build(const ProvinceShape& shape) {
    net_.provincial_hub = point(true, 20000);
    for (int c = 0; c < shape.cities; ++c) {
      const int hub = point(true, 5000);
      net_.city_hubs.push_back(hub);
      const int offset = between(0, 59);
      both(hub, net_.provincial_hub, LinkMode::refrigerated_trunk, true, between(180, 480), 20000,
           daily({6 * 60 + offset, 14 * 60 + offset, 22 * 60 + offset}),
           daily({5 * 60 + offset, 13 * 60 + offset, 21 * 60 + offset}));
      both(hub, net_.provincial_hub, LinkMode::ambient_trunk, false, between(180, 480), 9000,
           daily({8 * 60 + offset, 20 * 60 + offset}), daily({7 * 60 + offset, 19 * 60 + offset}));
    }
    for (int k = 0; k < shape.counties; ++k) county(k, shape);
    net_.graph.finalize();
  }

 private:
  void county(int k, const ProvinceShape& shape) {
    const int hub =
        net_.city_hubs[static_cast<std::size_t>(k % static_cast<int>(net_.city_hubs.size()))];
    const int centre = point(false, 0), store = point(true, 500);
    net_.county_centres.push_back(centre);
    net_.cold_stores.push_back(store);
    const Timetable on_demand;
    both(centre, store, LinkMode::van, false, 15, 200, on_demand, on_demand);
    both(store, hub, LinkMode::refrigerated_trunk, true, between(120, 300), 12000,
         daily({20 * 60 + between(0, 59)}), daily({5 * 60 + between(0, 59)}));
    both(centre, hub, LinkMode::ambient_trunk, false, between(120, 300), 5000,
         daily({9 * 60 + between(0, 59), 18 * 60}), daily({6 * 60, 15 * 60 + between(0, 59)}));
    const int townships =
        shape.townships / shape.counties + (k < shape.townships % shape.counties ? 1 : 0);
    for (int t = 0; t < townships; ++t) township(centre, store, shape);
  }

  void township(int centre, int county_store, const ProvinceShape& shape) {
    const int station = point(false, 0);
    net_.stations.push_back(station);
    const Timetable on_demand;
    both(station, centre, LinkMode::van, false, between(40, 120), 800,
         daily({8 * 60, 14 * 60 + between(0, 59)}), daily({7 * 60, 15 * 60 + between(0, 59)}));
    if (net_.stations.size() % 4 == 0) {  // one township in four has a pre-cooling store
      const int store = point(true, 100);
      net_.cold_stores.push_back(store);
      both(station, store, LinkMode::tricycle, false, 10, 100, on_demand, on_demand);
      both(store, county_store, LinkMode::refrigerated_van, true, between(40, 120), 1500,
           daily({10 * 60 + between(0, 59)}), daily({16 * 60 + between(0, 59)}));
    }
    const int per = shape.villages / shape.townships;
    const int villages =
        per + (static_cast<int>(net_.stations.size()) <= shape.villages % shape.townships ? 1 : 0);
    for (int v = 0; v < villages; ++v) {
      const int village = point(false, 0);
      net_.villages.push_back(village);
      both(village, station, LinkMode::tricycle, false, between(10, 60), 300, on_demand, on_demand);
    }
  }

  ProvinceNetwork& net_;
  std::mt19937_64 rng_;
};

}  // namespace

std::unique_ptr<ProvinceNetwork> generate_province(std::uint64_t seed, ProvinceShape shape) {
  auto net = std::make_unique<ProvinceNetwork>();
  Builder(*net, seed).build(shape);
  return net;
}

}  // namespace cunhuo::seeds
