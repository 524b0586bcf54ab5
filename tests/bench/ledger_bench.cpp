// Ledger benchmark, on the real store code paths:
//   ledger_bench transfers STORE_URL LABEL [seconds] [writers] [batch]
//     durable batched transfers: WRITERS threads each commit batches of BATCH transfers
//     among 1,000 accounts for SECONDS; prints BENCH ledger_<label>_transfers_per_s.
//   ledger_bench settle STORE_URL [orders]
//     pays ORDERS orders (untimed), then settles them all from escrow to producers,
//     commission and fees; prints BENCH settle_100k_orders_s (for 100,000 orders).
#include <atomic>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/db/database.hpp"
#include "core/outbox/outbox.hpp"
#include "payments/intents.hpp"
#include "payments/ledger.hpp"
#include "payments/module.hpp"
#include "payments/settlement.hpp"

using namespace cunhuo;
using namespace cunhuo::payments;
using Steady = std::chrono::steady_clock;

namespace {

std::unique_ptr<db::Database> open_store(const std::string& url) {
  db::DatabaseOptions options;
  options.pool_size = 16;
  auto db = db::open_database(url, options);
  if (!db.ok()) {
    std::fprintf(stderr, "cannot open %s: %s\n", url.c_str(), db.error().message.c_str());
    std::exit(1);
  }
  std::vector<db::Migration> all(outbox::migrations().begin(), outbox::migrations().end());
  for (const auto& m : payments::migrations()) all.push_back(m);
  if (!db::migrate(**db, all).ok()) {
    std::fprintf(stderr, "cannot migrate %s\n", url.c_str());
    std::exit(1);
  }
  return std::move(*db);
}

void must(const Status& st, const char* what) {
  if (!st.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, st.error().message.c_str());
    std::exit(1);
  }
}

int transfers(const std::string& url, const std::string& label, int seconds, int writers, int batch) {
  auto db = open_store(url);
  SystemClock clock;
  constexpr int kAccounts = 1000;
  std::vector<AccountSpec> specs{{"bench:source", true}};
  for (int i = 0; i < kAccounts; ++i) specs.push_back({"bench:" + std::to_string(i), false});
  must(db->write([&](db::Session& tx) { return open_accounts(tx, specs, clock); }), "open accounts");
  std::atomic<bool> stop{false};
  std::atomic<std::int64_t> moved{0};
  std::vector<std::thread> threads;
  const auto start = Steady::now();
  for (int w = 0; w < writers; ++w)
    threads.emplace_back([&, w] {
      std::mt19937_64 rng(static_cast<std::uint64_t>(w) + 1);
      for (std::int64_t n = 0; !stop.load(); ++n) {
        std::vector<Transfer> b;
        for (int i = 0; i < batch; ++i) {
          const std::string key = "b" + std::to_string(w) + "-" + std::to_string(n) + "-" + std::to_string(i);
          b.push_back({key, "bench:source", "bench:" + std::to_string(rng() % kAccounts), Money::fen(1 + static_cast<std::int64_t>(rng() % 10000)),
                       TransferKind::posted, "", "bench", ""});
        }
        auto done = db->write([&](db::Session& tx) { return transfer(tx, b, clock); });
        if (!done.ok()) {
          std::fprintf(stderr, "transfer failed: %s\n", done.error().message.c_str());
          std::exit(1);
        }
        moved += batch;
      }
    });
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  stop = true;
  for (auto& t : threads) t.join();
  const double s = std::chrono::duration<double>(Steady::now() - start).count();
  must(db->read([](db::Session& r) { return check_ledger(r); }), "ledger check");
  std::printf("ledger on %s: %lld transfers in %.2f s, %d writers, %d per batch; balances sum to zero\n", label.c_str(),
              static_cast<long long>(moved.load()), s, writers, batch);
  std::printf("BENCH ledger_%s_transfers_per_s %.0f\n", label.c_str(), static_cast<double>(moved.load()) / s);
  return 0;
}

Payable order_payable(std::int64_t n) {
  PayableLine a{1, "民勤蜜瓜", 2, Money::fen(7960), std::nullopt, "", false, {{1 + n % 500, 6000}, {501 + n % 500, 4000}}};
  PayableLine b{2, "羊肉", 1, Money::fen(12800), 9, "consumption", true, {{1001 + n % 500, 10000}}};
  return Payable{n, 7, Money::fen(20760), {PayableOrder{n, 1 + n % 20, n % 2 == 0, Money::fen(20760), {a, b}}}};
}

int settle(const std::string& url, std::int64_t orders) {
  auto db = open_store(url);
  SystemClock clock;
  constexpr std::int64_t kChunk = 1000;
  for (std::int64_t from = 1; from <= orders; from += kChunk)
    must(db->write([&](db::Session& tx) -> Status {
      for (std::int64_t n = from; n < from + kChunk && n <= orders; ++n) {
        const auto p = order_payable(n);
        auto intent = CUNHUO_TRY(open_intent(tx, p, "sim", clock));
        const std::string body = R"({"id":"e","event_type":"TRANSACTION.SUCCESS","out_trade_no":")" + std::to_string(intent.id) +
                                 R"(","transaction_id":"S","amount":{"total":20760,"currency":"CNY"}})";
        CUNHUO_TRY(apply_notification(tx, Notification{"", "", "n" + std::to_string(n), "", body}, "sim", clock));
      }
      return {};
    }), "paying the orders");
  // Settlement runs as the outbox runs it: one order per transaction, four workers,
  // committed in groups.
  FeeRules rules;
  std::atomic<std::int64_t> next{1};
  std::vector<std::thread> threads;
  const auto start = Steady::now();
  for (int w = 0; w < 4; ++w)
    threads.emplace_back([&] {
      for (std::int64_t n = next++; n <= orders; n = next++) {
        auto done = db->write([&](db::Session& tx) { return complete_order(tx, n, rules, clock); });
        if (!done.ok() || *done != SettleOutcome::settled) {
          std::fprintf(stderr, "order %lld did not settle\n", static_cast<long long>(n));
          std::exit(1);
        }
      }
    });
  for (auto& t : threads) t.join();
  const double s = std::chrono::duration<double>(Steady::now() - start).count();
  must(db->read([](db::Session& r) { return check_ledger(r); }), "ledger check");
  std::printf("settled %lld orders in %.2f s (%.0f orders/s); every escrow emptied, balances sum to zero\n",
              static_cast<long long>(orders), s, static_cast<double>(orders) / s);
  std::printf("BENCH settle_100k_orders_s %.2f\n", s * 100000.0 / static_cast<double>(orders));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "transfers" && argc >= 4)
    return transfers(argv[2], argv[3], argc > 4 ? std::stoi(argv[4]) : 5, argc > 5 ? std::stoi(argv[5]) : 8,
                     argc > 6 ? std::stoi(argv[6]) : 100);
  if (mode == "settle" && argc >= 3) return settle(argv[2], argc > 3 ? std::stoll(argv[3]) : 100000);
  std::fprintf(stderr, "usage: ledger_bench transfers STORE_URL LABEL [seconds] [writers] [batch]\n"
                       "       ledger_bench settle STORE_URL [orders]\n");
  return 2;
}
