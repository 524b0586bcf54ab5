#include "logistics/work_queue.hpp"

#include <string>

#include "core/region.hpp"

namespace cunhuo::logistics {
namespace {

// Both reads go through shipments (current_node, status), the index the table has.
constexpr const char* kArriving =
    " FROM network_links l JOIN shipments s ON s.current_node = l.from_node AND s.status = "
    "'in_transit' AND s.current_link = l.id WHERE l.to_node = ?";
constexpr const char* kStanding =
    " FROM shipments s WHERE s.current_node = ? AND s.status IN ('at_node', 'held')";

Result<WaitingParcels> read(db::Session& s, const char* where, std::int64_t node_id, int limit) {
  WaitingParcels out;
  out.count = CUNHUO_TRY(s.query(std::string("SELECT COUNT(*)") + where, {node_id})).at(0).i64(0);
  for (const auto& r : CUNHUO_TRY(s.query(std::string("SELECT s.tracking_number, s.updated_at") +
                                              where + " ORDER BY s.updated_at, s.id LIMIT ?",
                                          {node_id, static_cast<std::int64_t>(limit)})))
    out.parcels.push_back(WaitingParcel{r.str(0), r.i64(1)});
  return out;
}

}  // namespace

Result<WaitingParcels> parcels_arriving_at(db::Session& s, std::int64_t node_id, int limit) {
  return read(s, kArriving, node_id, limit);
}

Result<WaitingParcels> parcels_at(db::Session& s, std::int64_t node_id, int limit) {
  return read(s, kStanding, node_id, limit);
}

Result<WaitingExcursions> open_excursions_in(db::Session& s, std::string_view region_code,
                                             int limit) {
  // Through network_nodes (region_code) to excursions (node_id, status).
  constexpr const char* kWhere =
      " FROM excursions e JOIN network_nodes n ON n.id = e.node_id WHERE n.region_code LIKE ? AND "
      "e.status = 'open'";
  const std::string prefix = std::string(region_prefix(region_code)) + "%";
  WaitingExcursions out;
  out.count = CUNHUO_TRY(s.query(std::string("SELECT COUNT(*)") + kWhere, {prefix})).at(0).i64(0);
  for (const auto& r :
       CUNHUO_TRY(s.query(std::string("SELECT e.id, n.code, e.kind, e.detected_at") + kWhere +
                              " ORDER BY e.id DESC LIMIT ?",
                          {prefix, static_cast<std::int64_t>(limit)})))
    out.items.push_back(WaitingExcursion{
        .id = r.i64(0), .node_code = r.str(1), .kind = r.str(2), .detected_at_ms = r.i64(3)});
  return out;
}

Result<std::vector<OrderToCollect>> orders_to_collect(db::Session& s, std::string_view station_code,
                                                      int limit) {
  auto station = CUNHUO_TRY(s.query_one(
      "SELECT region_code FROM network_nodes WHERE code = ? AND kind = 'township_station'",
      {station_code}));
  std::vector<OrderToCollect> out;
  if (!station) return out;
  for (const auto& r :
       CUNHUO_TRY(s.query("SELECT s.order_id, n.code FROM network_nodes n JOIN shipments s ON "
                          "s.current_node = n.id AND s.status = 'planned' WHERE n.kind = "
                          "'village_point' AND n.region_code LIKE ? ORDER BY s.order_id LIMIT ?",
                          {station->str(0) + "%", static_cast<std::int64_t>(limit)})))
    out.push_back(OrderToCollect{r.i64(0), r.str(1)});
  return out;
}

}  // namespace cunhuo::logistics
