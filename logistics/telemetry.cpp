#include "logistics/telemetry.hpp"

#include <sodium.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <unordered_map>

#include "core/json.hpp"
#include "core/outbox/outbox.hpp"
#include "core/outbox/payload.hpp"
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
    // A late reading is evaluated among its sensor's neighbouring readings, found by
    // sensor. newest_reading_at is the newest reading stored (it may be a little ahead
    // of the clock); last_reading_at, the sensor's state, never passes the present.
    {"logistics", 6, "sensor device keys, newest reading, readings by sensor",
     "ALTER TABLE sensors ADD COLUMN device_key_hash VARCHAR(64);\n"
     "ALTER TABLE sensors ADD COLUMN newest_reading_at BIGINT NOT NULL DEFAULT 0;\n"
     "UPDATE sensors SET newest_reading_at = last_reading_at;\n"
     "CREATE UNIQUE INDEX IF NOT EXISTS sensors_device_key ON sensors (device_key_hash);\n"
     "CREATE INDEX IF NOT EXISTS readings_sensor ON readings (sensor_id, at);\n"},
    // The parcels an excursion holds, by parcel: the centre's list of parcels under an open
    // excursion reads it (excursions.shipments keeps the same ids as the excursion's record).
    {"logistics", 8, "the parcels of each excursion, by parcel",
     "CREATE TABLE IF NOT EXISTS excursion_shipments (\n"
     "  shipment_id BIGINT NOT NULL,\n"
     "  excursion_id BIGINT NOT NULL,\n"
     "  PRIMARY KEY (shipment_id, excursion_id)\n"
     ");\n"},
};

// A sensor in a cold store (node) or in the vehicle serving a link (then its node is
// where the link starts).
struct Sensor {
  std::int64_t id = 0, node_id = 0, last_at = 0, newest_at = 0;
  std::string node_code, region_code;
  std::optional<std::int64_t> link_id;
};

struct Parcel {
  std::int64_t shipment_id = 0;
  TemperatureClass temperature_class = TemperatureClass::ambient;
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
  for (const auto& r : CUNHUO_TRY(tx.query(
           "SELECT s.sensor_code, s.id, s.node_id, s.last_reading_at, s.newest_reading_at, n.code, "
           "n.region_code, s.link_id FROM sensors s JOIN network_nodes n ON n.id = s.node_id")))
    out.emplace(r.str(0), Sensor{.id = r.i64(1),
                                 .node_id = r.i64(2),
                                 .last_at = r.i64(3),
                                 .newest_at = r.i64(4),
                                 .node_code = r.str(5),
                                 .region_code = r.str(6),
                                 .link_id = r.opt_i64(7)});
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
  const std::string where =
      sensor.link_id
          ? "s.current_link = ? AND s.status IN ('in_transit', 'held')"
          : "s.current_node = ? AND s.current_link IS NULL AND s.status IN ('at_node', 'held')";
  for (const auto& r : CUNHUO_TRY(tx.query(
           "SELECT s.id, s.temperature_class, COALESCE(e.out_ms, 0), e.run_start FROM shipments s "
           "LEFT JOIN parcel_exposure e ON e.shipment_id = s.id WHERE " +
               where,
           {sensor.link_id ? *sensor.link_id : sensor.node_id})))
    out.push_back(Parcel{.shipment_id = r.i64(0),
                         .temperature_class = CUNHUO_TRY(parse_temperature_class(r.str(1))),
                         .out_ms = r.i64(2),
                         .run_start = r.opt_i64(3)});
  return out;
}

Status save_exposure(db::Session& tx, const Parcel& p) {
  CUNHUO_TRY(tx.exec("DELETE FROM parcel_exposure WHERE shipment_id = ?", {p.shipment_id}));
  CUNHUO_TRY(
      tx.exec("INSERT INTO parcel_exposure (shipment_id, out_ms, run_start) VALUES (?, ?, ?)",
              {p.shipment_id, p.out_ms, p.run_start}));
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
Result<std::optional<std::int64_t>> open_excursion(db::Session& tx, const Sensor& sensor,
                                                   const Alarm& alarm,
                                                   const std::vector<std::int64_t>& held,
                                                   const Clock& clock) {
  if (CUNHUO_TRY(tx.query_one(
          "SELECT id FROM excursions WHERE sensor_id = ? AND kind = ? AND status = 'open'",
          {sensor.id, alarm.kind})))
    return std::optional<std::int64_t>();
  CUNHUO_TRY(
      tx.exec("INSERT INTO excursions (node_id, sensor_id, kind, status, detail, shipments, "
              "started_at, detected_at) "
              "VALUES (?, ?, ?, 'open', ?, ?, ?, ?)",
              {sensor.node_id, sensor.id, alarm.kind, alarm.detail, ids_json(held),
               alarm.started_at, clock.now_ms()}));
  const std::int64_t id = CUNHUO_TRY(tx.last_insert_id());
  for (std::int64_t shipment : held)
    CUNHUO_TRY(tx.exec("INSERT INTO excursion_shipments (shipment_id, excursion_id) VALUES (?, ?)",
                       {shipment, id}));
  const ExcursionRaised raised{
      .excursion_id = id, .node_code = sensor.node_code, .kind = alarm.kind};
  CUNHUO_TRY(outbox::publish(tx, kExcursionRaised, raised.encode(), clock));
  spdlog::warn("cold-chain excursion {} at {}: {} ({} parcels held)", id, sensor.node_code,
               alarm.detail, held.size());
  return std::optional<std::int64_t>(id);
}

bool out_of(const ClassLimits& lim, int centi) {
  return centi < lim.min_centi || centi > lim.max_centi;
}

Alarm continuous_alarm(std::int64_t run, std::int64_t started_at,
                       TemperatureClass temperature_class) {
  return Alarm{"continuous",
               "out of range for " + std::to_string(run / 60'000) + " min without a break (" +
                   std::string(to_string(temperature_class)) + ")",
               started_at};
}

Alarm cumulative_alarm(std::int64_t out_ms, std::int64_t at, TemperatureClass temperature_class) {
  return Alarm{"cumulative",
               "out of range for " + std::to_string(out_ms / 60'000) + " min in all (" +
                   std::string(to_string(temperature_class)) + ")",
               at};
}

// Walks one sensor's new readings, in time order, against each parcel waiting there.
std::optional<Alarm> expose(std::vector<Parcel>& parcels, const std::vector<Reading>& readings,
                            std::int64_t last_at, const ExcursionRules& rules) {
  std::optional<Alarm> alarm;
  std::int64_t previous = last_at;
  for (const auto& r : readings) {
    const std::int64_t span = previous > 0 ? std::min(r.at_ms - previous, rules.max_gap_ms) : 0;
    for (auto& p : parcels) {
      const ClassLimits& lim = rules.of(p.temperature_class);
      if (!out_of(lim, r.centi)) {
        if (p.run_start) p.changed = true;
        p.run_start.reset();
        continue;
      }
      p.changed = true;
      p.out_ms += span;
      if (!p.run_start) p.run_start = previous > 0 ? previous : r.at_ms;
      const std::int64_t run = r.at_ms - *p.run_start;
      if (!alarm && run > lim.continuous_ms)
        alarm = continuous_alarm(run, *p.run_start, p.temperature_class);
      else if (!alarm && p.out_ms > lim.cumulative_ms)
        alarm = cumulative_alarm(p.out_ms, r.at_ms, p.temperature_class);
    }
    previous = r.at_ms;
  }
  return alarm;
}

// ---- late readings, evaluated in their place in time ----------------------------------

// One stored reading of a sensor; `added` marks the late ones this batch put in.
struct Point {
  std::int64_t at = 0;
  int centi = 0;
  bool added = false;
};

// Orders readings and times alike (readings are sorted by time before they are stored).
struct ByTime {
  static std::int64_t at(const Reading& r) { return r.at_ms; }
  static std::int64_t at(std::int64_t t) { return t; }
  bool operator()(const auto& a, const auto& b) const { return at(a) < at(b); }
} constexpr by_time;

// The sensor's readings from the one just before `from` up to `to`, in time order.
Result<std::vector<Point>> neighbourhood(db::Session& tx, std::int64_t sensor_id, std::int64_t from,
                                         std::int64_t to, const std::vector<Reading>& added) {
  auto before = CUNHUO_TRY(tx.query_one(
      "SELECT at FROM readings WHERE sensor_id = ? AND at < ? ORDER BY at DESC LIMIT 1",
      {sensor_id, from}));
  std::vector<Point> out;
  for (const auto& r : CUNHUO_TRY(tx.query(
           "SELECT at, centi FROM readings WHERE sensor_id = ? AND at >= ? AND at <= ? ORDER BY at",
           {sensor_id, before ? before->i64(0) : from, to}))) {
    const bool is_added = std::binary_search(added.begin(), added.end(), r.i64(0), by_time);
    out.push_back(Point{.at = r.i64(0), .centi = static_cast<int>(r.i64(1)), .added = is_added});
  }
  return out;
}

// Time out of range over the points (each standing for the time since the one before it,
// at most max_gap), with or without the added ones: their difference is what they change.
std::int64_t out_time(const std::vector<Point>& points, bool with_added, const ClassLimits& lim,
                      std::int64_t max_gap) {
  std::int64_t total = 0;
  std::optional<std::int64_t> previous;
  for (const auto& p : points) {
    if (p.added && !with_added) continue;
    if (previous && out_of(lim, p.centi)) total += std::min(p.at - *previous, max_gap);
    previous = p.at;
  }
  return total;
}

// What the added readings change for one temperature class.
struct Replay {
  std::int64_t out_delta = 0;            // time out of range they add (or, in range, take away)
  std::optional<Alarm> continuous;       // a run through one of them that lasted too long
  std::optional<std::int64_t> open_run;  // the run still going at the last point
};

Replay replay(const std::vector<Point>& points, const ClassLimits& lim,
              TemperatureClass temperature_class, std::int64_t max_gap) {
  Replay out;
  out.out_delta = out_time(points, true, lim, max_gap) - out_time(points, false, lim, max_gap);
  std::optional<std::int64_t> previous, start;
  bool through_added = false;
  for (const auto& p : points) {
    if (!out_of(lim, p.centi)) {
      start.reset();
      through_added = false;
    } else {
      if (!start) start = previous ? *previous : p.at;
      through_added = through_added || p.added;
      if (through_added && !out.continuous && p.at - *start > lim.continuous_ms)
        out.continuous = continuous_alarm(p.at - *start, *start, temperature_class);
    }
    previous = p.at;
  }
  out.open_run = start;
  return out;
}

// Re-walks the neighbourhood of a sensor's late readings for every parcel exposed to it:
// a late breach extends or re-opens its run and adds to its time out of range. Looks far
// enough either side to see a whole run that is too long.
Result<std::optional<Alarm>> expose_late(db::Session& tx, std::vector<Parcel>& parcels,
                                         const Sensor& sensor, const std::vector<Reading>& late,
                                         const ExcursionRules& rules) {
  std::int64_t margin = rules.max_gap_ms;
  for (const auto& p : parcels) {
    const std::int64_t limit = rules.of(p.temperature_class).continuous_ms;
    if (limit != INT64_MAX) margin = std::max(margin, limit + rules.max_gap_ms);
  }
  const std::int64_t to = std::min(sensor.newest_at, late.back().at_ms + margin);
  const auto points =
      CUNHUO_TRY(neighbourhood(tx, sensor.id, late.front().at_ms - margin, to, late));
  std::map<TemperatureClass, Replay> by_class;
  std::optional<Alarm> alarm;
  for (auto& p : parcels) {
    const ClassLimits& lim = rules.of(p.temperature_class);
    auto [it, fresh] = by_class.try_emplace(p.temperature_class);
    if (fresh) it->second = replay(points, lim, p.temperature_class, rules.max_gap_ms);
    const Replay& r = it->second;
    p.out_ms += r.out_delta;
    p.changed = p.changed || r.out_delta != 0;
    if (to == sensor.newest_at && p.run_start != r.open_run) {  // the walk reached the present run
      p.run_start = r.open_run;
      p.changed = true;
    }
    if (!alarm && r.continuous) alarm = r.continuous;
    if (!alarm && r.out_delta > 0 && p.out_ms > lim.cumulative_ms)
      alarm = cumulative_alarm(p.out_ms, late.back().at_ms, p.temperature_class);
  }
  return alarm;
}

bool answers_for(const ReadingSender& sender, const std::string& code, const Sensor& sensor) {
  if (sender.sensor_code) return *sender.sensor_code == code;  // a device key: its own sensor only
  if (sender.anywhere) return true;
  if (sender.node_id) return *sender.node_id == sensor.node_id;
  if (sender.region_code) return region_within(sensor.region_code, *sender.region_code);
  return false;
}

// Holds the parcels where the alarm went off and opens the excursion.
Status raise(db::Session& tx, const Sensor& sensor, const Alarm& alarm,
             const std::vector<Parcel>& parcels, const Clock& clock, IngestReport& report) {
  const std::string reason = "cold-chain excursion: " + alarm.detail;
  auto held = sensor.link_id ? CUNHUO_TRY(hold_parcels_on(tx, *sensor.link_id, reason, clock))
                             : CUNHUO_TRY(hold_parcels_at(tx, sensor.node_code, reason, clock));
  for (const auto& p : parcels) held.push_back(p.shipment_id);
  std::sort(held.begin(), held.end());
  held.erase(std::unique(held.begin(), held.end()), held.end());
  if (auto id = CUNHUO_TRY(open_excursion(tx, sensor, alarm, held, clock)))
    report.excursions.push_back(*id);
  return {};
}

// Stores one sensor's readings and evaluates them: the late ones (at or before its newest
// stored reading) among their neighbours first, then the new ones from the running state.
Status ingest_sensor(db::Session& tx, const Sensor& sensor, std::vector<Reading>& list,
                     const ExcursionRules& rules, const Clock& clock, IngestReport& report) {
  std::sort(list.begin(), list.end(), by_time);
  // Readings after the sensor's newest are new for certain: they go in by the hundred.
  // Older ones may repeat what is stored: one by one, so repeats are counted.
  const std::string late_sql =
      std::string(tx.insert_ignore()) + " INTO readings (sensor_id, at, centi) VALUES (?, ?, ?)";
  std::vector<Reading> fresh, late;
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (i > 0 && list[i].at_ms == list[i - 1].at_ms) {
      ++report.duplicates;
    } else if (list[i].at_ms > sensor.newest_at) {
      fresh.push_back(list[i]);
    } else if (CUNHUO_TRY(tx.exec(late_sql, {sensor.id, list[i].at_ms, list[i].centi}))
                   .affected_rows == 0) {
      ++report.duplicates;
    } else {
      late.push_back(list[i]);
    }
  }
  CUNHUO_CHECK(insert_fresh(tx, sensor.id, fresh));
  report.stored += fresh.size() + late.size();
  report.late += late.size();
  if (fresh.empty() && late.empty()) return {};
  const std::int64_t newest = fresh.empty() ? sensor.newest_at : fresh.back().at_ms;
  CUNHUO_TRY(tx.exec("UPDATE sensors SET newest_reading_at = ?, last_reading_at = ? WHERE id = ?",
                     {newest, std::min(newest, clock.now_ms()), sensor.id}));
  auto parcels = CUNHUO_TRY(parcels_near(tx, sensor));
  if (parcels.empty()) return {};
  report.checked += fresh.size() + late.size();
  std::optional<Alarm> alarm;
  if (!late.empty()) alarm = CUNHUO_TRY(expose_late(tx, parcels, sensor, late, rules));
  const auto fresh_alarm = expose(parcels, fresh, sensor.newest_at, rules);
  if (!alarm) alarm = fresh_alarm;
  for (const auto& p : parcels)
    if (p.changed) CUNHUO_CHECK(save_exposure(tx, p));
  if (alarm) CUNHUO_CHECK(raise(tx, sensor, *alarm, parcels, clock, report));
  return {};
}

Result<Excursion> excursion_from(const db::Row& r) {
  Excursion e{r.i64(0), r.str(1), r.str(2), r.str(3), r.str(4), r.str(5), r.i64(6), r.i64(7), {}};
  auto doc = CUNHUO_TRY(Json::parse(r.str(8)));
  for (const auto& id : doc.as_array()) e.shipments.push_back(id.as_integer());
  return e;
}

constexpr const char* kExcursionColumns =
    "e.id, n.code, s.sensor_code, e.kind, e.status, e.detail, e.started_at, e.detected_at, "
    "e.shipments FROM excursions e "
    "JOIN network_nodes n ON n.id = e.node_id JOIN sensors s ON s.id = e.sensor_id";

}  // namespace

const ClassLimits& ExcursionRules::of(TemperatureClass temperature_class) const {
  switch (temperature_class) {
    case TemperatureClass::chilled: return chilled;
    case TemperatureClass::frozen: return frozen;
    case TemperatureClass::ambient: break;
  }
  return ambient;
}

std::span<const db::Migration> telemetry_migrations() { return kMigrations; }

Status register_vehicle_sensor(db::Session& tx, std::string_view sensor_code, std::int64_t link_id,
                               const Clock& clock) {
  if (sensor_code.empty() || sensor_code.size() > 40)
    return make_error(ErrorKind::invalid, "invalid_code", "a sensor code is 1 to 40 bytes",
                      "sensor_code");
  auto link =
      CUNHUO_TRY(tx.query_one("SELECT from_node FROM network_links WHERE id = ?", {link_id}));
  if (!link)
    return make_error(ErrorKind::not_found, "unknown_link", "no link " + std::to_string(link_id),
                      "link_id");
  auto added =
      tx.exec("INSERT INTO sensors (sensor_code, node_id, link_id, created_at) VALUES (?, ?, ?, ?)",
              {sensor_code, link->i64(0), link_id, clock.now_ms()});
  if (!added.ok() && added.error().code == db::kDuplicate)
    return make_error(ErrorKind::conflict, "duplicate_code", "a sensor with this code exists",
                      "sensor_code");
  if (!added.ok()) return added.error();
  return {};
}

Status register_sensor(db::Session& tx, std::string_view sensor_code, std::string_view node_code,
                       const Clock& clock) {
  if (sensor_code.empty() || sensor_code.size() > 40)
    return make_error(ErrorKind::invalid, "invalid_code", "a sensor code is 1 to 40 bytes",
                      "sensor_code");
  auto node = CUNHUO_TRY(find_node(tx, node_code));
  if (!node)
    return make_error(ErrorKind::not_found, "unknown_node", "no node " + std::string(node_code),
                      "node_code");
  auto added = tx.exec("INSERT INTO sensors (sensor_code, node_id, created_at) VALUES (?, ?, ?)",
                       {sensor_code, node->id.value, clock.now_ms()});
  if (!added.ok() && added.error().code == db::kDuplicate)
    return make_error(ErrorKind::conflict, "duplicate_code", "a sensor with this code exists",
                      "sensor_code");
  if (!added.ok()) return added.error();
  return {};
}

namespace {

std::string device_key_hash(std::string_view key) {
  unsigned char digest[32];
  crypto_generichash(digest, sizeof digest, reinterpret_cast<const unsigned char*>(key.data()),
                     key.size(), nullptr, 0);
  char hex[sizeof digest * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  return hex;
}

}  // namespace

// The key is random, so a fast hash keeps it as safe as a slow one would: there is
// nothing to guess.
Result<std::string> rotate_device_key(db::Session& tx, std::string_view sensor_code) {
  if (sodium_init() < 0)
    return make_error(ErrorKind::internal, "no_random", "libsodium did not start");
  unsigned char raw[kDeviceKeyBytes];
  randombytes_buf(raw, sizeof raw);
  char hex[sizeof raw * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
  const std::string key = hex;
  auto changed = CUNHUO_TRY(tx.exec("UPDATE sensors SET device_key_hash = ? WHERE sensor_code = ?",
                                    {device_key_hash(key), sensor_code}));
  if (changed.affected_rows == 0)
    return make_error(ErrorKind::not_found, "unknown_sensor",
                      "no sensor " + std::string(sensor_code), "sensor_code");
  return key;
}

Result<std::optional<std::string>> sensor_of_device_key(db::Session& s, std::string_view key) {
  if (key.size() != kDeviceKeyBytes * 2) return std::optional<std::string>();
  auto r = CUNHUO_TRY(s.query_one("SELECT sensor_code FROM sensors WHERE device_key_hash = ?",
                                  {device_key_hash(key)}));
  if (!r) return std::optional<std::string>();
  return std::optional<std::string>(r->str(0));
}

Result<std::optional<SensorPlace>> find_sensor(db::Session& s, std::string_view sensor_code) {
  auto r =
      CUNHUO_TRY(s.query_one("SELECT s.sensor_code, n.code, n.region_code FROM sensors s "
                             "JOIN network_nodes n ON n.id = s.node_id WHERE s.sensor_code = ?",
                             {sensor_code}));
  if (!r) return std::optional<SensorPlace>();
  return std::optional<SensorPlace>(SensorPlace{r->str(0), r->str(1), r->str(2)});
}

Result<std::vector<Reading>> readings_from_json(std::string_view body) {
  const Json doc = CUNHUO_TRY(Json::parse(body));
  auto root = CUNHUO_TRY(FieldReader::root(doc));
  CUNHUO_CHECK(root.only({"readings"}));
  std::vector<Reading> out;
  for (const auto& r : CUNHUO_TRY(root.objects("readings", kMaxReadingsPerBatch))) {
    CUNHUO_CHECK(r.only({"sensor", "at_ms", "centi"}));
    out.push_back(Reading{CUNHUO_TRY(r.string("sensor", 40)),
                          CUNHUO_TRY(r.integer("at_ms", INT64_MIN, INT64_MAX)),
                          static_cast<int>(CUNHUO_TRY(r.integer("centi", INT32_MIN, INT32_MAX)))});
  }
  return out;
}

Status check_readings(std::span<const Reading> readings) {
  if (readings.size() > kMaxReadingsPerBatch)
    return make_error(ErrorKind::too_large, "batch_too_large", "at most 50000 readings in a batch",
                      "readings");
  for (std::size_t i = 0; i < readings.size(); ++i) {
    const auto& r = readings[i];
    const std::string field = "readings[" + std::to_string(i) + "]";
    if (r.sensor.empty() || r.sensor.size() > 40)
      return make_error(ErrorKind::invalid, "invalid_sensor", "a sensor code is 1 to 40 bytes",
                        field + ".sensor");
    if (r.centi < kMinCenti || r.centi > kMaxCenti)
      return make_error(ErrorKind::invalid, "absurd_value",
                        "a temperature between -80.00 and +80.00 degrees, in hundredths",
                        field + ".centi");
    if (r.at_ms < 1'500'000'000'000 || r.at_ms > 4'000'000'000'000)
      return make_error(ErrorKind::invalid, "absurd_time",
                        "a time in milliseconds since 1970, after 2017", field + ".at_ms");
  }
  return {};
}

Result<IngestReport> ingest(db::Session& tx, std::span<const Reading> readings,
                            const ReadingSender& sender, const ExcursionRules& rules,
                            const Clock& clock) {
  CUNHUO_CHECK(check_readings(readings));
  IngestReport report;
  const auto sensors = CUNHUO_TRY(load_sensors(tx));
  const std::int64_t now = clock.now_ms();
  std::map<std::string, std::vector<Reading>> by_sensor;
  for (std::size_t i = 0; i < readings.size(); ++i) {
    const Reading& r = readings[i];
    auto found = sensors.find(r.sensor);
    if (found == sensors.end()) {
      ++report.unknown_sensor;
    } else if (!answers_for(sender, r.sensor, found->second)) {
      report.refused.push_back({i, "not_your_sensor", "you do not report for sensor " + r.sensor});
    } else if (r.at_ms > now + kMaxReadingAheadMs) {
      report.refused.push_back(
          {i, "future_time", "a reading more than 5 minutes ahead of the present"});
    } else {
      by_sensor[r.sensor].push_back(r);
    }
  }
  for (auto& [code, list] : by_sensor)
    CUNHUO_CHECK(ingest_sensor(tx, sensors.at(code), list, rules, clock, report));
  return report;
}

Result<std::vector<std::int64_t>> check_silence(db::Session& tx, const ExcursionRules& rules,
                                                const Clock& clock) {
  std::vector<std::int64_t> opened;
  const auto now = clock.now_ms();
  for (const auto& [code, sensor] : CUNHUO_TRY(load_sensors(tx))) {
    if (sensor.last_at > now - rules.silence_ms) continue;
    auto parcels = CUNHUO_TRY(parcels_near(tx, sensor));
    if (parcels.empty()) continue;
    std::vector<std::int64_t> ids;
    for (const auto& p : parcels) ids.push_back(p.shipment_id);
    const Alarm alarm{
        "silent",
        "sensor " + code + " has not reported since " +
            (sensor.last_at > 0 ? format_utc(sensor.last_at) : std::string("it was installed")),
        sensor.last_at};
    if (auto id = CUNHUO_TRY(open_excursion(tx, sensor, alarm, ids, clock))) opened.push_back(*id);
  }
  return opened;
}

Result<std::vector<Excursion>> excursions_in(db::Session& s, std::string_view region_code,
                                             std::string_view status) {
  std::vector<Excursion> out;
  for (const auto& r : CUNHUO_TRY(
           s.query(std::string("SELECT ") + kExcursionColumns +
                       " WHERE n.region_code LIKE ? AND e.status = ? ORDER BY e.id DESC LIMIT 200",
                   {std::string(region_code) + "%", status})))
    out.push_back(CUNHUO_TRY(excursion_from(r)));
  return out;
}

Result<std::optional<Excursion>> find_excursion(db::Session& s, std::int64_t id) {
  auto r =
      CUNHUO_TRY(s.query_one(std::string("SELECT ") + kExcursionColumns + " WHERE e.id = ?", {id}));
  if (!r) return std::optional<Excursion>();
  return std::optional<Excursion>(CUNHUO_TRY(excursion_from(*r)));
}

Result<ColdChainRecord> cold_chain_of(db::Session& s, std::int64_t shipment_id) {
  ColdChainRecord out;
  if (auto r = CUNHUO_TRY(
          s.query_one("SELECT out_ms FROM parcel_exposure WHERE shipment_id = ?", {shipment_id})))
    out.out_of_range_ms = r->i64(0);
  for (const auto& r : CUNHUO_TRY(s.query(
           std::string("SELECT ") + kExcursionColumns +
               " JOIN excursion_shipments x ON x.excursion_id = e.id WHERE x.shipment_id = ? "
               "ORDER BY e.id",
           {shipment_id})))
    out.excursions.push_back(CUNHUO_TRY(excursion_from(r)));
  return out;
}

Result<Excursion> decide_excursion(db::Session& tx, std::int64_t id, bool spoiled,
                                   const Clock& clock) {
  auto e = CUNHUO_TRY(find_excursion(tx, id));
  if (!e) return make_error(ErrorKind::not_found, "not_found", "no such excursion", "id");
  if (e->status != "open")
    return make_error(ErrorKind::conflict, "already_decided", "this excursion was " + e->status,
                      "id");
  for (auto shipment : e->shipments) {
    auto st = spoiled ? mark_spoiled(tx, shipment, "logistics", clock)
                      : release_hold(tx, shipment, clock);
    if (!st.ok() && st.error().code != "not_held")
      return st.error();  // a parcel decided by another excursion stays as it is
  }
  e->status = spoiled ? "spoiled" : "released";
  CUNHUO_TRY(tx.exec("UPDATE excursions SET status = ? WHERE id = ?", {e->status, id}));
  const ExcursionDecided decided{
      .excursion_id = id, .node_code = e->node_code, .verdict = e->status};
  CUNHUO_TRY(outbox::publish(tx, kExcursionDecided, decided.encode(), clock));
  return std::move(*e);
}

std::string ExcursionRaised::encode() const {
  JsonWriter w;
  w.begin_object().field("excursion_id", excursion_id).field("node", node_code);
  w.field("kind", kind).end_object();
  return w.take();
}

Result<ExcursionRaised> ExcursionRaised::decode(std::string_view payload) {
  const auto p = CUNHUO_TRY(outbox::PayloadReader::parse("ExcursionRaised", payload));
  return ExcursionRaised{.excursion_id = CUNHUO_TRY(p.integer("excursion_id")),
                         .node_code = CUNHUO_TRY(p.string("node")),
                         .kind = CUNHUO_TRY(p.string("kind"))};
}

std::string ExcursionDecided::encode() const {
  JsonWriter w;
  w.begin_object().field("excursion_id", excursion_id).field("node", node_code);
  w.field("verdict", verdict).end_object();
  return w.take();
}

Result<ExcursionDecided> ExcursionDecided::decode(std::string_view payload) {
  const auto p = CUNHUO_TRY(outbox::PayloadReader::parse("ExcursionDecided", payload));
  return ExcursionDecided{.excursion_id = CUNHUO_TRY(p.integer("excursion_id")),
                          .node_code = CUNHUO_TRY(p.string("node")),
                          .verdict = CUNHUO_TRY(p.string("verdict"))};
}

}  // namespace cunhuo::logistics
