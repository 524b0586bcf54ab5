#include "logistics/pickup.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <optional>

namespace cunhuo::logistics {
namespace {

class Problem {
 public:
  Problem(const PickupDepot& d, const std::vector<PickupStop>& s, const PickupVehicle& v)
      : depot_(d), stops_(s), vehicle_(v) {}

  double km(int a, int b) const {  // -1 is the depot
    const double ax = a < 0 ? depot_.x_km : stops_[static_cast<std::size_t>(a)].x_km,
                 ay = a < 0 ? depot_.y_km : stops_[static_cast<std::size_t>(a)].y_km;
    const double bx = b < 0 ? depot_.x_km : stops_[static_cast<std::size_t>(b)].x_km,
                 by = b < 0 ? depot_.y_km : stops_[static_cast<std::size_t>(b)].y_km;
    return std::hypot(ax - bx, ay - by) * vehicle_.road_factor;
  }
  double minutes(int a, int b) const { return km(a, b) / vehicle_.speed_kmh * 60.0; }

  // Drives the run from the depot; nullopt when a point would be reached after it closes,
  // the depot after the day ends, or the vehicle would be over capacity.
  std::optional<PickupRun> simulate(const std::vector<int>& order) const {
    PickupRun run;
    run.stops = order;
    double t = depot_.start_min;
    int at = -1;
    for (int s : order) {
      const auto& stop = stops_[static_cast<std::size_t>(s)];
      run.crates += stop.crates;
      if (run.crates > vehicle_.capacity_crates) return std::nullopt;
      run.km += km(at, s);
      t += minutes(at, s);
      t = std::max(t, static_cast<double>(stop.open_min));
      if (t > stop.close_min) return std::nullopt;
      t += stop.service_min;
      at = s;
    }
    run.km += km(at, -1);
    t += minutes(at, -1);
    if (t > depot_.end_min) return std::nullopt;
    run.start_min = depot_.start_min;
    run.end_min = static_cast<int>(std::ceil(t));
    return run;
  }

  int size() const { return static_cast<int>(stops_.size()); }
  const PickupStop& stop(int i) const { return stops_[static_cast<std::size_t>(i)]; }

 private:
  const PickupDepot& depot_;
  const std::vector<PickupStop>& stops_;
  const PickupVehicle& vehicle_;
};

PickupPlan finish(std::vector<PickupRun> runs, std::vector<int> unserved) {
  PickupPlan plan;
  for (auto& r : runs)
    if (!r.stops.empty()) {
      plan.total_km += r.km;
      plan.runs.push_back(std::move(r));
    }
  plan.unserved = std::move(unserved);
  return plan;
}

// 2-opt inside each run, then moving single stops between runs, while either shortens.
void improve(const Problem& p, std::vector<PickupRun>& runs) {
  for (bool better = true; better;) {
    better = false;
    for (auto& run : runs) {
      const int n = static_cast<int>(run.stops.size());
      for (int i = 0; i + 1 < n; ++i)
        for (int j = i + 1; j < n; ++j) {
          std::vector<int> order = run.stops;
          std::reverse(order.begin() + i, order.begin() + j + 1);
          if (auto r = p.simulate(order); r && r->km + 1e-9 < run.km) {
            run = *r;
            better = true;
          }
        }
    }
    for (std::size_t a = 0; a < runs.size(); ++a)
      for (std::size_t k = 0; k < runs[a].stops.size(); ++k)
        for (std::size_t b = 0; b < runs.size(); ++b) {
          if (a == b) continue;
          std::vector<int> from = runs[a].stops;
          const int s = from[k];
          from.erase(from.begin() + static_cast<std::ptrdiff_t>(k));
          for (std::size_t pos = 0; pos <= runs[b].stops.size(); ++pos) {
            std::vector<int> to = runs[b].stops;
            to.insert(to.begin() + static_cast<std::ptrdiff_t>(pos), s);
            auto ra = p.simulate(from);
            auto rb = p.simulate(to);
            if (ra && rb && ra->km + rb->km + 1e-9 < runs[a].km + runs[b].km) {
              runs[a] = *ra;
              runs[b] = *rb;
              better = true;
              goto next_stop;  // runs[a] changed under the loop: start it over
            }
          }
        }
  next_stop:;
  }
}

}  // namespace

void to_km(std::int64_t lat_e6, std::int64_t lon_e6, double origin_lat_deg, double& x_km,
           double& y_km) {
  constexpr double kPi = 3.14159265358979323846;
  x_km = static_cast<double>(lon_e6) / 1e6 * 111.32 * std::cos(origin_lat_deg * kPi / 180.0);
  y_km = static_cast<double>(lat_e6) / 1e6 * 110.57;
}

PickupPlan plan_pickups(const PickupDepot& depot, const std::vector<PickupStop>& stops,
                        const PickupVehicle& vehicle) {
  assert(stops.size() <= kMaxPickupStops);
  const Problem p(depot, stops, vehicle);
  // Start: one run per stop; a stop no run can serve alone is unserved.
  std::vector<PickupRun> runs;
  std::vector<int> run_of(stops.size(), -1), unserved;
  for (int i = 0; i < p.size(); ++i) {
    if (auto r = p.simulate({i})) {
      run_of[static_cast<std::size_t>(i)] = static_cast<int>(runs.size());
      runs.push_back(*r);
    } else {
      unserved.push_back(i);
    }
  }
  // Savings s(i, j) = d(0, i) + d(0, j) - d(i, j): join runs end to start, best first.
  struct Saving {
    double value;
    int i, j;
  };
  std::vector<Saving> savings;
  for (int i = 0; i < p.size(); ++i)
    for (int j = 0; j < p.size(); ++j)
      if (i != j && run_of[static_cast<std::size_t>(i)] >= 0 &&
          run_of[static_cast<std::size_t>(j)] >= 0)
        savings.push_back({p.km(-1, i) + p.km(-1, j) - p.km(i, j), i, j});
  std::sort(savings.begin(), savings.end(), [](const Saving& a, const Saving& b) {
    return a.value != b.value ? a.value > b.value : (a.i != b.i ? a.i < b.i : a.j < b.j);
  });
  for (const auto& s : savings) {
    if (s.value <= 0) break;
    const int ri = run_of[static_cast<std::size_t>(s.i)],
              rj = run_of[static_cast<std::size_t>(s.j)];
    if (ri == rj || runs[static_cast<std::size_t>(ri)].stops.back() != s.i ||
        runs[static_cast<std::size_t>(rj)].stops.front() != s.j)
      continue;
    std::vector<int> joined = runs[static_cast<std::size_t>(ri)].stops;
    joined.insert(joined.end(), runs[static_cast<std::size_t>(rj)].stops.begin(),
                  runs[static_cast<std::size_t>(rj)].stops.end());
    auto r = p.simulate(joined);
    if (!r) continue;
    runs[static_cast<std::size_t>(ri)] = *r;
    for (int k : runs[static_cast<std::size_t>(rj)].stops) run_of[static_cast<std::size_t>(k)] = ri;
    runs[static_cast<std::size_t>(rj)] = PickupRun{};
  }
  std::vector<PickupRun> live;
  for (auto& r : runs)
    if (!r.stops.empty()) live.push_back(std::move(r));
  improve(p, live);
  return finish(std::move(live), std::move(unserved));
}

PickupPlan plan_nearest_neighbour(const PickupDepot& depot, const std::vector<PickupStop>& stops,
                                  const PickupVehicle& vehicle) {
  const Problem p(depot, stops, vehicle);
  std::vector<bool> done(stops.size(), false);
  std::vector<int> unserved;
  for (int i = 0; i < p.size(); ++i)
    if (!p.simulate({i})) {
      done[static_cast<std::size_t>(i)] = true;
      unserved.push_back(i);
    }
  std::vector<PickupRun> runs;
  for (;;) {
    std::vector<int> order;
    int at = -1;
    for (;;) {  // the nearest stop the run can still take
      int best = -1;
      for (int i = 0; i < p.size(); ++i) {
        if (done[static_cast<std::size_t>(i)]) continue;
        std::vector<int> trial = order;
        trial.push_back(i);
        if (!p.simulate(trial)) continue;
        if (best < 0 || p.km(at, i) < p.km(at, best)) best = i;
      }
      if (best < 0) break;
      order.push_back(best);
      done[static_cast<std::size_t>(best)] = true;
      at = best;
    }
    if (order.empty()) break;
    runs.push_back(*p.simulate(order));
  }
  return finish(std::move(runs), std::move(unserved));
}

}  // namespace cunhuo::logistics
