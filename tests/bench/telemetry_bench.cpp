// Telemetry benchmark on SQLite (synchronous=FULL), through the same code the HTTP route
// runs: JSON batches parsed with simdjson, then ingested with excursion detection.
// 400 cold stores with 2 sensors each and 5 chilled parcels waiting in each; every sensor
// reports every 30 s; batches of 5,000 readings from 4 writer threads (group commit)
// for SECONDS. Some stores run warm, so excursions open and parcels are held. Threads
// commit out of order, so a sensor's readings often arrive late: every one must still be
// checked, and every warm store must raise its excursion whatever order its readings
// came in (the run fails otherwise).
//   telemetry_bench STORE_URL [seconds]
// Prints BENCH telemetry_ingest_readings_per_s <n> and BENCH telemetry_readings_checked <n>.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/db/database.hpp"
#include "core/outbox/outbox.hpp"
#include "logistics/module.hpp"
#include "logistics/network.hpp"
#include "logistics/planner.hpp"
#include "logistics/shipments.hpp"
#include "logistics/telemetry.hpp"

using namespace cunhuo;
using namespace cunhuo::logistics;
using Steady = std::chrono::steady_clock;

namespace {

constexpr int kStores = 400, kSensorsPerStore = 2, kParcelsPerStore = 5, kBatch = 5000;
constexpr int kWarmEvery = 50;             // one store in 50 runs warm
constexpr std::int64_t kRoundMs = 30'000;  // every sensor reports every 30 s

void must(const Status& st, const char* what) {
  if (!st.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, st.error().message.c_str());
    std::exit(1);
  }
}

std::unique_ptr<db::Database> open_store(const std::string& url) {
  auto db = db::open_database(url);
  if (!db.ok()) std::exit(1);
  std::vector<db::Migration> all(outbox::migrations().begin(), outbox::migrations().end());
  for (const auto& m : logistics::migrations()) all.push_back(m);
  if (!db::migrate(**db, all).ok()) std::exit(1);
  return std::move(*db);
}

void build_network(db::Database& db, const Clock& clock) {
  Planner planner(db, ColdChainRules{});
  must(db.write([&](db::Session& tx) -> Status {
    CUNHUO_TRY(create_node(tx,
                           NewNode{"HUB", NodeKind::city_hub, "hub", "620100", 0, std::nullopt,
                                   std::nullopt, std::nullopt, std::nullopt},
                           clock));
    for (int s = 0; s < kStores; ++s) {
      const std::string code = "CS-" + std::to_string(s);
      CUNHUO_TRY(
          create_node(tx,
                      NewNode{code, NodeKind::cold_store, "store " + std::to_string(s), "620621",
                              1000, std::nullopt, std::nullopt, std::nullopt, std::nullopt},
                      clock));
      CUNHUO_TRY(create_link(
          tx, NewLink{code, "HUB", "refrigerated_trunk", true, 240, 9000, "Mon-Sun 20:00"}, clock));
      for (int k = 0; k < kSensorsPerStore; ++k)
        CUNHUO_CHECK(register_sensor(tx, code + "-T" + std::to_string(k), code, clock));
    }
    return {};
  }),
       "network");
  must(db.write([&](db::Session& tx) -> Status {
    for (int s = 0; s < kStores; ++s)
      for (int p = 0; p < kParcelsPerStore; ++p) {
        const std::string code = "CS-" + std::to_string(s);
        const NewShipment parcel{.order_id = s * 100 + p,
                                 .origin_code = code,
                                 .destination_code = "HUB",
                                 .temperature_class = TemperatureClass::chilled,
                                 .ready_at_ms = clock.now_ms()};
        auto sh = CUNHUO_TRY(create_shipment(tx, planner, parcel, clock));
        CUNHUO_TRY(record_scan(tx, planner, sh.tracking_number,
                               ScanInput{code, "storing", "in_progress", 0}, "bench", clock));
      }
    return {};
  }),
       "parcels");
}

// Batch n: readings from consecutive sensors at consecutive 30 s rounds; one store in 50
// runs at 11 °C.
std::string batch_json(std::int64_t n, std::int64_t start_ms) {
  const int sensors = kStores * kSensorsPerStore;
  std::string body = R"({"readings":[)";
  body.reserve(kBatch * 64);
  for (int i = 0; i < kBatch; ++i) {
    const std::int64_t k = n * kBatch + i;
    const int sensor = static_cast<int>(k % sensors);
    const std::int64_t round = k / sensors;
    const int store = sensor / kSensorsPerStore;
    const int centi = store % kWarmEvery == 0 ? 1100 : 300 + static_cast<int>(k % 200);
    if (i) body += ',';
    body += R"({"sensor":"CS-)" + std::to_string(store) + "-T" +
            std::to_string(sensor % kSensorsPerStore) + R"(","at_ms":)" +
            std::to_string(start_ms + round * kRoundMs) + R"(,"centi":)" + std::to_string(centi) +
            "}";
  }
  return body + "]}";
}

// The warm stores whose every sensor has been warm longer than the chilled limit allows,
// after the first `batches` batches: each must have an excursion open.
std::set<std::string> stores_that_must_alarm(std::int64_t batches, const ExcursionRules& rules) {
  std::set<std::string> out;
  const int sensors = kStores * kSensorsPerStore;
  for (int store = 0; store < kStores; store += kWarmEvery) {
    bool all_long = true;
    for (int k = 0; k < kSensorsPerStore; ++k) {
      const std::int64_t sensor = store * kSensorsPerStore + k;
      const std::int64_t last_round = (batches * kBatch - 1 - sensor) / sensors;
      all_long = all_long && last_round * kRoundMs > rules.chilled.continuous_ms + kRoundMs;
    }
    if (all_long) out.insert("CS-" + std::to_string(store));
  }
  return out;
}

// Checks what the run left behind: every reading stored was checked, the warm stores
// raised their excursions and no other store did.
bool verify(db::Database& db, std::int64_t batches, std::int64_t stored, std::int64_t checked,
            const ExcursionRules& rules) {
  std::set<std::string> alarmed;
  auto listed = db.read([&](db::Session& s) { return excursions_in(s, "", "open"); });
  if (!listed.ok()) return false;
  for (const auto& e : *listed) alarmed.insert(e.node_code);
  const auto expected = stores_that_must_alarm(batches, rules);
  bool ok = checked == stored;
  if (!ok)
    std::fprintf(stderr, "%lld readings stored, %lld checked\n", static_cast<long long>(stored),
                 static_cast<long long>(checked));
  for (const auto& store : expected)
    if (!alarmed.contains(store)) {
      std::fprintf(stderr, "warm store %s raised no excursion\n", store.c_str());
      ok = false;
    }
  for (const auto& store : alarmed)
    if (std::stoi(store.substr(3)) % kWarmEvery != 0) {
      std::fprintf(stderr, "store %s is cold but raised an excursion\n", store.c_str());
      ok = false;
    }
  std::printf("%zu warm stores must have alarmed, %zu stores did\n", expected.size(),
              alarmed.size());
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: telemetry_bench STORE_URL [seconds]\n");
    return 2;
  }
  const int seconds = argc > 2 ? std::stoi(argv[2]) : 10;
  auto db = open_store(argv[1]);
  SystemClock clock;
  build_network(*db, clock);
  ExcursionRules rules;
  const std::int64_t start_ms =
      clock.now_ms() - 30LL * 24 * 3600 * 1000;  // a month ago, moving forward
  // Bodies are made before the clock starts: the client's work is not the server's.
  std::vector<std::string> bodies;
  const int prepared = 200 * seconds;  // more than the store can take in that time
  for (int n = 0; n < prepared; ++n) bodies.push_back(batch_json(n, start_ms));
  std::atomic<int> next{0};
  std::atomic<bool> stop{false};
  std::atomic<std::int64_t> stored{0}, checked{0}, late{0}, excursions{0}, done{0};
  std::vector<std::thread> writers;
  const auto t0 = Steady::now();
  for (int w = 0; w < 4; ++w)
    writers.emplace_back([&] {
      // Batches go in order per store, as gateways send them; threads take turns.
      for (int n = next++; n < prepared && !stop.load(); n = next++) {
        auto readings = readings_from_json(bodies[static_cast<std::size_t>(n)]);
        if (!readings.ok()) std::exit(1);
        auto report = db->write([&](db::Session& tx) {
          return ingest(tx, *readings, ReadingSender{.anywhere = true}, rules, clock);
        });
        if (!report.ok()) {
          std::fprintf(stderr, "ingest: %s\n", report.error().message.c_str());
          std::exit(1);
        }
        stored += static_cast<std::int64_t>(report->stored);
        checked += static_cast<std::int64_t>(report->checked);
        late += static_cast<std::int64_t>(report->late);
        ++done;
        excursions += static_cast<std::int64_t>(report->excursions.size());
      }
    });
  std::thread timer([&] {
    for (int tenth = 0; tenth < seconds * 10 && next.load() < prepared; ++tenth)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    stop = true;
  });
  for (auto& t : writers) t.join();
  timer.join();
  const double s = std::chrono::duration<double>(Steady::now() - t0).count();
  std::printf(
      "telemetry on sqlite: %lld readings (%lld of them late) from %d sensors in %.2f s, batches "
      "of %d; "
      "%lld excursions opened\n",
      static_cast<long long>(stored.load()), static_cast<long long>(late.load()),
      kStores * kSensorsPerStore, s, kBatch, static_cast<long long>(excursions.load()));
  std::printf("BENCH telemetry_ingest_readings_per_s %.0f\n",
              static_cast<double>(stored.load()) / s);
  std::printf("BENCH telemetry_readings_checked %lld\n", static_cast<long long>(checked.load()));
  // Batches are taken in order and each taken one finishes: the first `done` went in.
  return verify(*db, done.load(), stored.load(), checked.load(), rules) ? 0 : 1;
}
