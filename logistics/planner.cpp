#include "logistics/planner.hpp"

#include "logistics/network.hpp"

namespace cunhuo::logistics {
namespace {

// A store rated for a range keeps the classes whose range holds it; one with no rating
// is taken for an ordinary 0–4 °C fresh store.
unsigned keeps(std::optional<std::int64_t> min_centi, std::optional<std::int64_t> max_centi) {
  if (!min_centi || !max_centi) return kKeepsChilled;
  unsigned k = 0;
  if (*min_centi >= 0 && *max_centi <= 800) k |= kKeepsChilled;
  if (*max_centi <= -1800) k |= kKeepsFrozen;
  return k;
}

// What a store must keep for a parcel of the class to wait there.
unsigned needs(TemperatureClass temperature_class) {
  switch (temperature_class) {
    case TemperatureClass::frozen: return kKeepsFrozen;
    case TemperatureClass::chilled: return kKeepsChilled;
    case TemperatureClass::ambient: break;
  }
  return 0;
}

}  // namespace

int ColdChainRules::budget_for(TemperatureClass temperature_class) const {
  switch (temperature_class) {
    case TemperatureClass::chilled: return chilled_unrefrigerated_min;
    case TemperatureClass::frozen: return frozen_unrefrigerated_min;
    case TemperatureClass::ambient: break;
  }
  return kUnlimited;
}

void Planner::invalidate() {
  std::lock_guard lock(mu_);
  current_.reset();
}

Result<std::shared_ptr<const Planner::Snapshot>> Planner::snapshot() {
  {
    std::lock_guard lock(mu_);
    if (current_) return current_;
  }
  auto snap = std::make_shared<Snapshot>();
  CUNHUO_CHECK(db_.read([&](db::Session& s) -> Status {
    std::unordered_map<std::string, int> held;
    for (const auto& r :
         CUNHUO_TRY(s.query("SELECT n.code, SUM(sh.crates) FROM shipments sh JOIN network_nodes n "
                            "ON n.id = sh.current_node "
                            "WHERE sh.status IN ('at_node', 'held') GROUP BY n.code")))
      held[r.str(0)] = static_cast<int>(r.i64(1));
    for (const auto& r : CUNHUO_TRY(s.query("SELECT code, kind, cold_capacity_crates, min_centi, "
                                            "max_centi FROM network_nodes ORDER BY id"))) {
      const bool cold = r.str(1) == "cold_store" || r.str(1) == "city_hub";
      const int room = std::max(0, static_cast<int>(r.i64(2)) - held[r.str(0)]);
      snap->index[r.str(0)] = snap->graph.add_point(
          RoutePoint{cold && r.i64(2) > 0, room, keeps(r.opt_i64(3), r.opt_i64(4))});
      snap->codes.push_back(r.str(0));
    }
    for (const auto& l : CUNHUO_TRY(all_links(s))) {
      const LinkMode mode = CUNHUO_TRY(parse_link_mode(l.mode));
      snap->graph.add_link(RouteLink{snap->index.at(l.from_code), snap->index.at(l.to_code), mode,
                                     l.refrigerated, l.duration_min, l.cost_fen,
                                     CUNHUO_TRY(parse_timetable(l.timetable))});
      snap->link_modes.push_back(l.mode);
      snap->link_ids.push_back(l.id);
    }
    return {};
  }));
  snap->graph.finalize();
  std::lock_guard lock(mu_);
  current_ = snap;
  return current_;
}

Result<Plan> Planner::plan(const PlanRequest& r) {
  const int budget = rules_.budget_for(r.temperature_class);
  if (r.crates < 1 || r.crates > 1000)
    return make_error(ErrorKind::invalid, "out_of_range", "1 to 1000 crates", "crates");
  auto snap = CUNHUO_TRY(snapshot());
  auto origin = snap->index.find(r.origin_code), destination = snap->index.find(r.destination_code);
  if (origin == snap->index.end())
    return make_error(ErrorKind::not_found, "unknown_node", "no node " + r.origin_code,
                      "origin_code");
  if (destination == snap->index.end())
    return make_error(ErrorKind::not_found, "unknown_node", "no node " + r.destination_code,
                      "destination_code");
  ParcelQuery q;
  q.origin = origin->second;
  q.destination = destination->second;
  q.ready_minute = ready_minute_of(r.ready_at_ms);
  q.unrefrigerated_budget_min = budget;
  q.shelf_deadline_minute =
      r.shelf_deadline_ms == INT64_MAX ? INT64_MAX : minute_of(r.shelf_deadline_ms);
  q.crates = r.crates;
  q.needs = needs(r.temperature_class);
  const RouteAnswer answer = r.arrive_by_ms
                                 ? cheapest_by(snap->graph, q, minute_of(*r.arrive_by_ms))
                                 : earliest_arrival(snap->graph, q);
  if (!answer.plan)
    return make_error(ErrorKind::unprocessable, "no_route",
                      "no cold-chain-feasible route: " + std::string(to_string(answer.reason)),
                      std::string(to_string(answer.reason)));
  Plan p;
  p.arrival_ms = epoch_ms_of(answer.plan->arrival_minute);
  p.cost_fen = answer.plan->cost_fen;
  p.unrefrigerated_min = answer.plan->unrefrigerated_min;
  for (const auto& h : answer.plan->hops) {
    const RouteLink& l = snap->graph.link(h.link);
    p.hops.push_back(PlannedHop{
        snap->link_ids[static_cast<std::size_t>(h.link)],
        snap->codes[static_cast<std::size_t>(l.from)], snap->codes[static_cast<std::size_t>(l.to)],
        snap->link_modes[static_cast<std::size_t>(h.link)], l.refrigerated,
        epoch_ms_of(h.depart_minute), epoch_ms_of(h.arrive_minute), l.cost_fen});
  }
  return p;
}

}  // namespace cunhuo::logistics
