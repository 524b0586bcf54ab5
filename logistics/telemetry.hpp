// Temperature telemetry from cold stores and vehicles. Sensors post batches of readings
// (sensor id, time, hundredths of a degree). A parcel's exposure follows where it is: the
// readings of the sensors at its node count against its temperature class's range, with
// both alarms the cold-chain trade uses, configurable per class: one continuous violation
// longer than a limit, and time outside the range adding up over the journey beyond
// another. An alarm holds the parcels there and opens an excursion for the county
// centre; a sensor that stops reporting raises its own alarm. Readings repeated are kept
// once; readings that arrive late (a sensor buffering offline on a weak rural network)
// are evaluated in their place in time, re-opening or extending an exposure; readings
// from unknown sensors are counted and skipped. Each reading is taken only from a sender
// that answers for its sensor, and never from further in the future than clocks drift.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "core/db/migrations.hpp"
#include "core/temperature.hpp"

namespace cunhuo::logistics {

inline constexpr std::size_t kMaxReadingsPerBatch = 50'000;
inline constexpr int kMinCenti = -8000,
                     kMaxCenti = 8000;  // −80 °C to +80 °C; anything else is a broken sensor
// A sensor's clock may run a little ahead of ours; a reading further ahead is forged or
// from a broken clock, and taking it would file every real reading after it as late.
inline constexpr std::int64_t kMaxReadingAheadMs = 5 * 60'000;
// Device keys are 32 random bytes, shown once as hex; the store keeps only their hash.
inline constexpr std::size_t kDeviceKeyBytes = 32;

struct ClassLimits {
  int min_centi = INT32_MIN, max_centi = INT32_MAX;
  std::int64_t continuous_ms = INT64_MAX, cumulative_ms = INT64_MAX;
};

struct ExcursionRules {
  ClassLimits chilled{0, 800, 30 * 60'000, 60 * 60'000};           // 0–8 °C
  ClassLimits frozen{INT32_MIN, -1800, 15 * 60'000, 30 * 60'000};  // −18 °C or colder
  ClassLimits ambient{};                                           // no limits
  std::int64_t silence_ms =
      15 * 60'000;  // a sensor quiet this long while parcels wait raises an alarm
  std::int64_t max_gap_ms = 10 * 60'000;  // a reading stands for at most this long
  const ClassLimits& of(TemperatureClass temperature_class) const;
};

struct Reading {
  std::string sensor;
  std::int64_t at_ms = 0;
  int centi = 0;
};

// Who sends a batch: each reading is taken only for a sensor its sender answers for.
struct ReadingSender {
  bool anywhere = false;                        // admin
  std::optional<std::int64_t> node_id = {};     // a station operator: its own node's sensors
  std::optional<std::string> region_code = {};  // a county centre: its own county's sensors
  std::optional<std::string> sensor_code = {};  // a device key: exactly its own sensor
};

// A reading of the batch that was not taken, by its index in the batch.
struct RefusedReading {
  std::size_t index = 0;
  std::string code, message;  // future_time, not_your_sensor
};

struct IngestReport {
  std::size_t stored = 0, duplicates = 0, late = 0, unknown_sensor = 0;
  std::size_t checked = 0;  // stored readings evaluated against the parcels exposed to them
  std::vector<RefusedReading> refused;
  std::vector<std::int64_t> excursions;  // opened by this batch
};

struct Excursion {
  std::int64_t id = 0;
  std::string node_code, sensor_code, kind, status, detail;  // kind: continuous, cumulative, silent
  std::int64_t started_at_ms = 0, detected_at_ms = 0;
  std::vector<std::int64_t> shipments;
};

std::span<const db::Migration> telemetry_migrations();

// Published when an excursion opens, for whoever watches the cold chain.
inline constexpr const char* kExcursionRaised = "excursion.raised";
struct ExcursionRaised {
  std::int64_t excursion_id = 0;
  std::string node_code, kind;  // kind: continuous, cumulative, silent

  std::string encode() const;  // {"excursion_id", "node", "kind"}
  static Result<ExcursionRaised> decode(std::string_view payload);
  bool operator==(const ExcursionRaised&) const = default;
};

// Published when the centre decides an excursion: its parcels spoiled or released.
inline constexpr const char* kExcursionDecided = "excursion.decided";
struct ExcursionDecided {
  std::int64_t excursion_id = 0;
  std::string node_code, verdict;  // verdict: spoiled, released

  std::string encode() const;  // {"excursion_id", "node", "verdict"}
  static Result<ExcursionDecided> decode(std::string_view payload);
  bool operator==(const ExcursionDecided&) const = default;
};

Status register_sensor(db::Session& tx, std::string_view sensor_code, std::string_view node_code,
                       const Clock& clock);
// A sensor in the vehicle that serves a link: parcels riding it are exposed to it.
Status register_vehicle_sensor(db::Session& tx, std::string_view sensor_code, std::int64_t link_id,
                               const Clock& clock);
// {"readings":[{"sensor":"S1","at_ms":1790000000000,"centi":450}, ...]}, parsed with
// simdjson; errors name the field ("readings[3].centi").
Result<std::vector<Reading>> readings_from_json(std::string_view body);
// Checks every reading first (an absurd value refuses the whole batch, naming it).
Status check_readings(std::span<const Reading> readings);
// Stores and evaluates a batch. A reading for a sensor the sender does not answer for, or
// more than kMaxReadingAheadMs ahead of the clock, is refused on its own (in `refused`);
// the rest of the batch is stored.
Result<IngestReport> ingest(db::Session& tx, std::span<const Reading> readings,
                            const ReadingSender& sender, const ExcursionRules& rules,
                            const Clock& clock);
// A new device key for a sensor (the old one stops working): returned once, kept hashed.
Result<std::string> rotate_device_key(db::Session& tx, std::string_view sensor_code);
// The sensor a device key belongs to, if any.
Result<std::optional<std::string>> sensor_of_device_key(db::Session& s, std::string_view key);
// Where a sensor reports from: its node's code and region (for a vehicle sensor, where
// its link starts).
struct SensorPlace {
  std::string sensor_code, node_code, region_code;
};
Result<std::optional<SensorPlace>> find_sensor(db::Session& s, std::string_view sensor_code);
// Sensors gone quiet at nodes where parcels wait; returns the alarms opened.
Result<std::vector<std::int64_t>> check_silence(db::Session& tx, const ExcursionRules& rules,
                                                const Clock& clock);
Result<std::vector<Excursion>> excursions_in(db::Session& s, std::string_view region_code,
                                             std::string_view status);
Result<std::optional<Excursion>> find_excursion(db::Session& s, std::int64_t id);
// A parcel's cold chain as its sensors saw it: the time it spent outside its class's range
// and the excursions that held it (open, spoiled or released), oldest first.
struct ColdChainRecord {
  std::int64_t out_of_range_ms = 0;
  std::vector<Excursion> excursions;
};
Result<ColdChainRecord> cold_chain_of(db::Session& s, std::int64_t shipment_id);
// The centre's verdict: spoiled (the held parcels are refunded at logistics' cost) or
// not (they go on).
Result<Excursion> decide_excursion(db::Session& tx, std::int64_t id, bool spoiled,
                                   const Clock& clock);

}  // namespace cunhuo::logistics
