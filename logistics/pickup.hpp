// Daily pickup runs: a township station's vehicles collect the parcels waiting at its
// village service points, within vehicle capacity and each point's opening hours.
// Clarke and Wright's savings build the runs, then local search (2-opt within a run,
// moving a stop between runs) shortens them; a nearest-neighbour plan is kept as the
// baseline the savings plan is measured against.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/db/database.hpp"

namespace cunhuo::logistics {

struct PickupStop {
  double x_km = 0, y_km = 0;
  int crates = 0;
  int open_min = 8 * 60, close_min = 18 * 60;  // minutes of the day
  int service_min = 5;
};

struct PickupDepot {
  double x_km = 0, y_km = 0;
  int start_min = 7 * 60, end_min = 19 * 60;
};

struct PickupVehicle {
  int capacity_crates = 40;
  double speed_kmh = 30;
  double road_factor = 1.3;  // roads wind: straight-line distance times this
};

struct PickupRun {
  std::vector<int> stops;  // indexes into the stops, in visiting order
  double km = 0;
  int crates = 0, start_min = 0, end_min = 0;
};

struct PickupPlan {
  std::vector<PickupRun> runs;
  double total_km = 0;
  std::vector<int> unserved;  // stops no run can reach in time or carry
};

inline constexpr std::size_t kMaxPickupStops = 300;  // a township has dozens of villages

PickupPlan plan_pickups(const PickupDepot& depot, const std::vector<PickupStop>& stops,
                        const PickupVehicle& vehicle);
PickupPlan plan_nearest_neighbour(const PickupDepot& depot, const std::vector<PickupStop>& stops,
                                  const PickupVehicle& vehicle);

// Kilometres between two points given in microdegrees (equirectangular, good at a county's scale).
void to_km(std::int64_t lat_e6, std::int64_t lon_e6, double origin_lat_deg, double& x_km,
           double& y_km);

}  // namespace cunhuo::logistics

// ---- a station's day, from the store ------------------------------------------------

namespace cunhuo::logistics {

struct StationRun {
  std::vector<std::string> stops;  // village point codes in visiting order
  double km = 0;
  int crates = 0;
  std::string start, end;  // HH:MM
};

struct StationPickups {
  std::int64_t id = 0;
  std::string station_code, date;
  std::vector<StationRun> runs;
  std::vector<std::string> unserved;
  double total_km = 0, baseline_km = 0;  // savings with local search; nearest neighbour
  int parcels = 0;
};

// Published when a station's runs for a day are planned, in the same transaction, so the
// shops whose parcels wait at its village points get them ready.
inline constexpr const char* kPickupRunsPlanned = "pickup.planned";
struct PickupRunsPlanned {
  std::int64_t plan_id = 0;
  std::string station_code, date;  // date: YYYY-MM-DD

  std::string encode() const;  // {"plan_id", "station", "date"}
  static Result<PickupRunsPlanned> decode(std::string_view payload);
  bool operator==(const PickupRunsPlanned&) const = default;
};

// Plans the runs that collect, on `date`, the parcels waiting (planned, ready by the end
// of that day) at the village service points of `station_code`'s township, and keeps it.
Result<StationPickups> plan_station_pickups(db::Session& tx, std::string_view station_code,
                                            const LocalDate& date, const PickupVehicle& vehicle,
                                            const Clock& clock);

// The plans kept for a station's `date`, oldest first (each call of plan_station_pickups
// keeps one); `parcels` is what the runs carry, in crates.
inline constexpr std::int64_t kMaxPlansPerDay = 50;  // the newest this many are read
Result<std::vector<StationPickups>> station_pickups_on(db::Session& s,
                                                       std::string_view station_code,
                                                       const LocalDate& date);

// A stop of a run as the route sheet prints it: when the vehicle gets there (the run's
// start, the drive at the vehicle's speed, waiting for opening, service at each stop before)
// and the parcels waiting there now.
struct PickupSheetStop {
  std::string code, name;
  std::string arrive;                // HH:MM
  std::vector<std::string> parcels;  // tracking numbers
  int crates = 0;
};
Result<std::vector<std::vector<PickupSheetStop>>> pickup_sheet(db::Session& s,
                                                               const StationPickups& plan,
                                                               const PickupVehicle& vehicle);
// The parcels waiting to be collected at a village point, oldest first.
inline constexpr std::int64_t kMaxParcelsPerStop = 200;
Result<PickupSheetStop> parcels_at_point(db::Session& s, std::string_view point_code);

}  // namespace cunhuo::logistics
