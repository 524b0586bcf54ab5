// The cluster flash sale's client (tests/cluster/run). As tests/bench/flash_sale (the same
// sale driver, tests/bench/sale_driver.hpp), but the
// checkouts are spread over several service processes (PORTS, comma-separated, one
// connection in turn to each), and the sale goes on through faults: a reply of 500/502/503
// (a node lost mid-transaction, a commit whose outcome is unknown) is retried with the same
// Idempotency-Key, on the same connection, as a careful client does; a connection the
// server closed is opened again and its request sent again. Once KILL_AT orders are
// acknowledged it sends SIGKILL to KILL_PID (a Galera node), when given.
// Afterwards it counts in the store: units sold against stock, orders, buyers over their
// limit, and acknowledged orders the store does not hold ("lost": must be 0).
//   cluster_sale PORTS STORE_URL LABEL ATTEMPTS CONNECTIONS UNITS BUYERS [KILL_PID KILL_AT]
// Prints BENCH <LABEL>_orders_per_s / _oversold / _orders / _lost_acknowledged_orders /
// _over_buyer_limit / _retried / _other_replies.
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "tests/bench/sale_driver.hpp"

namespace bench = cunhuo::bench;

namespace {

// A node's loss stalls the cluster's commits for some seconds (evs.suspect_timeout and the
// view change after it): the servers may be silent that long without the sale giving up.
constexpr std::chrono::milliseconds kQuietLimit{60'000};

std::vector<std::uint16_t> parse_ports(const std::string& list) {
  std::vector<std::uint16_t> out;
  std::size_t at = 0;
  while (at <= list.size()) {
    const auto comma = list.find(',', at);
    out.push_back(static_cast<std::uint16_t>(std::stoi(list.substr(at, comma - at))));
    if (comma == std::string::npos) break;
    at = comma + 1;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 8) {
    std::fprintf(stderr,
                 "usage: cluster_sale PORTS STORE_URL LABEL ATTEMPTS CONNECTIONS UNITS BUYERS "
                 "[KILL_PID KILL_AT]\n");
    return 2;
  }
  const auto ports = parse_ports(argv[1]);
  const std::string store_url = argv[2], label = argv[3];
  const int attempts = std::stoi(argv[4]), connections = std::stoi(argv[5]);
  const int units = std::stoi(argv[6]), buyer_count = std::stoi(argv[7]);
  const pid_t kill_pid = argc > 9 ? static_cast<pid_t>(std::stoi(argv[8])) : 0;
  const int kill_at = argc > 9 ? std::stoi(argv[9]) : 0;
  const auto db = bench::open_store_or_exit(store_url);
  const auto buyers = bench::make_buyers(*db, buyer_count);
  const bench::Offer offer = bench::list_offer(ports.front(), units);

  bool killed = false;
  const bench::Sale sale = bench::run_sale({
      .ports = ports,
      .connections = connections,
      .attempts = attempts,
      .request_for = bench::checkouts_by(offer, buyers, label),
      .ride_out_faults = true,
      .quiet_limit = kQuietLimit,
      .after_reply =
          [&](const bench::Sale& so_far, double elapsed_s) {
            if (killed || kill_pid <= 0 || so_far.created < kill_at) return;
            killed = true;
            std::printf("killing node pid %d (SIGKILL) after %d orders, at %.2f s\n",
                        static_cast<int>(kill_pid), so_far.created, elapsed_s);
            std::fflush(stdout);
            ::kill(kill_pid, SIGKILL);
          },
  });

  const auto stored = bench::count_stored(*db, std::stoll(offer.product));
  const std::int64_t oversold = bench::oversold(stored, units);
  std::int64_t lost = 0;  // acknowledged to the client, not in the store
  for (int attempt : sale.acknowledged)
    if (!stored.buyers.contains(bench::buyer_of(buyers, attempt).id)) ++lost;
  std::printf(
      "%s: %d attempts by %zu buyers over %d connections to %zu port(s) in %.2f s; "
      "%d orders acknowledged, %d sold out, %d over the buyer limit, %d other, %d retried, "
      "%d reconnected; sold out after %.3f s\n",
      label.c_str(), attempts, buyers.size(), connections, ports.size(), sale.total_s, sale.created,
      sale.sold_out, sale.over_limit, sale.other, sale.retried, sale.reconnected, sale.sellout_s);
  const std::string bench_prefix = label + "_";
  bench::print_bench_rate(bench_prefix, "orders_per_s",
                          sale.sellout_s > 0 ? sale.created / sale.sellout_s : 0.0);
  bench::print_bench(bench_prefix, "oversold", oversold);
  bench::print_bench(bench_prefix, "orders", stored.orders);
  bench::print_bench(bench_prefix, "lost_acknowledged_orders", lost);
  bench::print_bench(bench_prefix, "over_buyer_limit", stored.over_buyer_limit);
  bench::print_bench(bench_prefix, "retried", sale.retried);
  bench::print_bench(bench_prefix, "keys_answered_201", stored.keys_answered_201);
  bench::print_bench(bench_prefix, "orders_in_store", stored.orders_in_store);
  bench::print_bench(bench_prefix, "other_replies", sale.other);
  const int expected_orders = std::min(units, std::min(attempts, buyer_count));
  const bool ok = oversold == 0 && stored.accounted == units && lost == 0 &&
                  stored.orders == expected_orders && stored.over_buyer_limit == 0 &&
                  static_cast<std::int64_t>(sale.created) == stored.orders;
  return ok ? 0 : 1;
}
