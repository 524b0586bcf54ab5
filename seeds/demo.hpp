// The demo county "minqin": every township of Minqin County with its station, a few
// hundred households with archive cards, dozens of shops, about 150 listings with drawn
// photos, running campaigns, and 90 days of orders paid, shipped, delivered and settled
// through the modules' own functions and the outbox, on a manual clock moved hour by hour.
// Generated from a fixed random seed: the same every time. All of it is sample data.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/config.hpp"
#include "core/db/database.hpp"
#include "logistics/planner.hpp"

namespace cunhuo::seeds::demo {

inline constexpr std::string_view kName = "minqin";
inline constexpr std::uint64_t kRandomSeed = 20'261'207;
inline constexpr int kHistoryDays = kMaxDemoDays;
inline constexpr int kMinOrdersPerDay = 20, kMaxOrdersPerDay = 40;
inline constexpr int kTownships = 18;
inline constexpr int kGeneratedHouseholds = 240;  // besides the two the walkthrough uses
inline constexpr int kConsumers = 12;             // buyers besides 13900000003
inline constexpr int kListings = 150;

// The static part in the loader's format (seeds::load): the fixture's county, nodes, links,
// sensors, accounts and organisation, with every township, households, shops and buyers.
std::string county_json();
// The names of the county, its townships and villages by code, in the loader's format: the
// set "minqin:places:1", added after the county (a loaded set is never changed).
std::string places_json();

// The demo's ids are those of a store it fills alone: a store holding another seed set
// (the fixture) is refused ("store_not_fresh").
Status check_no_other_seed(db::Database& db);

// What the storefront lends the history (seeds do not depend on it).
struct Hooks {
  std::vector<std::int64_t> buyers;                  // consumer account ids
  std::function<Status(std::int64_t checkout)> pay;  // pays in the sandbox, notice applied
  std::function<Status()> drain;                     // runs the outbox now
  std::chrono::milliseconds payment_window{15 * 60'000};
  std::chrono::milliseconds auto_confirm{7LL * 86'400'000};
  int days = kHistoryDays;  // of order history, ending at end_ms (fewer: a quicker load)
};

struct Report {
  int listings = 0, photos = 0, campaigns = 0, days = 0, orders = 0;
};

// Listings, photos, campaigns, the days of orders and the open exceptions, each part
// recorded in seed_sets when done ("minqin:listings", "minqin:day:NN", ...), so a second
// start does nothing and a start after a crash resumes at the first part not recorded.
// The resume is exact: whatever point the crash hit, the load ends as an uninterrupted one
// does. Every listing, campaign, photo and checkout is kept under its key (a checkout's
// is its day and its number in the day) in seed_demo_parts, in the transaction that made
// it; day d's choices come from (seed, d), a buyer's after delivery from the order's key;
// campaigns' prices and parcels on their way are read back from the store, not memory.
// `pay` must finish a payment begun before (an open intent, a payment already confirmed).
// `clock` is moved from `hooks.days` days before `end_ms` to `end_ms`.
Result<Report> build(db::Database& db, ManualClock& clock, std::int64_t end_ms,
                     logistics::Planner& planner, const std::string& photo_folder,
                     const Hooks& hooks);

// The history a load of the demo spans: its last day's end and its number of days. A load
// begun before (cut short, then started again, perhaps days later or with another day
// count) keeps its own; a first load records `end_ms` and `days`.
struct HistorySpan {
  std::int64_t end_ms = 0;
  int days = kHistoryDays;
};
Result<HistorySpan> history_span(db::Database& db, HistorySpan proposed);

// A resident ID number (GB 11643): 17 digits and their check character.
std::string id_number(std::string_view region6, int birth_year, int month, int day, int serial,
                      bool female);

}  // namespace cunhuo::seeds::demo
