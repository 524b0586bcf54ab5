#include "logistics/board.hpp"

#include "core/region.hpp"

namespace cunhuo::logistics {

Result<std::vector<NodeLoad>> node_loads(db::Session& s, std::string_view region_code) {
  std::vector<NodeLoad> out;
  const std::string prefix = std::string(region_prefix(region_code)) + "%";
  // Through network_nodes (region_code) and shipments (current_node, status).
  for (const auto& r : CUNHUO_TRY(s.query(
           "SELECT n.code, n.name, n.kind, n.cold_capacity_crates, n.max_centi, "
           "(SELECT COUNT(*) FROM shipments x WHERE x.current_node = n.id AND x.status IN "
           "('at_node', 'held')) FROM network_nodes n WHERE n.region_code LIKE ? AND n.kind <> "
           "'village_point' ORDER BY n.code",
           {prefix}))) {
    NodeLoad load{.code = r.str(0),
                  .name = r.str(1),
                  .kind = CUNHUO_TRY(parse_node_kind(r.str(2))),
                  .parcels = r.i64(5),
                  .cold_capacity_crates = static_cast<int>(r.i64(3)),
                  .max_centi = std::nullopt};
    if (!r.is_null(4)) load.max_centi = static_cast<int>(r.i64(4));
    out.push_back(std::move(load));
  }
  return out;
}

Result<std::optional<int>> node_max_centi(db::Session& s, std::string_view node_code) {
  auto r = CUNHUO_TRY(
      s.query_one("SELECT max_centi FROM network_nodes WHERE code = ?", {std::string(node_code)}));
  if (!r || r->is_null(0)) return std::optional<int>();
  return std::optional<int>(static_cast<int>(r->i64(0)));
}

Result<std::vector<TracePoint>> sensor_trace(db::Session& s, std::string_view sensor_code,
                                             std::int64_t from_ms, std::int64_t to_ms) {
  std::vector<TracePoint> all;
  // Through readings (sensor_id, at).
  for (const auto& r : CUNHUO_TRY(
           s.query("SELECT r.at, r.centi FROM readings r JOIN sensors n ON n.id = r.sensor_id "
                   "WHERE n.sensor_code = ? AND r.at >= ? AND r.at <= ? ORDER BY r.at LIMIT ?",
                   {std::string(sensor_code), from_ms, to_ms, kMaxTraceReadings})))
    all.push_back(TracePoint{r.i64(0), static_cast<int>(r.i64(1))});
  if (all.size() <= kMaxTracePoints) return all;
  std::vector<TracePoint> thin;
  for (std::size_t i = 0; i < kMaxTracePoints; ++i)
    thin.push_back(all[i * (all.size() - 1) / (kMaxTracePoints - 1)]);
  return thin;
}

}  // namespace cunhuo::logistics
