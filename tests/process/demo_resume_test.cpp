// The demo county's load killed with SIGKILL at chosen points and started again: it ends
// as an uninterrupted load does. The load kills itself at its Nth statement
// (CUNHUO_DEMO_KILL_AT, storefront/demo_seed.cpp), so the crash lands at the same point
// whatever the machine's speed; a short history (--demo-days) keeps each load quick.
#include <sys/wait.h>

#include <cstdlib>
#include <map>

#include "tests/support/support.hpp"

using namespace cunhuo;
using namespace cunhuo::test;

namespace {

constexpr int kDays = 5;            // of order history: about 130 orders, 45,000 statements
constexpr int kLoadTimeoutS = 300;  // one load, in a Debug build on a busy machine
constexpr int kKilled = 128 + 9;    // the exit status of a process killed by SIGKILL
constexpr std::int64_t kDayMs = 86'400'000;

// Runs `cunhuo migrate` (which loads the seed, as `serve` does, then exits) with the demo
// county on `db_url`; `kill_at` > 0 kills it at that statement. Returns its exit status.
int load_demo(const std::string& db_url, const std::string& dir, std::int64_t kill_at) {
  const std::string command =
      "CUNHUO_DEMO_KILL_AT=" + std::to_string(kill_at) + " timeout " +
      std::to_string(kLoadTimeoutS) + " '" CUNHUO_BINARY "' migrate --db '" + db_url +
      "' --seed minqin --demo-days " + std::to_string(kDays) + " --data-dir '" + dir +
      "' --log-level warn >>'" + dir + "/load.log' 2>&1";
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::vector<std::string> rows(db::Database& db, const std::string& sql) {
  auto r = db.read([&](db::Session& s) { return s.query(sql); });
  REQUIRE(r.ok());
  std::vector<std::string> out;
  for (const auto& row : *r) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i)
      line += (i ? "|" : "") + (row.is_null(i) ? std::string("null") : row.str(i));
    out.push_back(line);
  }
  return out;
}

// What the load leaves: orders and their money, statuses, parcels, payments and ledger.
struct EndState {
  std::vector<std::string> orders, statuses, shipments, intents, ledger, per_day, listings;
  std::vector<std::string> history;  // orders' status changes and parcels' times
  std::int64_t distinct_order_keys = 0;
};

EndState end_state(db::Database& db) {
  EndState e;
  e.orders = rows(db, "SELECT COUNT(*), SUM(total_fen) FROM orders");
  e.statuses = rows(db,
                    "SELECT status, COUNT(*), SUM(total_fen) FROM orders GROUP BY status "
                    "ORDER BY status");
  e.shipments = rows(db, "SELECT status, COUNT(*) FROM shipments GROUP BY status ORDER BY status");
  e.intents = rows(db,
                   "SELECT status, COUNT(*), SUM(amount_fen) FROM payment_intents "
                   "GROUP BY status ORDER BY status");
  e.ledger = rows(db,
                  "SELECT kind, state, COUNT(*), SUM(amount) FROM ledger_transfers "
                  "GROUP BY kind, state ORDER BY kind, state");
  e.listings = rows(db, "SELECT COUNT(*), SUM(price_fen) FROM products");
  // When things happened, from the first order on: a step redone later shows here.
  const std::string since = " - (SELECT MIN(created_at) FROM orders)";
  e.history = rows(db, "SELECT to_status, COUNT(*), SUM(at" + since +
                           ") FROM order_events GROUP BY to_status ORDER BY to_status");
  const auto parcels = rows(db, "SELECT COUNT(*), SUM(ready_at" + since +
                                    "), SUM(COALESCE(eta, 0)" + since + ") FROM shipments");
  e.history.insert(e.history.end(), parcels.begin(), parcels.end());
  // Orders per day of the history, counted from the first order's day.
  auto times = db.read([](db::Session& s) {
    return s.query("SELECT created_at, total_fen FROM orders ORDER BY created_at");
  });
  REQUIRE(times.ok());
  std::map<std::int64_t, std::pair<int, std::int64_t>> days;
  const std::int64_t first = times->empty() ? 0 : (*times)[0].i64(0) / kDayMs;
  for (const auto& r : *times) {
    auto& day = days[r.i64(0) / kDayMs - first];
    ++day.first;
    day.second += r.i64(1);
  }
  for (const auto& [d, v] : days)
    e.per_day.push_back(std::to_string(d) + ": " + std::to_string(v.first) + " orders, " +
                        std::to_string(v.second) + " fen");
  auto keys = db.read([](db::Session& s) {
    return s.query_one(
        "SELECT COUNT(DISTINCT ref_id) FROM seed_demo_parts WHERE kind = 'checkout'");
  });
  REQUIRE(keys.ok());
  e.distinct_order_keys = (*keys)->i64(0);
  return e;
}

void check_same(const EndState& resumed, const EndState& whole) {
  CHECK(resumed.orders == whole.orders);
  CHECK(resumed.per_day == whole.per_day);
  CHECK(resumed.statuses == whole.statuses);
  CHECK(resumed.listings == whole.listings);
  CHECK(resumed.intents == whole.intents);
  CHECK(resumed.shipments == whole.shipments);
  CHECK(resumed.ledger == whole.ledger);
  CHECK(resumed.history == whole.history);
  CHECK(resumed.distinct_order_keys == whole.distinct_order_keys);
}

}  // namespace

STORE_TEST("the demo county's load killed at any point and started again ends as a whole load",
           "[process][demo]") {
  TestStore whole(store_kind);
  const std::string whole_dir = temp_dir();
  REQUIRE(load_demo(whole.url(), whole_dir, 0) == 0);
  const EndState expected = end_state(whole.db());
  REQUIRE(!expected.per_day.empty());
  INFO("whole load: " << expected.orders.front());
  CHECK(expected.distinct_order_keys ==
        std::stoll(expected.orders.front().substr(0, expected.orders.front().find('|'))));

  // Each row: where the successive runs are killed (statements counted from each run's
  // start), before one last run finishes the load.
  struct Crashes {
    const char* where;
    std::vector<std::int64_t> kill_at;
  };
  const std::vector<Crashes> table = {
      {"while the listings and photos are made, then mid-history", {2'500, 20'000}},
      {"mid-history, then again in the resumed run", {30'001, 8'000}},
      {"between a step and the drain after it: its events left waiting", {40'404}},
      {"in the history's last day", {44'000}},
  };
  for (const auto& crashes : table) {  // not SECTIONs: the whole load runs once
    INFO("killed " << crashes.where);
    TestStore resumed(store_kind);
    const std::string dir = temp_dir();
    for (const auto at : crashes.kill_at) REQUIRE(load_demo(resumed.url(), dir, at) == kKilled);
    REQUIRE(load_demo(resumed.url(), dir, 0) == 0);
    check_same(end_state(resumed.db()), expected);
    // Started again once it is whole, it adds nothing.
    REQUIRE(load_demo(resumed.url(), dir, 0) == 0);
    check_same(end_state(resumed.db()), expected);
  }
}
