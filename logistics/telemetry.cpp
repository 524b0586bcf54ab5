#include "logistics/telemetry.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <unordered_map>

#include "core/json.hpp"
#include "core/outbox/outbox.hpp"
#include "core/region.hpp"
#include "logistics/network.hpp"
#include "logistics/shipments.hpp"

namespace cunhuo::logistics {
namespace {

// Readings are keyed time first: batches arrive in time order across all sensors, so
// each commit appends to the end of the key instead of touching a page per sensor.
constexpr db::Migration kMigrations[] = {
    {"logistics", 4, "sensors, readings, parcel exposure and excursions",
     "CREATE TABLE IF NOT EXISTS sensors (\n"
     "  id {{ID}},\n"
     "  sensor_code VARCHAR(40) NOT NULL UNIQUE,\n"
     "  node_id BIGINT NOT NULL,\n"
     "  link_id BIGINT,\n"
     "  last_reading_at BIGINT NOT NULL DEFAULT 0,\n"
     "  created_at BIGINT NOT NULL\n"
     ");\n"
     "CREATE TABLE IF NOT EXISTS readings (\n"
     "  sensor_id BIGINT NOT NULL,\n"
     "  at BIGINT NOT NULL,\n"
     "  centi INT NOT NULL,\n"
     "  PRIMARY KEY (at, sensor_id)\n"
     ");\n"
     "CREATE TABLE IF NOT EXISTS parcel_exposure (\n"
     "  shipment_id BIGINT NOT NULL PRIMARY KEY,\n"
     "  out_ms BIGINT NOT NULL,\n"
     "  run_start BIGINT\n"
     ");\n"
     "CREATE TABLE IF NOT EXISTS excursions (\n"
     "  id {{ID}},\n"
     "  node_id BIGINT NOT NULL,\n"
     "  sensor_id BIGINT NOT NULL,\n"
     "  kind VARCHAR(12) NOT NULL,\n"
     "  status VARCHAR(10) NOT NULL,\n"
     "  detail VARCHAR(300) NOT NULL,\n"
     "  shipments TEXT NOT NULL,\n"
     "  started_at BIGINT NOT NULL,\n"
     "  detected_at BIGINT NOT NULL\n"
     ");\n"
     "CREATE INDEX IF NOT EXISTS excursions_node ON excursions (node_id, status);\n"},
};

// A sensor in a cold store (node) or in the vehicle serving a link (then its node is
// where the link starts).
struct Sensor {
  std::int64_t id = 0, node_id = 0, last_at = 0;
  std::string node_code;
  std::optional<std::int64_t> link_id;
};

struct Parcel {
  std::int64_t shipment_id = 0;
  std::string temperature_class;
  std::int64_t out_ms = 0;
  std::optional<std::int64_t> run_start;
  bool changed = false;
};

struct Alarm {
  std::string kind, detail;
  std::int64_t started_at = 0;
};

Result<std::unordered_map<std::string, Sensor>> load_sensors(db::Session& tx) {
  std::unordered_map<std::string, Sensor> out;
  for (const auto& r : CUNHUO_TRY(tx.query("SELECT s.sensor_code, s.id, s.node_id, s.last_reading_at, n.code, s.link_id FROM sensors s "
                                           "JOIN network_nodes n ON n.id = s.node_id")))
    out.emplace(r.str(0), Sensor{r.i64(1), r.i64(2), r.i64(3), r.str(4), r.opt_i64(5)});
  return out;
}

constexpr std::size_t kRowsPerInsert = 100;

Status insert_fresh(db::Session& tx, std::int64_t sensor_id, const std::vector<Reading>& fresh) {
  static const std::string full = [] {
    std::string sql = "INSERT INTO readings (sensor_id, at, centi) VALUES ";
    for (std::size_t i = 0; i < kRowsPerInsert; ++i) sql += i ? ", (?, ?, ?)" : "(?, ?, ?)";
    return sql;
  }();
  std::vector<db::Value> params;
  params.reserve(kRowsPerInsert * 3);
  for (std::size_t at = 0; at < fresh.size(); at += kRowsPerInsert) {
    const std::size_t n = std::min(kRowsPerInsert, fresh.size() - at);
    params.clear();
    for (std::size_t i = at; i < at + n; ++i) {
      params.emplace_back(sensor_id);
      params.emplace_back(fresh[i].at_ms);
      params.emplace_back(fresh[i].centi);
    }
    std::string partial;
    if (n < kRowsPerInsert) partial = full.substr(0, full.find("VALUES ") + 7 + n * 11 - 2);
    CUNHUO_TRY(tx.exec_with(n == kRowsPerInsert ? full : partial, params));
  }
  return {};
}

// The parcels a sensor's readings count against: those waiting in its store, or riding
// its vehicle.
Result<std::vector<Parcel>> parcels_near(db::Session& tx, const Sensor& sensor) {
  std::vector<Parcel> out;
  const std::string where = sensor.link_id ? "s.current_link = ? AND s.status IN ('in_transit', 'held')"
                                           : "s.current_node = ? AND s.current_link IS NULL AND s.status IN ('at_node', 'held')";
  for (const auto& r : CUNHUO_TRY(tx.query(
           "SELECT s.id, s.temperature_class, COALESCE(e.out_ms, 0), e.run_start FROM shipments s "
           "LEFT JOIN parcel_exposure e ON e.shipment_id = s.id WHERE " + where,
           {sensor.link_id ? *sensor.link_id : sensor.node_id})))
    out.push_back(Parcel{r.i64(0), r.str(1), r.i64(2), r.opt_i64(3), false});
  return out;
}

Status save_exposure(db::Session& tx, const Parcel& p) {
  CUNHUO_TRY(tx.exec("DELETE FROM parcel_exposure WHERE shipment_id = ?", {p.shipment_id}));
  CUNHUO_TRY(tx.exec("INSERT INTO parcel_exposure (shipment_id, out_ms, run_start) VALUES (?, ?, ?)", {p.shipment_id, p.out_ms, p.run_start}));
  return {};
}

std::string ids_json(const std::vector<std::int64_t>& ids) {
  JsonWriter w;
  w.begin_array();
  for (auto id : ids) w.value(id);
  w.end_array();
  return w.take();
}

// One open excursion per sensor and kind: a breach that goes on does not open another.
Result<std::optional<std::int64_t>> open_excursion(db::Session& tx, const Sensor& sensor, const Alarm& alarm,
                                                   const std::vector<std::int64_t>& held, const Clock& clock) {
  if (CUNHUO_TRY(tx.query_one("SELECT id FROM excursions WHERE sensor_id = ? AND kind = ? AND status = 'open'", {sensor.id, alarm.kind})))
    return std::optional<std::int64_t>();
  CUNHUO_TRY(tx.exec("INSERT INTO excursions (node_id, sensor_id, kind, status, detail, shipments, started_at, detected_at) "
                     "VALUES (?, ?, ?, 'open', ?, ?, ?, ?)",
                     {sensor.node_id, sensor.id, alarm.kind, alarm.detail, ids_json(held), alarm.started_at, clock.now_ms()}));
  const std::int64_t id = CUNHUO_TRY(tx.last_insert_id());
  JsonWriter w;
  w.begin_object().field("excursion_id", id).field("node", sensor.node_code).field("kind", alarm.kind).end_object();
  CUNHUO_TRY(outbox::publish(tx, "excursion.raised", w.take(), clock));
  spdlog::warn("cold-chain excursion {} at {}: {} ({} parcels held)", id, sensor.node_code, alarm.detail, held.size());
  return std::optional<std::int64_t>(id);
}

// Walks one sensor's new readings, in time order, against each parcel waiting there.
std::optional<Alarm> expose(std::vector<Parcel>& parcels, const std::vector<Reading>& readings, std::int64_t last_at,
                            const ExcursionRules& rules) {
  std::optional<Alarm> alarm;
  std::int64_t previous = last_at;
  for (const auto& r : readings) {
    const std::int64_t span = previous > 0 ? std::min(r.at_ms - previous, rules.max_gap_ms) : 0;
    for (auto& p : parcels) {
      const ClassLimits& lim = rules.of(p.temperature_class);
      const bool out = r.centi < lim.min_centi || r.centi > lim.max_centi;
      if (!out) {
        if (p.run_start) p.changed = true;
        p.run_start.reset();
        continue;
      }
      p.changed = true;
      p.out_ms += span;
      if (!p.run_start) p.run_start = previous > 0 ? previous : r.at_ms;
      const std::int64_t run = r.at_ms - *p.run_start;
      if (!alarm && run > lim.continuous_ms)
        alarm = Alarm{"continuous", "out of range for " + std::to_string(run / 60'000) + " min without a break (" + p.temperature_class + ")", *p.run_start};
      else if (!alarm && p.out_ms > lim.cumulative_ms)
        alarm = Alarm{"cumulative", "out of range for " + std::to_string(p.out_ms / 60'000) + " min in all (" + p.temperature_class + ")", r.at_ms};
    }
    previous = r.at_ms;
  }
  return alarm;
}

Result<Excursion> excursion_from(const db::Row& r) {
  Excursion e{r.i64(0), r.str(1), r.str(2), r.str(3), r.str(4), r.str(5), r.i64(6), r.i64(7), {}};
  auto doc = CUNHUO_TRY(Json::parse(r.str(8)));
  for (const auto& id : doc.as_array()) e.shipments.push_back(id.as_integer());
  return e;
}

constexpr const char* kExcursionColumns =
    "e.id, n.code, s.sensor_code, e.kind, e.status, e.detail, e.started_at, e.detected_at, e.shipments FROM excursions e "
    "JOIN network_nodes n ON n.id = e.node_id JOIN sensors s ON s.id = e.sensor_id";

}  // namespace

const ClassLimits& ExcursionRules::of(std::string_view temperature_class) const {
  if (temperature_class == "chilled") return chilled;
  if (temperature_class == "frozen") return frozen;
  return ambient;
}

std::span<const db::Migration> telemetry_migrations() { return kMigrations; }

Status register_vehicle_sensor(db::Session& tx, std::string_view sensor_code, std::int64_t link_id, const Clock& clock) {
  if (sensor_code.empty() || sensor_code.size() > 40)
    return make_error(ErrorKind::invalid, "invalid_code", "a sensor code is 1 to 40 bytes", "sensor_code");
  auto link = CUNHUO_TRY(tx.query_one("SELECT from_node FROM network_links WHERE id = ?", {link_id}));
  if (!link) return make_error(ErrorKind::not_found, "unknown_link", "no link " + std::to_string(link_id), "link_id");
  auto added = tx.exec("INSERT INTO sensors (sensor_code, node_id, link_id, created_at) VALUES (?, ?, ?, ?)",
                       {sensor_code, link->i64(0), link_id, clock.now_ms()});
  if (!added.ok() && added.error().code == db::kDuplicate)
    return make_error(ErrorKind::conflict, "duplicate_code", "a sensor with this code exists", "sensor_code");
  if (!added.ok()) return added.error();
  return {};
}

Status register_sensor(db::Session& tx, std::string_view sensor_code, std::string_view node_code, const Clock& clock) {
  if (sensor_code.empty() || sensor_code.size() > 40)
    return make_error(ErrorKind::invalid, "invalid_code", "a sensor code is 1 to 40 bytes", "sensor_code");
  auto node = CUNHUO_TRY(find_node(tx, node_code));
  if (!node) return make_error(ErrorKind::not_found, "unknown_node", "no node " + std::string(node_code), "node_code");
  auto added = tx.exec("INSERT INTO sensors (sensor_code, node_id, created_at) VALUES (?, ?, ?)", {sensor_code, node->id.value, clock.now_ms()});
  if (!added.ok() && added.error().code == db::kDuplicate)
    return make_error(ErrorKind::conflict, "duplicate_code", "a sensor with this code exists", "sensor_code");
  if (!added.ok()) return added.error();
  return {};
}

Result<std::vector<Reading>> readings_from_json(std::string_view body) {
  const Json doc = CUNHUO_TRY(Json::parse(body));
  auto root = CUNHUO_TRY(FieldReader::root(doc));
  CUNHUO_CHECK(root.only({"readings"}));
  std::vector<Reading> out;
  for (const auto& r : CUNHUO_TRY(root.objects("readings", kMaxReadingsPerBatch))) {
    CUNHUO_CHECK(r.only({"sensor", "at_ms", "centi"}));
    out.push_back(Reading{CUNHUO_TRY(r.string("sensor", 40)), CUNHUO_TRY(r.integer("at_ms", INT64_MIN, INT64_MAX)),
                          static_cast<int>(CUNHUO_TRY(r.integer("centi", INT32_MIN, INT32_MAX)))});
  }
  return out;
}

Status check_readings(std::span<const Reading> readings) {
  if (readings.size() > kMaxReadingsPerBatch)
    return make_error(ErrorKind::too_large, "batch_too_large", "at most 50000 readings in a batch", "readings");
  for (std::size_t i = 0; i < readings.size(); ++i) {
    const auto& r = readings[i];
    const std::string field = "readings[" + std::to_string(i) + "]";
    if (r.sensor.empty() || r.sensor.size() > 40) return make_error(ErrorKind::invalid, "invalid_sensor", "a sensor code is 1 to 40 bytes", field + ".sensor");
    if (r.centi < kMinCenti || r.centi > kMaxCenti)
      return make_error(ErrorKind::invalid, "absurd_value", "a temperature between -80.00 and +80.00 degrees, in hundredths", field + ".centi");
    if (r.at_ms < 1'500'000'000'000 || r.at_ms > 4'000'000'000'000)
      return make_error(ErrorKind::invalid, "absurd_time", "a time in milliseconds since 1970, after 2017", field + ".at_ms");
  }
  return {};
}

Result<IngestReport> ingest(db::Session& tx, std::span<const Reading> readings, const ExcursionRules& rules, const Clock& clock) {
  CUNHUO_CHECK(check_readings(readings));
  IngestReport report;
  const auto sensors = CUNHUO_TRY(load_sensors(tx));
  std::map<std::string, std::vector<Reading>> by_sensor;
  for (const auto& r : readings) {
    if (!sensors.contains(r.sensor)) {
      ++report.unknown_sensor;
      continue;
    }
    by_sensor[r.sensor].push_back(r);
  }
  const std::string late_sql = std::string(tx.insert_ignore()) + " INTO readings (sensor_id, at, centi) VALUES (?, ?, ?)";
  for (auto& [code, list] : by_sensor) {
    const Sensor& sensor = sensors.at(code);
    std::sort(list.begin(), list.end(), [](const Reading& a, const Reading& b) { return a.at_ms < b.at_ms; });
    // Readings after the sensor's last are new for certain: they go in by the hundred.
    // Older ones may repeat what is stored: one by one, so repeats are counted.
    std::vector<Reading> fresh;
    for (std::size_t i = 0; i < list.size(); ++i) {
      if (i > 0 && list[i].at_ms == list[i - 1].at_ms) {
        ++report.duplicates;
        continue;
      }
      if (list[i].at_ms > sensor.last_at) {
        fresh.push_back(list[i]);
        continue;
      }
      auto stored = CUNHUO_TRY(tx.exec(late_sql, {sensor.id, list[i].at_ms, list[i].centi}));
      if (stored.affected_rows == 0) {
        ++report.duplicates;
        continue;
      }
      ++report.stored;
      ++report.late;  // kept, but the running state does not go back
    }
    CUNHUO_CHECK(insert_fresh(tx, sensor.id, fresh));
    report.stored += fresh.size();
    if (fresh.empty()) continue;
    CUNHUO_TRY(tx.exec("UPDATE sensors SET last_reading_at = ? WHERE id = ?", {fresh.back().at_ms, sensor.id}));
    auto parcels = CUNHUO_TRY(parcels_near(tx, sensor));
    if (parcels.empty()) continue;
    const auto alarm = expose(parcels, fresh, sensor.last_at, rules);
    for (const auto& p : parcels)
      if (p.changed) CUNHUO_CHECK(save_exposure(tx, p));
    if (!alarm) continue;
    const std::string reason = "cold-chain excursion: " + alarm->detail;
    auto held = sensor.link_id ? CUNHUO_TRY(hold_parcels_on(tx, *sensor.link_id, reason, clock))
                               : CUNHUO_TRY(hold_parcels_at(tx, sensor.node_code, reason, clock));
    for (const auto& p : parcels) held.push_back(p.shipment_id);
    std::sort(held.begin(), held.end());
    held.erase(std::unique(held.begin(), held.end()), held.end());
    if (auto id = CUNHUO_TRY(open_excursion(tx, sensor, *alarm, held, clock))) report.excursions.push_back(*id);
  }
  return report;
}

Result<std::vector<std::int64_t>> check_silence(db::Session& tx, const ExcursionRules& rules, const Clock& clock) {
  std::vector<std::int64_t> opened;
  const auto now = clock.now_ms();
  for (const auto& [code, sensor] : CUNHUO_TRY(load_sensors(tx))) {
    if (sensor.last_at > now - rules.silence_ms) continue;
    auto parcels = CUNHUO_TRY(parcels_near(tx, sensor));
    if (parcels.empty()) continue;
    std::vector<std::int64_t> ids;
    for (const auto& p : parcels) ids.push_back(p.shipment_id);
    const Alarm alarm{"silent", "sensor " + code + " has not reported since " + (sensor.last_at > 0 ? format_utc(sensor.last_at) : std::string("it was installed")),
                      sensor.last_at};
    if (auto id = CUNHUO_TRY(open_excursion(tx, sensor, alarm, ids, clock))) opened.push_back(*id);
  }
  return opened;
}

Result<std::vector<Excursion>> excursions_in(db::Session& s, std::string_view region_code, std::string_view status) {
  std::vector<Excursion> out;
  for (const auto& r : CUNHUO_TRY(s.query(std::string("SELECT ") + kExcursionColumns +
                                              " WHERE n.region_code LIKE ? AND e.status = ? ORDER BY e.id DESC LIMIT 200",
                                          {std::string(region_code) + "%", status})))
    out.push_back(CUNHUO_TRY(excursion_from(r)));
  return out;
}

Result<std::optional<Excursion>> find_excursion(db::Session& s, std::int64_t id) {
  auto r = CUNHUO_TRY(s.query_one(std::string("SELECT ") + kExcursionColumns + " WHERE e.id = ?", {id}));
  if (!r) return std::optional<Excursion>();
  return std::optional<Excursion>(CUNHUO_TRY(excursion_from(*r)));
}

Result<Excursion> decide_excursion(db::Session& tx, std::int64_t id, bool spoiled, const Clock& clock) {
  auto e = CUNHUO_TRY(find_excursion(tx, id));
  if (!e) return make_error(ErrorKind::not_found, "not_found", "no such excursion", "id");
  if (e->status != "open") return make_error(ErrorKind::conflict, "already_decided", "this excursion was " + e->status, "id");
  for (auto shipment : e->shipments) {
    auto st = spoiled ? mark_spoiled(tx, shipment, "logistics", clock) : release_hold(tx, shipment, clock);
    if (!st.ok() && st.error().code != "not_held") return st.error();  // a parcel decided by another excursion stays as it is
  }
  e->status = spoiled ? "spoiled" : "released";
  CUNHUO_TRY(tx.exec("UPDATE excursions SET status = ? WHERE id = ?", {e->status, id}));
  return std::move(*e);
}

}  // namespace cunhuo::logistics
