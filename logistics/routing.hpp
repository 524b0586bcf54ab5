// Cold-chain-feasible routing over the network's timetable. A parcel of a temperature
// class may spend only so long unrefrigerated (chilled 2 h, frozen 30 min, ambient
// without limit; configurable), must arrive before its shelf life runs out, and may wait
// refrigerated only at a cold store with room for it; waiting anywhere else, and riding
// an unrefrigerated link, spends its budget. Links leave on demand or by timetable
// (departures by weekday and time, like a bus timetable).
//
// earliest_arrival() is a multi-label Dijkstra: labels (arrival, unrefrigerated time) per
// node, pruned by dominance that accounts for waiting, goal-directed by a lower bound on
// the remaining ride time (A*). cheapest_by() searches by cost under an arrival deadline.
// timetable_dijkstra() is the plain earliest-arrival Dijkstra over the time-expanded
// timetable with no cold-chain limits: the reference the benchmark compares against.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace cunhuo::logistics {

enum class LinkMode { tricycle, van, refrigerated_van, refrigerated_trunk, ambient_trunk };
std::string_view to_string(LinkMode mode);
Result<LinkMode> parse_link_mode(std::string_view text);

inline constexpr int kMinutesPerWeek = 7 * 24 * 60;
inline constexpr int kUnlimited = -1;
// Wall time one search may take before it gives up with search_limit: labels alone do
// not bound it (a label's dominance check grows with the labels at its point).
inline constexpr std::chrono::milliseconds kMaxSearchTime{250};

// Departures in minutes from Monday 00:00 Beijing time, sorted; empty means on demand.
struct Timetable {
  std::vector<int> departures;
  bool on_demand() const { return departures.empty(); }
  // The first departure at or after `minute` (minutes since the epoch, Beijing-aligned).
  std::int64_t next_departure(std::int64_t minute) const;
};
// "on_demand" or "Mon-Fri 08:00,14:00; Sat 09:00" (days: Mon..Sun, ranges or lists).
Result<Timetable> parse_timetable(std::string_view text);

// Which classes a cold store can keep: its rated range decides (0–8 °C for chilled,
// −18 °C or colder for frozen).
inline constexpr unsigned kKeepsChilled = 1, kKeepsFrozen = 2;

struct RoutePoint {
  bool cold_store = false;
  int free_crates = 0;  // room left to wait refrigerated
  unsigned keeps = kKeepsChilled | kKeepsFrozen;
};

struct RouteLink {
  int from = 0, to = 0;
  LinkMode mode = LinkMode::van;
  bool refrigerated = false;
  int duration_min = 0;
  std::int64_t cost_fen = 0;
  Timetable timetable;
};

// An immutable snapshot of the network, indexed for search.
class RoutingGraph {
 public:
  int add_point(RoutePoint p);
  int add_link(RouteLink l);
  void finalize();  // builds the adjacency; no adds after
  int points() const { return static_cast<int>(points_.size()); }
  const RoutePoint& point(int i) const { return points_[static_cast<std::size_t>(i)]; }
  const RouteLink& link(int i) const { return links_[static_cast<std::size_t>(i)]; }
  // Links leaving / entering a point.
  std::pair<const int*, const int*> out_links(int point) const;
  std::pair<const int*, const int*> in_links(int point) const;
  // Least ride time from every point to `destination`, ignoring waits (kept for the
  // most recent destinations).
  std::shared_ptr<const std::vector<std::int32_t>> ride_bounds(int destination) const;

 private:
  std::vector<RoutePoint> points_;
  std::vector<RouteLink> links_;
  std::vector<int> out_start_, out_, in_start_, in_;
  mutable std::mutex bounds_mu_;
  mutable std::map<int, std::shared_ptr<const std::vector<std::int32_t>>> bounds_;
  mutable std::vector<int> bounds_order_;
};

struct ParcelQuery {
  int origin = 0, destination = 0;
  std::int64_t ready_minute = 0;  // minutes since the epoch
  int unrefrigerated_budget_min = kUnlimited;
  std::int64_t shelf_deadline_minute = INT64_MAX;
  int crates = 1;
  unsigned needs = 0;  // kKeepsChilled or kKeepsFrozen; 0 for ambient goods
  std::chrono::milliseconds time_budget = kMaxSearchTime;
};

struct Hop {
  int link = 0;
  std::int64_t depart_minute = 0, arrive_minute = 0;
};

struct RoutePlan {
  std::vector<Hop> hops;
  std::int64_t arrival_minute = 0, cost_fen = 0;
  int unrefrigerated_min = 0;
};

enum class NoRouteReason {
  unreachable,
  unrefrigerated_budget,
  shelf_life,
  cold_store_capacity,
  arrive_by,
  search_limit
};
std::string_view to_string(NoRouteReason reason);

struct RouteAnswer {
  std::optional<RoutePlan> plan;
  NoRouteReason reason = NoRouteReason::unreachable;  // when there is no plan
  std::size_t labels = 0;                             // search effort
};

inline constexpr std::size_t kMaxLabels = 2'000'000;

RouteAnswer earliest_arrival(const RoutingGraph& g, const ParcelQuery& q);
RouteAnswer cheapest_by(const RoutingGraph& g, const ParcelQuery& q, std::int64_t arrive_by_minute);
// Earliest arrival ignoring every cold-chain limit; nullopt when unreachable.
std::optional<std::int64_t> timetable_dijkstra(const RoutingGraph& g, int origin, int destination,
                                               std::int64_t ready_minute);

// Minutes since the epoch, Beijing-aligned (so minute-of-week 0 is Monday 00:00 +08:00).
std::int64_t minute_of(std::int64_t epoch_ms);
// The first whole minute at or after `epoch_ms`: a parcel ready at 08:00:01 is not ready
// for the 08:00 van.
std::int64_t ready_minute_of(std::int64_t epoch_ms);
std::int64_t epoch_ms_of(std::int64_t minute);

}  // namespace cunhuo::logistics
