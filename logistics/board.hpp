// What the county centre's board reads of the network, bounded: the parcels standing at
// each node of an area with each cold store's capacity and rated range, and a sensor's
// readings over a span of time (an excursion's temperature trace).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/db/database.hpp"
#include "logistics/network.hpp"

namespace cunhuo::logistics {

// A trace shows at most this many readings; a longer span is thinned evenly.
inline constexpr std::size_t kMaxTracePoints = 120;
// The readings a trace reads before thinning, at most.
inline constexpr std::int64_t kMaxTraceReadings = 5'000;

struct NodeLoad {
  std::string code, name;
  NodeKind kind = NodeKind::village_point;
  std::int64_t parcels = 0;  // standing there: arrived, stored or held
  int cold_capacity_crates = 0;
  std::optional<int> max_centi;  // a cold store's rated upper bound, hundredths of a degree
};
// The nodes within `region_code` (stations, cold stores, the centre; not village points),
// by code, each with the parcels standing there.
Result<std::vector<NodeLoad>> node_loads(db::Session& s, std::string_view region_code);

// A node's rated upper bound (a cold store's), if it has one.
Result<std::optional<int>> node_max_centi(db::Session& s, std::string_view node_code);

struct TracePoint {
  std::int64_t at_ms = 0;
  int centi = 0;
};
// A sensor's readings in [from_ms, to_ms], oldest first, thinned to kMaxTracePoints.
Result<std::vector<TracePoint>> sensor_trace(db::Session& s, std::string_view sensor_code,
                                             std::int64_t from_ms, std::int64_t to_ms);

}  // namespace cunhuo::logistics
