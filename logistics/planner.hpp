// Route planning over the network kept in the store: loads nodes and links into a
// routing graph (again after the network changes), knows how much room each cold store
// has left (its capacity less the crates waiting there), and answers in node codes and
// times. Cold-chain budgets per temperature class are configurable.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/db/database.hpp"
#include "core/temperature.hpp"
#include "logistics/routing.hpp"

namespace cunhuo::logistics {

struct ColdChainRules {
  int chilled_unrefrigerated_min = 120;
  int frozen_unrefrigerated_min = 30;
  // Minutes a parcel of the class may spend unrefrigerated; kUnlimited for ambient.
  int budget_for(TemperatureClass temperature_class) const;
};

struct PlanRequest {
  std::string origin_code, destination_code;
  TemperatureClass temperature_class = TemperatureClass::ambient;
  std::int64_t ready_at_ms = 0, shelf_deadline_ms = INT64_MAX;
  int crates = 1;
  std::optional<std::int64_t> arrive_by_ms;  // set: the cheapest route arriving by then
};

struct PlannedHop {
  std::int64_t link_id = 0;
  std::string from_code, to_code, mode;
  bool refrigerated = false;
  std::int64_t depart_ms = 0, arrive_ms = 0, cost_fen = 0;
};

struct Plan {
  std::vector<PlannedHop> hops;
  std::int64_t arrival_ms = 0, cost_fen = 0;
  int unrefrigerated_min = 0;
};

class Planner {
 public:
  Planner(db::Database& db, ColdChainRules rules) : db_(db), rules_(rules) {}
  // A route, or a 422 "no_route" whose field names the limit that stopped it.
  Result<Plan> plan(const PlanRequest& request);
  void invalidate();  // the network changed
  const ColdChainRules& rules() const { return rules_; }

 private:
  struct Snapshot {
    RoutingGraph graph;
    std::unordered_map<std::string, int> index;  // node code → point
    std::vector<std::string> codes;
    std::vector<std::string> link_modes;
    std::vector<std::int64_t> link_ids;
  };
  Result<std::shared_ptr<const Snapshot>> snapshot();
  db::Database& db_;
  ColdChainRules rules_;
  std::mutex mu_;
  std::shared_ptr<const Snapshot> current_;
};

}  // namespace cunhuo::logistics
