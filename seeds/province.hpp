// A province-scale logistics network for benchmarks: about 80 counties under 14 city
// hubs and a provincial hub, 1,300 township stations (one in four with a pre-cooling
// cold store), 16,000 village service points, and their daily timetables. Generated
// deterministically from a seed.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "logistics/routing.hpp"

namespace cunhuo::seeds {

struct ProvinceNetwork {
  logistics::RoutingGraph graph;
  std::vector<int> villages, stations, county_centres, cold_stores, city_hubs;
  int provincial_hub = 0;
};

struct ProvinceShape {
  int cities = 14, counties = 80, townships = 1300, villages = 16000;
};

// The graph is finalized and ready to route on.
std::unique_ptr<ProvinceNetwork> generate_province(std::uint64_t seed, ProvinceShape shape = {});

}  // namespace cunhuo::seeds
