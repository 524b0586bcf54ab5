// Exit scoring at province scale: generates HOUSEHOLDS households (four members each,
// card income, half of them with a year of settled platform sales) in a SQLite store,
// then re-scores them all through alleviation::rescore_all, storing every result.
//   exit_scoring_bench STORE_URL [households]
// Prints BENCH exit_rescore_1m_households_s <n> (scaled to 1,000,000) and
// BENCH exit_rescore_peak_rss_mb <n>.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <random>
#include <string>

#include "alleviation/module.hpp"
#include "alleviation/scores.hpp"
#include "core/db/database.hpp"
#include "core/outbox/outbox.hpp"
#include "marketplace/registry.hpp"
#include "payments/module.hpp"

using namespace cunhuo;
using Steady = std::chrono::steady_clock;

namespace {

// Resident memory now, from the kernel's own account.
long rss_mb() {
  std::FILE* f = std::fopen("/proc/self/status", "r");
  if (f == nullptr) return -1;
  char line[256];
  long kb = -1;
  while (std::fgets(line, sizeof line, f))
    if (std::sscanf(line, "VmRSS: %ld kB", &kb) == 1) break;
  std::fclose(f);
  return kb / 1024;
}

void must(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "%s failed\n", what);
    std::exit(1);
  }
}

// Rows go in through one prepared multi-row statement per table (a fixed number of rows
// each, so the statement is prepared once), the remainder row by row.
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

// Test data goes in directly; what is measured is the real re-scoring.
void generate(db::Database& db, std::int64_t households, std::int64_t now) {
  std::mt19937_64 rng(20261125);
  constexpr std::int64_t kChunk = 5000;
  for (std::int64_t from = 1; from <= households; from += kChunk) {
    const std::int64_t to = std::min(households, from + kChunk - 1);
    std::vector<db::Value> h, p, m, l;
    for (std::int64_t id = from; id <= to; ++id) {
      const std::string village = "62" + std::to_string(10 + id % 80) + "21" +
                                  std::to_string(100 + id % 16) + std::to_string(200 + id % 12);
      for (db::Value v : {db::Value(id), db::Value(village), db::Value("户主"),
                          db::Value("620621197803150013"), db::Value("13800000000"), db::Value(4),
                          db::Value("registered_poor"), db::Value(now), db::Value(now)})
        h.push_back(std::move(v));
      const std::int64_t wages = static_cast<std::int64_t>(rng() % 2'000'000),
                         business = rng() % 3 ? 0 : static_cast<std::int64_t>(rng() % 600'000);
      for (db::Value v :
           {db::Value(id), db::Value("illness"), db::Value(1000),
            db::Value(rng() % 10 ? "safe" : "unsafe"), db::Value(rng() % 12 ? "safe" : "unsafe"),
            db::Value(2025), db::Value(wages), db::Value(business), db::Value(0), db::Value(300000),
            db::Value("帮扶人"), db::Value("13600000000")})
        p.push_back(std::move(v));
      for (int k = 0; k < 4; ++k)
        for (db::Value v :
             {db::Value(id), db::Value(k), db::Value("成员"), db::Value(k ? "child" : "head"),
              db::Value(k == 3 ? 2015 : 1975 + k * 3), db::Value("healthy"),
              db::Value(k == 3 && rng() % 20 == 0 ? "none" : "junior"),
              db::Value("620621197803150013"), db::Value(rng() % 15 ? 1 : 0)})
          m.push_back(std::move(v));
      if (id % 2 == 0)
        for (int k = 0; k < 2; ++k)
          for (db::Value v :
               {db::Value(id), db::Value(id * 2 + k), db::Value(0), db::Value(1), db::Value("蜜瓜"),
                db::Value(1), db::Value(10000),
                db::Value(static_cast<std::int64_t>(50'000 + rng() % 300'000)), db::Value(1000),
                db::Value(static_cast<std::int64_t>(40'000 + rng() % 250'000)), db::Value(),
                db::Value(""),
                db::Value(now - static_cast<std::int64_t>(rng() % (300LL * 86'400'000)))})
            l.push_back(std::move(v));
    }
    must(db.write([&](db::Session& tx) -> Status {
             CUNHUO_CHECK(insert_rows(tx,
                                      "INSERT INTO households (id, village_code, head_name, "
                                      "head_id_number, phone, member_count, poverty_status, "
                                      "created_at, updated_at) VALUES ",
                                      9, h));
             CUNHUO_CHECK(insert_rows(tx,
                                      "INSERT INTO household_profiles (household_id, causes, "
                                      "land_mu_hundredths, housing, drinking_water, income_year, "
                                      "income_wages_fen, income_business_fen, income_property_fen, "
                                      "income_transfers_fen, helper_name, helper_phone) VALUES ",
                                      12, p));
             CUNHUO_CHECK(insert_rows(tx,
                                      "INSERT INTO household_members (household_id, position, "
                                      "name, relationship, birth_year, health, education, "
                                      "id_number, medical_insurance) VALUES ",
                                      9, m));
             return insert_rows(
                 tx,
                 "INSERT INTO settlement_lines (household_id, order_id, line_no, product_id, "
                 "title, quantity, share_bps, gross_fen, "
                 "fees_fen, net_fen, campaign_id, campaign_kind, settled_at) VALUES ",
                 13, l);
           }).ok(),
         "generating households");
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: exit_scoring_bench STORE_URL [households]\n");
    return 2;
  }
  const std::int64_t households = argc > 2 ? std::stoll(argv[2]) : 1'000'000;
  auto opened = db::open_database(argv[1]);
  must(opened.ok(), "opening the store");
  auto& db = **opened;
  std::vector<db::Migration> all(outbox::migrations().begin(), outbox::migrations().end());
  for (const auto& mg : marketplace::migrations()) all.push_back(mg);
  for (const auto& mg : payments::migrations()) all.push_back(mg);
  for (const auto& mg : alleviation::migrations()) all.push_back(mg);
  must(db::migrate(db, all).ok(), "migrating");
  SystemClock clock;
  const auto g0 = Steady::now();
  generate(db, households, clock.now_ms());
  std::printf("generated %lld households with 4 members each in %.1f s; resident %ld MB\n",
              static_cast<long long>(households),
              std::chrono::duration<double>(Steady::now() - g0).count(), rss_mb());
  const auto t0 = Steady::now();
  auto scored = alleviation::rescore_all(db, "", clock);
  const double s = std::chrono::duration<double>(Steady::now() - t0).count();
  must(scored.ok() && *scored == households, "re-scoring");
  auto eligible = db.read([](db::Session& r) {
    return r.query_one("SELECT COUNT(*) FROM evaluations WHERE exit_eligible = 1");
  });
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::printf(
      "re-scored %lld households in %.2f s (%lld may exit), every result stored; resident %ld MB\n",
      static_cast<long long>(*scored), s,
      static_cast<long long>(eligible.ok() && *eligible ? (*eligible)->i64(0) : -1), rss_mb());
  std::printf("BENCH exit_rescore_1m_households_s %.2f\n",
              s * 1'000'000.0 / static_cast<double>(households));
  std::printf("BENCH exit_rescore_peak_rss_mb %.0f\n",
              static_cast<double>(usage.ru_maxrss) / 1024.0);
  return 0;
}
