// Ledger benchmark, on the real store code paths:
//   ledger_bench transfers STORE_URL LABEL [seconds] [writers] [batch]
//     durable batched transfers: WRITERS threads each commit batches of BATCH transfers
//     between accounts that may not go negative (1,000 of them, funded first, each writer
//     among its own share as counties are) for SECONDS; every debit is checked against
//     what the account holds. Prints BENCH ledger_<label>_transfers_per_s.
//   ledger_bench settle STORE_URL [orders]
//     pays ORDERS orders of registered households and publishes their completion
//     (untimed), then settles them as the service does: the outbox dispatcher delivers
//     "order.completed" to the settlement handler and "payment.settled" to the
//     re-scoring of each household. Checks every escrow was emptied; prints BENCH
//     settle_100k_orders_s (for 100,000 orders).
#include <atomic>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <chrono>
#include <cstdio>

#include "marketplace/id_numbers.hpp"
#include "core/db/database.hpp"
#include "core/json.hpp"
#include "core/outbox/outbox.hpp"
#include "marketplace/orders.hpp"
#include "marketplace/registry.hpp"
#include "payments/intents.hpp"
#include "payments/ledger.hpp"
#include "payments/settlement.hpp"
#include "tests/support/service_flows.hpp"
#include "storefront/alleviation_routes.hpp"
#include "storefront/app.hpp"
#include "storefront/payments_routes.hpp"

using namespace cunhuo;
using namespace cunhuo::payments;
using Steady = std::chrono::steady_clock;

namespace {

// A valid, distinct ID number for the i-th generated household: a birth date a day apart
// per thousand households, then a sequence number, then the GB 11643 check character.
std::string generated_id_number(int i) {
  using namespace std::chrono;
  const year_month_day d{sys_days{year{1950} / January / 1} + days{i / 1000}};
  char first17[18];
  std::snprintf(first17, sizeof first17, "620621%04d%02u%02u%03d", static_cast<int>(d.year()),
                static_cast<unsigned>(d.month()), static_cast<unsigned>(d.day()), i % 1000);
  return first17 + std::string(1, cunhuo::marketplace::id_number_check_char(first17));
}

std::unique_ptr<db::Database> open_store(const std::string& url) {
  db::DatabaseOptions options;
  options.pool_size = 16;
  auto db = db::open_database(url, options);
  if (!db.ok()) {
    std::fprintf(stderr, "cannot open %s: %s\n", url.c_str(), db.error().message.c_str());
    std::exit(1);
  }
  if (!db::migrate(**db, storefront::all_migrations()).ok()) {
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

int transfers(const std::string& url, const std::string& label, int seconds, int writers,
              int batch) {
  auto db = open_store(url);
  SystemClock clock;
  constexpr int kAccounts = 1000;
  constexpr std::int64_t kFunding = 1'000'000'000;  // fen each: no random walk of 5 s drains it
  std::vector<AccountSpec> specs{{"bench:source", true}};
  std::vector<Transfer> funding;
  for (int i = 0; i < kAccounts; ++i) {
    specs.push_back({"bench:" + std::to_string(i), false});
    funding.push_back({.key = "fund-" + std::to_string(i),
                       .debit = "bench:source",
                       .credit = "bench:" + std::to_string(i),
                       .amount = Money::fen(kFunding),
                       .kind = TransferKind::posted,
                       .pending_key = "",
                       .reference = "bench",
                       .memo = ""});
  }
  must(db->write([&](db::Session& tx) -> Status {
    CUNHUO_CHECK(open_accounts(tx, specs, clock));
    CUNHUO_TRY(transfer(tx, funding, clock));
    return {};
  }),
       "open and fund accounts");
  // Each writer moves money among its own accounts, as counties do: no lock cycles.
  const std::uint64_t share = std::max(2, kAccounts / writers);
  std::atomic<bool> stop{false};
  std::atomic<std::int64_t> moved{0};
  std::vector<std::thread> threads;
  const auto start = Steady::now();
  for (int w = 0; w < writers; ++w)
    threads.emplace_back([&, w] {
      std::mt19937_64 rng(static_cast<std::uint64_t>(w) + 1);
      const std::uint64_t first = static_cast<std::uint64_t>(w) * share;
      auto account = [&](std::uint64_t i) {
        return "bench:" + std::to_string((first + i) % kAccounts);
      };
      for (std::int64_t n = 0; !stop.load(); ++n) {
        std::vector<Transfer> b;
        for (int i = 0; i < batch; ++i) {
          const std::string key =
              "b" + std::to_string(w) + "-" + std::to_string(n) + "-" + std::to_string(i);
          const std::uint64_t from = rng() % share, to = (from + 1 + rng() % (share - 1)) % share;
          b.push_back({.key = key,
                       .debit = account(from),
                       .credit = account(to),
                       .amount = Money::fen(1 + static_cast<std::int64_t>(rng() % 10000)),
                       .kind = TransferKind::posted,
                       .pending_key = "",
                       .reference = "bench",
                       .memo = ""});
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
  std::printf(
      "ledger on %s: %lld transfers in %.2f s, %d writers, %d per batch; balances sum to zero\n",
      label.c_str(), static_cast<long long>(moved.load()), s, writers, batch);
  std::printf("BENCH ledger_%s_transfers_per_s %.0f\n", label.c_str(),
              static_cast<double>(moved.load()) / s);
  return 0;
}

constexpr std::int64_t kHouseholds = 1500;

Payable order_payable(std::int64_t n) {
  PayableLine a{1,
                "民勤蜜瓜",
                2,
                Money::fen(7960),
                std::nullopt,
                "",
                false,
                {{1 + n % 500, 6000}, {501 + n % 500, 4000}}};
  PayableLine b{2, "羊肉", 1, Money::fen(12800), 9, "consumption", true, {{1001 + n % 500, 10000}}};
  return Payable{n,
                 7,
                 Money::fen(20760),
                 {PayableOrder{n, 1 + n % 20, n % 2 == 0, Money::fen(20760), {a, b}}}};
}

// The producers are registered households (ids 1 to 1500), so re-scoring has facts to use.
Status register_households(db::Database& db, const Clock& clock) {
  return db.write([&](db::Session& tx) -> Status {
    for (std::int64_t h = 1; h <= kHouseholds; ++h) {
      const std::string id_number = generated_id_number(static_cast<int>(h));
      CUNHUO_TRY(marketplace::create_household(
          tx,
          {"620621104201", "王建国", id_number, "138" + std::to_string(10'000'000 + h), 3,
           marketplace::PovertyStatus::registered_poor},
          clock));
    }
    return {};
  });
}

// What the marketplace publishes when the buyer confirms receipt.
Status publish_completed(db::Session& tx, std::int64_t order, const Clock& clock) {
  using marketplace::OrderStatusChanged;
  const OrderStatusChanged completed{.order_id = marketplace::OrderId{order},
                                     .shop_id = marketplace::ShopId{1 + order % 20},
                                     .buyer_id = 7,
                                     .total = Money::fen(20760)};
  CUNHUO_TRY(outbox::publish(tx, marketplace::order_topic(marketplace::OrderStatus::completed),
                             completed.encode(), clock));
  return {};
}

Result<std::int64_t> escrows_not_empty(db::Session& s) {
  auto row =
      CUNHUO_TRY(s.query_one("SELECT COUNT(*) FROM ledger_accounts WHERE code LIKE 'escrow:%' "
                             "AND (credits_posted <> debits_posted OR debits_pending <> 0)"));
  return row->i64(0);
}

int settle(const std::string& url, std::int64_t orders) {
  auto db = open_store(url);
  SystemClock clock;
  must(register_households(*db, clock), "registering households");
  constexpr std::int64_t kChunk = 1000;
  for (std::int64_t from = 1; from <= orders; from += kChunk)
    must(db->write([&](db::Session& tx) -> Status {
      for (std::int64_t n = from; n < from + kChunk && n <= orders; ++n) {
        const auto p = order_payable(n);
        auto intent = CUNHUO_TRY(open_intent(tx, p, "sim", clock));
        const std::string body =
            R"({"id":"e","event_type":"TRANSACTION.SUCCESS","out_trade_no":")" +
            std::to_string(intent.id) +
            R"(","transaction_id":"S","amount":{"total":20760,"currency":"CNY"}})";
        CUNHUO_TRY(apply_notification(tx, Notification{"", "", "n" + std::to_string(n), "", body},
                                      "sim", clock));
        CUNHUO_CHECK(publish_completed(tx, n, clock));
      }
      return {};
    }),
         "paying the orders");
  // The service's dispatcher and handlers: settlement, then re-scoring of the households
  // paid (the captures' events find no marketplace order here and do nothing).
  outbox::DispatcherOptions options;
  options.max_attempts = 1;  // a failure is not retried in the background: it is reported
  outbox::Dispatcher dispatcher(*db, clock, options);
  test::ServiceFlows flows(*db, dispatcher, clock);
  const auto start = Steady::now();
  auto passes = dispatcher.drain(1'000'000);
  const double s = std::chrono::duration<double>(Steady::now() - start).count();
  if (!passes.ok() || passes->failed > 0) {
    std::fprintf(stderr, "the outbox did not deliver everything: %s\n",
                 passes.ok() ? (std::to_string(passes->failed) + " events failed").c_str()
                             : passes.error().message.c_str());
    std::exit(1);
  }
  must(db->read([](db::Session& r) { return check_ledger(r); }), "ledger check");
  auto left = db->read([](db::Session& r) { return escrows_not_empty(r); });
  if (!left.ok() || *left != 0) {
    std::fprintf(stderr, "%lld escrows were not emptied\n",
                 left.ok() ? static_cast<long long>(*left) : -1LL);
    std::exit(1);
  }
  std::printf(
      "settled %lld orders in %.2f s (%.0f orders/s); every escrow emptied, balances sum to zero\n",
      static_cast<long long>(orders), s, static_cast<double>(orders) / s);
  std::printf("BENCH settle_100k_orders_s %.2f\n", s * 100000.0 / static_cast<double>(orders));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "transfers" && argc >= 4)
    return transfers(argv[2], argv[3], argc > 4 ? std::stoi(argv[4]) : 5,
                     argc > 5 ? std::stoi(argv[5]) : 8, argc > 6 ? std::stoi(argv[6]) : 100);
  if (mode == "settle" && argc >= 3)
    return settle(argv[2], argc > 3 ? std::stoll(argv[3]) : 100000);
  std::fprintf(stderr,
               "usage: ledger_bench transfers STORE_URL LABEL [seconds] [writers] [batch]\n"
               "       ledger_bench settle STORE_URL [orders]\n");
  return 2;
}
