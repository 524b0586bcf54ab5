// The order lists at province scale: fills a store with ORDERS orders (1,000,000 by
// default) of 5,000 shops in 80 counties (16 townships of 12 villages each), one big
// shop selling 8 % of them, by bulk multi-row INSERTs straight into the orders table
// (the list reads only that table: lines, shops and accounts are not needed), then times
// the real list (storefront::order_list_answer, as GET /api/v1/orders runs it: filters
// read, cursor opened and sealed, the recipient masked by policy, the JSON written):
//   - the county centre's list filtered by status, a date range and a village;
//   - a shop manager's to-pack list;
// each on its first page (random villages and shops), and on pages 10 and 1000 of the big
// shop's (reached by walking the cursors).
//   lists_bench STORE_URL [orders] [deep page (1000; fewer orders: one per 1,000 orders)]
// Prints BENCH orders_list_p50_us / orders_list_p99_us over every timed call, the same
// per list and depth (the deep page reported as page_1000), the same in the calling thread's
// CPU time (cpu_), an empty read transaction timed after each call (empty_read_: the floor
// the store's round trips and a busy machine set), the fill time, and each statement's plan.
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "core/db/database.hpp"
#include "core/db/migrations.hpp"
#include "core/json.hpp"
#include "core/outbox/outbox.hpp"
#include "marketplace/order_lists.hpp"
#include "storefront/cursor.hpp"
#include "storefront/list_routes.hpp"

using namespace cunhuo;
using Steady = std::chrono::steady_clock;
namespace mk = cunhuo::marketplace;

namespace {

constexpr int kCounties = 80, kTownships = 16, kVillagesPerTownship = 12;
constexpr int kShops = 5000;
constexpr int kBigShopPercent = 8;
constexpr std::int64_t kDayMs = 86'400'000;
constexpr std::int64_t kDays = 90;  // orders spread over the last 90 days
constexpr int kCallsPerSample = 300;
constexpr std::int64_t kChunk = 20'000;  // orders per transaction
constexpr int kSqliteCacheKib = 512 * 1024;

void must(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "%s failed\n", what);
    std::exit(1);
  }
}

std::string county_code(int c) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "62%02d%02d", 1 + c / 6, 21 + c % 6);
  return buf;
}

std::string village_code(int v) {
  const int county = v / (kTownships * kVillagesPerTownship);
  const int township = (v / kVillagesPerTownship) % kTownships;
  const int village = v % kVillagesPerTownship;
  return county_code(county) + std::to_string(100 + township) + std::to_string(200 + village);
}

constexpr int kVillages = kCounties * kTownships * kVillagesPerTownship;

// Each shop sits in a village; shop 1 is the big one.
int village_of_shop(int shop) { return (shop * 7919) % kVillages; }

// The life of the orders: most completed, a tenth waiting to be packed.
const char* pick_status(std::mt19937_64& rng, bool big) {
  const int r = static_cast<int>(rng() % 100);
  if (big) return r < 40 ? "paid" : r < 45 ? "pending_payment" : "completed";
  if (r < 5) return "pending_payment";
  if (r < 15) return "paid";
  if (r < 25) return "packed";
  if (r < 35) return "shipped";
  if (r < 45) return "delivered";
  if (r < 95) return "completed";
  if (r < 98) return "cancelled";
  return "refunded";
}

Status insert_rows(db::Session& tx, const std::string& head, int columns,
                   const std::vector<db::Value>& values) {
  constexpr int kRows = 100;
  const std::string one = "(" + db::placeholders(static_cast<std::size_t>(columns)) + ")";
  std::string many = head;
  for (int r = 0; r < kRows; ++r) many += (r ? ", " : "") + one;
  const std::size_t per = static_cast<std::size_t>(columns), block = per * kRows;
  std::size_t at = 0;
  for (; at + block <= values.size(); at += block)
    CUNHUO_TRY(tx.exec_with(many, std::span<const db::Value>(values.data() + at, block)));
  for (; at < values.size(); at += per)
    CUNHUO_TRY(tx.exec_with(head + one, std::span<const db::Value>(values.data() + at, per)));
  return {};
}

// Orders go in directly, oldest first, in big transactions.
void fill(db::Database& db, std::int64_t orders, std::int64_t now) {
  std::mt19937_64 rng(20261207);
  const std::int64_t start = now - kDays * kDayMs, step = kDays * kDayMs / orders;
  for (std::int64_t from = 1; from <= orders; from += kChunk) {
    const std::int64_t to = std::min(orders, from + kChunk - 1);
    std::vector<db::Value> rows;
    rows.reserve(static_cast<std::size_t>(to - from + 1) * 18);
    for (std::int64_t id = from; id <= to; ++id) {
      const bool big = static_cast<int>(rng() % 100) < kBigShopPercent;
      const int shop = big ? 1 : 2 + static_cast<int>(rng() % (kShops - 1));
      const std::string village = village_code(village_of_shop(shop));
      const char* status = pick_status(rng, big);
      const std::int64_t created = start + id * step + static_cast<std::int64_t>(rng() % 1000);
      const bool paid =
          std::string_view(status) != "pending_payment" && std::string_view(status) != "cancelled";
      const std::int64_t total = 1000 + static_cast<std::int64_t>(rng() % 50'000);
      for (db::Value v :
           {db::Value(id), db::Value(id), db::Value(static_cast<std::int64_t>(rng() % 200'000)),
            db::Value(shop), db::Value(status), db::Value(total), db::Value("张三明"),
            db::Value("13711112222"), db::Value("兰州市城关区某路1号"), db::Value("620102"),
            db::Value(created), db::Value(created), db::Value(created + 900'000),
            db::Value(village), db::Value(village.substr(0, 6)),
            paid ? db::Value(created + static_cast<std::int64_t>(rng() % 1'800'000)) : db::Value(),
            db::Value(1 + static_cast<std::int64_t>(rng() % 3)), db::Value("民勤沙漠蜜瓜 5斤装")})
        rows.push_back(std::move(v));
    }
    must(db.write([&](db::Session& tx) -> Status {
             // Thirteen indexes take random inserts: SQLite keeps their pages in a big cache.
             if (tx.dialect() == db::Dialect::sqlite)
               CUNHUO_TRY(tx.exec("PRAGMA cache_size = -" + std::to_string(kSqliteCacheKib)));
             return insert_rows(tx,
                                "INSERT INTO orders (id, checkout_id, buyer_id, shop_id, status, "
                                "total_fen, ship_name, ship_phone, ship_address, ship_region, "
                                "created_at, updated_at, expires_at, shop_village, shop_county, "
                                "paid_at, item_count, first_title) VALUES ",
                                18, rows);
           }).ok(),
         "filling orders");
  }
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto at = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  return v[at];
}

// The calling thread's CPU time: what a call costs, without the time it waited for a core
// (on a busy machine a call is now and then descheduled for milliseconds).
double thread_cpu_us() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

struct Timer {
  std::vector<double> all, cpu, empty;

  // Times one list call; returns the answer's next_cursor ("" when none).
  std::string call(db::Database& db, const storefront::CursorSeal& seal,
                   const storefront::Account& who, const storefront::OrderListParams& p,
                   std::vector<double>* sample) {
    const auto t0 = Steady::now();
    const double c0 = thread_cpu_us();
    auto answer =
        db.read([&](db::Session& s) { return storefront::order_list_answer(s, seal, who, p); });
    const double us = std::chrono::duration<double, std::micro>(Steady::now() - t0).count();
    must(answer.ok(), "listing orders");
    if (sample) {
      sample->push_back(us);
      all.push_back(us);
      cpu.push_back(thread_cpu_us() - c0);
      empty.push_back(empty_read_us(db));
    }
    auto doc = Json::parse(*answer);
    const Json* next = doc->find("next_cursor");
    return next->type() == Json::Type::string ? next->as_string() : "";
  }

  // A read transaction of one trivial statement: what any call pays to reach the store.
  static double empty_read_us(db::Database& db) {
    const auto t0 = Steady::now();
    must(db.read([](db::Session& s) { return s.query("SELECT 1"); }).ok(), "reading nothing");
    return std::chrono::duration<double, std::micro>(Steady::now() - t0).count();
  }
};

std::string load_average() {
  std::FILE* f = std::fopen("/proc/loadavg", "r");
  if (f == nullptr) return "?\n";
  char line[128] = "?\n";
  if (std::fgets(line, sizeof line, f) == nullptr) line[0] = 0;
  std::fclose(f);
  return line;
}

void report(const char* name, const std::vector<double>& sample) {
  std::printf("BENCH orders_list_%s_p50_us %.0f\n", name, percentile(sample, 0.5));
  std::printf("BENCH orders_list_%s_p99_us %.0f\n", name, percentile(sample, 0.99));
}

// The cursor of page `page` (1: none), walking from the first.
storefront::OrderListParams at_page(Timer& t, db::Database& db, const storefront::CursorSeal& seal,
                                    const storefront::Account& who, storefront::OrderListParams p,
                                    int page) {
  for (int i = 1; i < page; ++i) {
    const std::string next = t.call(db, seal, who, p, nullptr);
    must(!next.empty(), "walking to a deep page (too few orders)");
    p.cursor = next;
  }
  return p;
}

void print_plan(db::Database& db, const mk::OrderListQuery& q, const char* name) {
  const auto st = mk::order_list_statement(q, db.dialect());
  const bool lite = db.dialect() == db::Dialect::sqlite;
  auto plan = db.read([&](db::Session& s) {
    return s.query_with((lite ? "EXPLAIN QUERY PLAN " : "EXPLAIN ") + st.sql, st.params);
  });
  must(plan.ok(), "explaining");
  std::string text;
  for (const auto& row : *plan) {
    for (std::size_t i = 0; i < row.size(); ++i) text += row.str(i) + " ";
    text += "| ";
  }
  std::printf("plan %s: %s\n", name, text.c_str());
  // One of the list indexes, read in its order: nothing sorted.
  must(text.find("orders_list_") != std::string::npos, "using a list index");
  must(text.find("TEMP B-TREE") == std::string::npos && text.find("filesort") == std::string::npos,
       "reading in index order");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: lists_bench STORE_URL [orders] [deep page]\n");
    return 2;
  }
  const std::int64_t orders = argc > 2 ? std::stoll(argv[2]) : 1'000'000;
  // The big shop has 3.2 % of the orders to pack, 20 a page: page 1000 needs 625,000 orders.
  const int deep = argc > 3 ? std::stoi(argv[3])
                            : static_cast<int>(std::clamp<std::int64_t>(orders / 1000, 11, 1000));
  auto opened = db::open_database(argv[1]);
  must(opened.ok(), "opening the store");
  auto& db = **opened;
  std::vector<db::Migration> all(outbox::migrations().begin(), outbox::migrations().end());
  for (const auto& m : mk::migrations()) all.push_back(m);
  must(db::migrate(db, all).ok(), "migrating");
  const std::int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  const auto t0 = Steady::now();
  fill(db, orders, now);
  std::printf("BENCH orders_list_fill_s %.1f\n",
              std::chrono::duration<double>(Steady::now() - t0).count());

  const auto seal = storefront::CursorSeal::random();
  std::mt19937_64 rng(7);
  auto date = [&](std::int64_t days_ago) {
    return format_date(shanghai_date(now - days_ago * kDayMs));
  };
  auto centre = [&](int village) {
    storefront::Account a;
    a.id = 1'000'000 + village / (kTownships * kVillagesPerTownship);
    a.role = storefront::Role::county_centre;
    a.region_code = village_code(village).substr(0, 6);
    return a;
  };
  auto manager = [&](int shop) {
    storefront::Account a;
    a.id = 2'000'000 + shop;
    a.role = storefront::Role::shop_manager;
    a.shop_id = shop;
    return a;
  };
  auto centre_params = [&](int village, std::int64_t from_days, std::int64_t to_days) {
    storefront::OrderListParams p;
    p.status = "paid";
    p.village = village_code(village);
    p.from = date(from_days);
    p.to = date(to_days);
    return p;
  };
  storefront::OrderListParams to_pack;
  to_pack.to_pack = "true";

  Timer t;
  std::vector<double> centre_first, centre_p10, centre_p1000, pack_first, pack_p10, pack_p1000;
  for (int i = 0; i < kCallsPerSample; ++i) {
    const int village = village_of_shop(2 + static_cast<int>(rng() % (kShops - 1)));
    const std::int64_t from = 20 + static_cast<std::int64_t>(rng() % 60);
    t.call(db, seal, centre(village), centre_params(village, from, from - 20), &centre_first);
    t.call(db, seal, manager(2 + static_cast<int>(rng() % (kShops - 1))), to_pack, &pack_first);
  }
  const int big_village = village_of_shop(1);
  const auto big_centre = centre(big_village);
  const auto big_manager = manager(1);
  for (const auto& [page, centre_sample, pack_sample] :
       {std::tuple{10, &centre_p10, &pack_p10}, std::tuple{deep, &centre_p1000, &pack_p1000}}) {
    const auto c = at_page(t, db, seal, big_centre, centre_params(big_village, kDays, 0), page);
    const auto p = at_page(t, db, seal, big_manager, to_pack, page);
    for (int i = 0; i < kCallsPerSample; ++i) {
      t.call(db, seal, big_centre, c, centre_sample);
      t.call(db, seal, big_manager, p, pack_sample);
    }
  }
  std::printf("BENCH orders_list_p50_us %.0f\n", percentile(t.all, 0.5));
  std::printf("BENCH orders_list_p99_us %.0f\n", percentile(t.all, 0.99));
  std::printf("BENCH orders_list_cpu_p50_us %.0f\n", percentile(t.cpu, 0.5));
  std::printf("BENCH orders_list_cpu_p99_us %.0f\n", percentile(t.cpu, 0.99));
  std::printf("BENCH orders_list_empty_read_p50_us %.0f\n", percentile(t.empty, 0.5));
  std::printf("BENCH orders_list_empty_read_p99_us %.0f\n", percentile(t.empty, 0.99));
  std::printf("load average at the end: %s", load_average().c_str());
  std::printf("deep page: %d (reported as page_1000)\n", deep);
  report("centre_first_page", centre_first);
  report("centre_page_10", centre_p10);
  report("centre_page_1000", centre_p1000);
  report("to_pack_first_page", pack_first);
  report("to_pack_page_10", pack_p10);
  report("to_pack_page_1000", pack_p1000);

  mk::OrderListQuery cq;
  cq.area = village_code(big_village);
  cq.status = mk::OrderStatus::paid;
  cq.from_ms = now - kDays * kDayMs;
  cq.to_ms = now;
  cq.after = std::vector<std::int64_t>{now - kDayMs, 500'000};
  print_plan(db, cq, "centre");
  mk::OrderListQuery pq;
  pq.shops = {mk::ShopId{1}};
  pq.to_pack = true;
  pq.after = std::vector<std::int64_t>{now - kDayMs, 500'000};
  print_plan(db, pq, "to_pack");
  return 0;
}
