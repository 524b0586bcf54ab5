// Routing benchmark: builds the province-scale network and answers random cold-chain
// route queries (a village to a city hub, ambient, chilled or frozen, ready at a random
// time in the week, shelf life 2 to 10 days), timing each; then the same queries with a
// plain Dijkstra over the time-expanded timetable. Where the cold chain does not bind
// (ambient) both must give the same arrival; elsewhere the feasible route is never
// earlier than the unconstrained one. Queries with no feasible route take search time
// too (often the most: the search runs until nothing is left), so they are reported
// beside the feasible ones, and with them in the figures for all queries.
//   routing_bench [queries] [seed]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <random>
#include <string>

#include "seeds/province.hpp"

using namespace cunhuo;
using Steady = std::chrono::steady_clock;

namespace {

// 0 for no samples: a run with no infeasible queries reports their time as 0.
double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1))];
}

}  // namespace

int main(int argc, char** argv) {
  const int queries = argc > 1 ? std::stoi(argv[1]) : 10000;
  const std::uint64_t seed = argc > 2 ? std::stoull(argv[2]) : 20261125;
  const auto built = Steady::now();
  auto net = seeds::generate_province(seed);
  std::printf(
      "province network: %d points, %zu villages, %zu stations, %zu county centres, %zu cold "
      "stores, %zu city hubs; built in %.2f s\n",
      net->graph.points(), net->villages.size(), net->stations.size(), net->county_centres.size(),
      net->cold_stores.size(), net->city_hubs.size(),
      std::chrono::duration<double>(Steady::now() - built).count());
  std::mt19937_64 rng(seed + 1);
  const std::int64_t week = logistics::minute_of(1'795'000'000'000);
  // Random queries until `queries` of them have a feasible route; those are the ones
  // timed (the infeasible ones, each answered with the limit that stopped it, are counted).
  std::vector<logistics::ParcelQuery> qs;
  std::vector<double> ours, plain, refused_us;
  std::vector<std::optional<std::int64_t>> arrivals;
  std::size_t labels = 0;
  std::map<std::string, int> reasons;
  while (static_cast<int>(qs.size()) < queries &&
         refused_us.size() < static_cast<std::size_t>(queries) * 10) {
    logistics::ParcelQuery q;
    q.origin = net->villages[rng() % net->villages.size()];
    q.destination = net->city_hubs[rng() % net->city_hubs.size()];
    q.ready_minute = week + static_cast<std::int64_t>(rng() % logistics::kMinutesPerWeek);
    const int kind = static_cast<int>(rng() % 10);
    q.unrefrigerated_budget_min = kind < 4 ? logistics::kUnlimited : kind < 8 ? 120 : 30;
    q.shelf_deadline_minute = q.ready_minute + (2 + static_cast<std::int64_t>(rng() % 9)) * 1440;
    const auto t0 = Steady::now();
    auto answer = logistics::earliest_arrival(net->graph, q);
    const double us = std::chrono::duration<double, std::micro>(Steady::now() - t0).count();
    if (!answer.plan) {
      refused_us.push_back(us);
      ++reasons[std::string(logistics::to_string(answer.reason))];
      continue;
    }
    ours.push_back(us);
    labels += answer.labels;
    qs.push_back(q);
    arrivals.push_back(answer.plan->arrival_minute);
  }
  const int found = static_cast<int>(qs.size());
  std::printf("%zu queries had no feasible route:", refused_us.size());
  for (const auto& [why, n] : reasons) std::printf(" %s %d", why.c_str(), n);
  std::printf("\n");
  int compared = 0, disagree = 0, earlier = 0;
  for (std::size_t i = 0; i < qs.size(); ++i) {
    const auto t0 = Steady::now();
    auto reference = logistics::timetable_dijkstra(net->graph, qs[i].origin, qs[i].destination,
                                                   qs[i].ready_minute);
    plain.push_back(std::chrono::duration<double, std::micro>(Steady::now() - t0).count());
    if (!arrivals[i] || !reference) continue;
    ++compared;
    if (qs[i].unrefrigerated_budget_min == logistics::kUnlimited && *arrivals[i] != *reference)
      ++disagree;
    if (*arrivals[i] < *reference) ++earlier;
  }
  std::printf(
      "%d feasible route queries (%.1f labels each); compared %d with the plain Dijkstra: "
      "%d ambient disagreements, %d earlier than it (both must be 0)\n",
      found, static_cast<double>(labels) / std::max(1, found), compared, disagree, earlier);
  std::printf("BENCH route_query_p50_us %.0f\n", percentile(ours, 0.50));
  std::printf("BENCH route_query_p99_us %.0f\n", percentile(ours, 0.99));
  std::printf("BENCH route_infeasible_queries %zu\n", refused_us.size());
  std::printf("BENCH route_infeasible_p50_us %.0f\n", percentile(refused_us, 0.50));
  std::printf("BENCH route_infeasible_p99_us %.0f\n", percentile(refused_us, 0.99));
  std::vector<double> all = ours;
  all.insert(all.end(), refused_us.begin(), refused_us.end());
  std::printf("BENCH route_all_queries_p50_us %.0f\n", percentile(all, 0.50));
  std::printf("BENCH route_all_queries_p99_us %.0f\n", percentile(all, 0.99));
  std::printf("BENCH route_dijkstra_p50_us %.0f\n", percentile(plain, 0.50));
  return disagree == 0 && earlier == 0 ? 0 : 1;
}
