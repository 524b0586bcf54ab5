#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "core/json.hpp"
#include "core/outbox/outbox.hpp"
#include "core/outbox/payload.hpp"
#include "logistics/network.hpp"
#include "logistics/pickup.hpp"

namespace cunhuo::logistics {
namespace {

struct Place {
  std::int64_t id = 0;
  std::string code;
  std::int64_t lat = 0, lon = 0;
};

std::string hhmm(int minutes) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02d:%02d", minutes / 60 % 24, minutes % 60);
  return buf;
}

std::string plan_json(const StationPickups& p) {
  JsonWriter w;
  w.begin_object().key("runs").begin_array();
  for (const auto& r : p.runs) {
    w.begin_object().key("stops").begin_array();
    for (const auto& s : r.stops) w.value(s);
    w.end_array()
        .field("km_x1000", static_cast<std::int64_t>(std::llround(r.km * 1000)))
        .field("crates", r.crates);
    w.field("start", r.start).field("end", r.end).end_object();
  }
  w.end_array().key("unserved").begin_array();
  for (const auto& u : p.unserved) w.value(u);
  w.end_array().end_object();
  return w.take();
}

}  // namespace

Result<StationPickups> plan_station_pickups(db::Session& tx, std::string_view station_code,
                                            const LocalDate& date, const PickupVehicle& vehicle,
                                            const Clock& clock) {
  auto station = CUNHUO_TRY(tx.query_one(
      "SELECT id, code, region_code, lat_e6, lon_e6, kind FROM network_nodes WHERE code = ?",
      {station_code}));
  if (!station || station->str(5) != "township_station")
    return make_error(ErrorKind::not_found, "not_found", "no such station", "code");
  if (station->is_null(3))
    return make_error(ErrorKind::conflict, "no_position",
                      "the station has no position to plan from", "code");
  const std::int64_t day_end = shanghai_midnight_ms(date) + 86'400'000;
  // Parcels waiting at each village point of the township, ready by the end of the day.
  std::map<std::string, std::pair<Place, int>> waiting;
  for (const auto& r : CUNHUO_TRY(tx.query(
           "SELECT n.id, n.code, n.lat_e6, n.lon_e6, SUM(s.crates) FROM shipments s JOIN "
           "network_nodes n ON n.id = s.current_node "
           "WHERE s.status = 'planned' AND n.kind = 'village_point' AND n.region_code LIKE ? AND "
           "s.ready_at < ? "
           "AND n.lat_e6 IS NOT NULL GROUP BY n.id, n.code, n.lat_e6, n.lon_e6 ORDER BY n.code",
           {station->str(2) + "%", day_end})))
    waiting[r.str(1)] = {Place{r.i64(0), r.str(1), r.i64(2), r.i64(3)}, static_cast<int>(r.i64(4))};
  if (waiting.size() > kMaxPickupStops)
    return make_error(ErrorKind::too_large, "too_many_stops",
                      "more village points than a plan takes", "code");
  const double origin_lat = static_cast<double>(station->i64(3)) / 1e6;
  PickupDepot depot;
  to_km(station->i64(3), station->i64(4), origin_lat, depot.x_km, depot.y_km);
  std::vector<PickupStop> stops;
  std::vector<std::string> codes;
  StationPickups out;
  for (const auto& [code, entry] : waiting) {
    PickupStop s;
    to_km(entry.first.lat, entry.first.lon, origin_lat, s.x_km, s.y_km);
    s.crates = entry.second;
    out.parcels += entry.second;
    stops.push_back(s);
    codes.push_back(code);
  }
  const PickupPlan plan = plan_pickups(depot, stops, vehicle);
  const PickupPlan baseline = plan_nearest_neighbour(depot, stops, vehicle);
  out.station_code = std::string(station_code);
  out.date = format_date(date);
  out.total_km = plan.total_km;
  out.baseline_km = baseline.total_km;
  for (const auto& r : plan.runs) {
    StationRun run{{}, r.km, r.crates, hhmm(r.start_min), hhmm(r.end_min)};
    for (int s : r.stops) run.stops.push_back(codes[static_cast<std::size_t>(s)]);
    out.runs.push_back(std::move(run));
  }
  for (int u : plan.unserved) out.unserved.push_back(codes[static_cast<std::size_t>(u)]);
  CUNHUO_TRY(
      tx.exec("INSERT INTO pickup_runs (station_node, run_date, plan, total_m, baseline_m, "
              "created_at) VALUES (?, ?, ?, ?, ?, ?)",
              {station->i64(0), out.date, plan_json(out),
               static_cast<std::int64_t>(std::llround(out.total_km * 1000)),
               static_cast<std::int64_t>(std::llround(out.baseline_km * 1000)), clock.now_ms()}));
  out.id = CUNHUO_TRY(tx.last_insert_id());
  const PickupRunsPlanned planned{
      .plan_id = out.id, .station_code = out.station_code, .date = out.date};
  CUNHUO_TRY(outbox::publish(tx, kPickupRunsPlanned, planned.encode(), clock));
  return out;
}

Result<std::vector<StationPickups>> station_pickups_on(db::Session& s,
                                                       std::string_view station_code,
                                                       const LocalDate& date) {
  auto station =
      CUNHUO_TRY(s.query_one("SELECT id, kind FROM network_nodes WHERE code = ?", {station_code}));
  if (!station || station->str(1) != "township_station")
    return make_error(ErrorKind::not_found, "not_found", "no such station", "code");
  std::vector<StationPickups> out;
  for (const auto& r : CUNHUO_TRY(s.query(
           "SELECT id, plan, total_m, baseline_m FROM pickup_runs WHERE station_node = ? AND "
           "run_date = ? ORDER BY id DESC LIMIT ?",
           {station->i64(0), format_date(date), kMaxPlansPerDay}))) {
    StationPickups p{.id = r.i64(0),
                     .station_code = std::string(station_code),
                     .date = format_date(date),
                     .total_km = static_cast<double>(r.i64(2)) / 1000,
                     .baseline_km = static_cast<double>(r.i64(3)) / 1000};
    auto plan = CUNHUO_TRY(Json::parse(r.str(1)));
    for (const auto& run : plan.find("runs")->as_array()) {
      StationRun one{.km = static_cast<double>(run.find("km_x1000")->as_integer()) / 1000,
                     .crates = static_cast<int>(run.find("crates")->as_integer()),
                     .start = run.find("start")->as_string(),
                     .end = run.find("end")->as_string()};
      for (const auto& stop : run.find("stops")->as_array()) one.stops.push_back(stop.as_string());
      p.parcels += one.crates;
      p.runs.push_back(std::move(one));
    }
    for (const auto& u : plan.find("unserved")->as_array()) p.unserved.push_back(u.as_string());
    out.push_back(std::move(p));
  }
  std::reverse(out.begin(), out.end());
  return out;
}

Result<PickupSheetStop> parcels_at_point(db::Session& s, std::string_view point_code) {
  auto node =
      CUNHUO_TRY(s.query_one("SELECT name FROM network_nodes WHERE code = ?", {point_code}));
  if (!node) return make_error(ErrorKind::not_found, "not_found", "no such point", "code");
  PickupSheetStop stop{.code = std::string(point_code), .name = node->str(0)};
  for (const auto& r : CUNHUO_TRY(s.query(
           "SELECT s.tracking_number, s.crates FROM shipments s JOIN network_nodes n ON n.id = "
           "s.current_node WHERE n.code = ? AND s.status = 'planned' ORDER BY s.id LIMIT ?",
           {point_code, kMaxParcelsPerStop}))) {
    stop.parcels.push_back(r.str(0));
    stop.crates += static_cast<int>(r.i64(1));
  }
  return stop;
}

Result<std::vector<std::vector<PickupSheetStop>>> pickup_sheet(db::Session& s,
                                                               const StationPickups& plan,
                                                               const PickupVehicle& vehicle) {
  auto station = CUNHUO_TRY(
      s.query_one("SELECT lat_e6, lon_e6 FROM network_nodes WHERE code = ? AND lat_e6 IS NOT NULL",
                  {plan.station_code}));
  if (!station)
    return make_error(ErrorKind::conflict, "no_position", "the station has no position", "code");
  const double origin_lat = static_cast<double>(station->i64(0)) / 1e6;
  double depot_x = 0, depot_y = 0;
  to_km(station->i64(0), station->i64(1), origin_lat, depot_x, depot_y);
  const PickupStop timing;  // opening hours and service time as the planner assumes them
  std::vector<std::vector<PickupSheetStop>> out;
  for (const auto& run : plan.runs) {
    int hours = 0, minutes = 0;
    std::sscanf(run.start.c_str(), "%d:%d", &hours, &minutes);
    double t = hours * 60 + minutes, x = depot_x, y = depot_y;
    std::vector<PickupSheetStop> stops;
    for (const auto& code : run.stops) {
      auto at = CUNHUO_TRY(
          s.query_one("SELECT lat_e6, lon_e6 FROM network_nodes WHERE code = ?", {code}));
      double sx = x, sy = y;
      if (at && !at->is_null(0)) to_km(at->i64(0), at->i64(1), origin_lat, sx, sy);
      t += std::hypot(sx - x, sy - y) * vehicle.road_factor / vehicle.speed_kmh * 60;
      t = std::max(t, static_cast<double>(timing.open_min));
      PickupSheetStop stop = CUNHUO_TRY(parcels_at_point(s, code));
      stop.arrive = hhmm(static_cast<int>(std::lround(t)));
      stops.push_back(std::move(stop));
      t += timing.service_min;
      x = sx;
      y = sy;
    }
    out.push_back(std::move(stops));
  }
  return out;
}

std::string PickupRunsPlanned::encode() const {
  JsonWriter w;
  w.begin_object().field("plan_id", plan_id).field("station", station_code);
  w.field("date", date).end_object();
  return w.take();
}

Result<PickupRunsPlanned> PickupRunsPlanned::decode(std::string_view payload) {
  const auto p = CUNHUO_TRY(outbox::PayloadReader::parse("PickupRunsPlanned", payload));
  return PickupRunsPlanned{.plan_id = CUNHUO_TRY(p.integer("plan_id")),
                           .station_code = CUNHUO_TRY(p.string("station")),
                           .date = CUNHUO_TRY(p.string("date"))};
}

}  // namespace cunhuo::logistics
