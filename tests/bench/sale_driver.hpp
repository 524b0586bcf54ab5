// A flash sale driven against running Cunhuo service processes: the client both sale
// benchmarks share (tests/bench/flash_sale.cpp, one process; tests/cluster/cluster_sale.cpp,
// several processes and a database node killed mid-sale). It offers:
//   make_buyers       consumers with sessions, made in the store before the timed part;
//   list_offer        a listing in a flash-sale campaign running now, one unit a buyer;
//   checkout_request  the raw HTTP checkout of one unit by one buyer, with its own key;
//   checkouts_by      a sale's requests, attempt i by buyer_of(i);
//   run_sale          the checkouts sent over keep-alive connections by one epoll thread;
//   count_stored      what the store holds of the sale afterwards;
//   print_bench(_rate) one "BENCH <name> <value>" line.
// Each exits the process with a message when the service or the store answers otherwise
// than a sale's setup must: a benchmark has no one to hand an error to.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "core/db/database.hpp"
#include "tests/bench/bench_accounts.hpp"

namespace cunhuo::bench {

// `n` consumers with sessions, made straight in the store.
std::vector<BenchAccount> make_buyers(db::Database& db, int n);

struct Offer {
  std::string product, campaign;  // ids, as the API writes them
};

// A listing of `units` units in a flash sale running now that allows each buyer one unit,
// made through the service on `port` by the fixture's farmer and county centre.
Offer list_offer(std::uint16_t port, int units);

// The whole HTTP/1.1 request of one checkout of one unit of the offer at the campaign price.
std::string checkout_request(const Offer& offer, const std::string& token,
                             const std::string& idempotency_key);

// The buyer of attempt `i`: buyer i mod the number of buyers.
const BenchAccount& buyer_of(const std::vector<BenchAccount>& buyers, int i);
// The requests of a sale: attempt i is a checkout by buyer_of(i), keyed "<label>-<i>".
std::function<std::string(int attempt)> checkouts_by(const Offer& offer,
                                                     const std::vector<BenchAccount>& buyers,
                                                     const std::string& label);

// The tally of a sale as the client saw it.
struct Sale {
  int created = 0, sold_out = 0, over_limit = 0, other = 0;
  int retried = 0, reconnected = 0;  // only when riding out faults
  double total_s = 0, sellout_s = 0;
  std::set<int> acknowledged;  // the attempts answered 201
};

struct SalePlan {
  std::vector<std::uint16_t> ports;  // the connections go to each in turn
  int connections = 64;
  int attempts = 0;
  std::function<std::string(int attempt)> request_for;
  // As a careful client through faults: a reply of 500/502/503 (the outcome unknown, the
  // store busy) is sent again after a pause, with the same Idempotency-Key, and a connection
  // the server closed is opened again and its request sent again. Without it a closed
  // connection ends the run, and a 5xx counts as an "other" reply.
  bool ride_out_faults = false;
  // How long the servers may send nothing before the run gives up (exit 1).
  std::chrono::milliseconds quiet_limit{10'000};
  // Called after each final reply with the tally so far and the seconds since the start.
  std::function<void(const Sale&, double elapsed_s)> after_reply;
};

Sale run_sale(const SalePlan& plan);

// What the store holds after the sale of `product`.
struct Stored {
  std::int64_t accounted = 0;          // units sold plus units left: must equal the units
  std::int64_t orders = 0;             // order lines of the product
  std::int64_t over_buyer_limit = 0;   // buyers holding more than one unit: must be 0
  std::set<std::int64_t> buyers;       // accounts holding an order of the product
  std::int64_t keys_answered_201 = 0;  // idempotency keys whose recorded answer is a 201
  std::int64_t orders_in_store = 0;    // orders (not lines), whatever their status
};

Stored count_stored(db::Database& db, std::int64_t product);
// Units sold beyond the `units` on sale, as orders or against the stock: must be 0.
std::int64_t oversold(const Stored& stored, int units);

// Prints "BENCH <prefix><name> <value>"; a rate, rounded to a whole number.
void print_bench(const std::string& prefix, const char* name, long long value);
void print_bench_rate(const std::string& prefix, const char* name, double per_s);

}  // namespace cunhuo::bench
