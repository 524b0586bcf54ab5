// Flash-sale benchmark client. Against a running Cunhuo server (seeded with fixture): makes
// BUYERS consumer accounts with sessions straight in the store (before the timed part),
// lists one product with UNITS units in a flash-sale campaign that allows each buyer one
// unit, then sends ATTEMPTS checkout requests (attempt i as buyer i mod BUYERS, each with
// its own Idempotency-Key) over CONNECTIONS keep-alive connections driven by one epoll
// thread. Then it checks in the store that no unit was sold twice, that no buyer got more
// than one, and that the store holds exactly the orders the client saw 201 for.
//   flash_sale PORT STORE_URL LABEL [ATTEMPTS] [CONNECTIONS] [UNITS] [BUYERS]
// Prints BENCH flash_sale_<label>_orders_per_s / _oversold / _orders / _over_buyer_limit /
// _client_store_mismatch (and attempts/s and replies other than 201, 409 and 422).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "tests/bench/sale_driver.hpp"

namespace bench = cunhuo::bench;

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr,
                 "usage: flash_sale PORT STORE_URL LABEL [ATTEMPTS] [CONNECTIONS] "
                 "[UNITS] [BUYERS]\n");
    return 2;
  }
  const auto port = static_cast<std::uint16_t>(std::stoi(argv[1]));
  const std::string store_url = argv[2], label = argv[3];
  const int attempts = argc > 4 ? std::stoi(argv[4]) : 10000;
  const int connections = argc > 5 ? std::stoi(argv[5]) : 64;
  const int units = argc > 6 ? std::stoi(argv[6]) : 1000;
  const int buyer_count = argc > 7 ? std::stoi(argv[7]) : 10000;
  const auto db = bench::open_store_or_exit(store_url);
  const auto buyers = bench::make_buyers(*db, buyer_count);
  const bench::Offer offer = bench::list_offer(port, units);

  const bench::Sale sale = bench::run_sale({
      .ports = {port},
      .connections = connections,
      .attempts = attempts,
      .request_for = bench::checkouts_by(offer, buyers, label),
  });

  const auto stored = bench::count_stored(*db, std::stoll(offer.product));
  const std::int64_t oversold = bench::oversold(stored, units);
  // 201s the store does not hold, or orders the client never saw a 201 for.
  const std::int64_t mismatch = std::llabs(stored.orders - sale.created);
  std::printf(
      "flash sale on %s: %d attempts by %zu buyers over %d connections in %.2f s; "
      "%d orders, %d sold out, %d over the buyer limit, %d other; sold out after %.3f s\n",
      label.c_str(), attempts, buyers.size(), connections, sale.total_s, sale.created,
      sale.sold_out, sale.over_limit, sale.other, sale.sellout_s);
  const std::string bench_prefix = "flash_sale_" + label + "_";
  bench::print_bench_rate(bench_prefix, "orders_per_s",
                          sale.sellout_s > 0 ? sale.created / sale.sellout_s : 0.0);
  bench::print_bench_rate(bench_prefix, "attempts_per_s", attempts / sale.total_s);
  bench::print_bench(bench_prefix, "oversold", oversold);
  bench::print_bench(bench_prefix, "orders", stored.orders);
  bench::print_bench(bench_prefix, "over_buyer_limit", stored.over_buyer_limit);
  bench::print_bench(bench_prefix, "other_replies", sale.other);
  bench::print_bench(bench_prefix, "client_store_mismatch", mismatch);
  const int expected_orders = std::min(units, std::min(attempts, buyer_count));
  const bool ok = oversold == 0 && stored.accounted == units && mismatch == 0 &&
                  stored.orders == expected_orders && stored.over_buyer_limit == 0;
  return ok ? 0 : 1;
}
