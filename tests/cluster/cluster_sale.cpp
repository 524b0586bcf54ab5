// The cluster flash sale's client (tests/cluster/run). As tests/bench/flash_sale, but the
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
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "core/db/database.hpp"
#include "core/json.hpp"
#include "tests/bench/bench_accounts.hpp"
#include "tests/support/http_client.hpp"

using cunhuo::test::HttpClient;
using cunhuo::test::HttpReply;
using Clock = std::chrono::steady_clock;

namespace {

HttpReply post(HttpClient& c, const std::string& path, const std::string& body,
               const std::string& token, const std::string& key = "") {
  std::vector<std::pair<std::string, std::string>> h = {{"Content-Type", "application/json"},
                                                        {"Authorization", "Bearer " + token}};
  if (!key.empty()) h.emplace_back("Idempotency-Key", key);
  return c.request("POST", path, body, h);
}

std::string field(const std::string& body, const char* key) {
  auto doc = cunhuo::Json::parse(body);
  if (!doc.ok() || doc->find(key) == nullptr) {
    std::fprintf(stderr, "unexpected reply: %s\n", body.c_str());
    std::exit(1);
  }
  const cunhuo::Json* v = doc->find(key);
  return v->type() == cunhuo::Json::Type::string ? v->as_string() : std::to_string(v->as_integer());
}

std::string login(HttpClient& c, const std::string& phone) {
  return field(c.request("POST", "/api/v1/sessions",
                         R"({"phone":")" + phone + R"(","password":"cunhuo-demo"})",
                         {{"Content-Type", "application/json"}})
                   .body,
               "token");
}

// One load-generating thread drives every connection through epoll, as wrk does, so
// the client's own thread switching does not eat the 2 cores the server runs on.
struct Connection {
  int fd = -1;
  std::uint16_t port = 0;
  int attempt = -1;      // the request in flight
  bool waiting = false;  // to be sent again at retry_at
  Clock::time_point retry_at{};
  std::string in;
  std::string out;
  std::size_t sent = 0;
  bool busy = false;
};

struct Sale {
  int created = 0, sold_out = 0, over_limit = 0, other = 0, retried = 0, reconnected = 0;
  double total_s = 0, sellout_s = 0;
  std::set<int> acknowledged;  // attempts answered 201
};

int open_connection(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    std::perror("connect");
    std::exit(1);
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

// The status of one complete reply at the front of `in`, consumed; 0 when incomplete.
int take_reply(std::string& in) {
  const auto head_end = in.find("\r\n\r\n");
  if (head_end == std::string::npos) return 0;
  std::size_t length = 0;
  const auto cl = in.find("ontent-Length:");
  if (cl != std::string::npos && cl < head_end)
    length = std::strtoul(in.c_str() + cl + 14, nullptr, 10);
  if (in.size() < head_end + 4 + length) return 0;
  const int status = std::atoi(in.c_str() + 9);  // "HTTP/1.1 201"
  in.erase(0, head_end + 4 + length);
  return status;
}

bool flush_out(Connection& c) {
  while (c.sent < c.out.size()) {
    auto n = ::send(c.fd, c.out.data() + c.sent, c.out.size() - c.sent, MSG_NOSIGNAL);
    if (n < 0) return errno == EAGAIN;
    c.sent += static_cast<std::size_t>(n);
  }
  return true;
}

// Replies that say "try again": the outcome is not known, or the store was busy. A careful
// client waits a moment first.
bool worth_retrying(int status) { return status == 500 || status == 502 || status == 503; }
constexpr auto kRetryPause = std::chrono::milliseconds(50);

void watch(int ep, Connection& c, std::size_t k) {
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLET;
  ev.data.u64 = k;
  ::epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev);
}

template <typename MakeRequest>
Sale run_sale(const std::vector<std::uint16_t>& ports, int connections, int attempts,
              const MakeRequest& request_for, pid_t kill_pid, int kill_at) {
  std::vector<Connection> conns(static_cast<std::size_t>(connections));
  const int ep = ::epoll_create1(0);
  for (std::size_t k = 0; k < conns.size(); ++k) {
    conns[k].port = ports[k % ports.size()];
    conns[k].fd = open_connection(conns[k].port);
    watch(ep, conns[k], k);
  }
  Sale sale;
  int next = 0, done = 0;
  bool killed = false;
  const auto start = Clock::now();
  auto send = [&](Connection& c) {
    c.out = request_for(c.attempt);
    c.sent = 0;
    c.busy = true;
    if (!flush_out(c)) std::exit(1);
  };
  auto issue = [&](Connection& c) {
    if (next >= attempts) {
      c.busy = false;
      return;
    }
    c.attempt = next++;
    send(c);
  };
  // The server closed the connection: open another to the same process, send again.
  auto reopen = [&](Connection& c, std::size_t k) {
    ::close(c.fd);
    c.in.clear();
    c.fd = open_connection(c.port);
    watch(ep, c, k);
    ++sale.reconnected;
    if (c.busy && !c.waiting) send(c);
  };
  for (auto& c : conns) issue(c);
  std::vector<epoll_event> events(conns.size());
  char buf[16384];
  int idle_ms = 0;
  while (done < attempts) {
    const bool any_waiting =
        std::any_of(conns.begin(), conns.end(), [](auto& c) { return c.waiting; });
    const int n = ::epoll_wait(ep, events.data(), static_cast<int>(events.size()), 10);
    idle_ms = n > 0 || any_waiting ? 0 : idle_ms + 10;
    if (n < 0 || idle_ms > 60'000) {
      std::fprintf(stderr, "the servers stopped answering\n");
      std::exit(1);
    }
    const auto now = Clock::now();
    for (auto& c : conns)
      if (c.waiting && c.retry_at <= now) {
        c.waiting = false;
        send(c);  // the same attempt, the same key
      }
    for (int e = 0; e < n; ++e) {
      const std::size_t k = events[e].data.u64;
      Connection& c = conns[k];
      if (!flush_out(c)) {
        reopen(c, k);
        continue;
      }
      bool closed = false;
      for (;;) {
        auto got = ::recv(c.fd, buf, sizeof buf, 0);
        if (got > 0) {
          c.in.append(buf, static_cast<std::size_t>(got));
          continue;
        }
        closed = got == 0 || errno != EAGAIN;
        break;
      }
      while (int status = take_reply(c.in)) {
        if (worth_retrying(status)) {
          ++sale.retried;
          c.waiting = true;
          c.retry_at = Clock::now() + kRetryPause;
          continue;
        }
        ++done;
        if (status == 201) {
          ++sale.created;
          sale.acknowledged.insert(c.attempt);
          sale.sellout_s = std::chrono::duration<double>(Clock::now() - start).count();
        } else if (status == 409) {
          ++sale.sold_out;
        } else if (status == 422) {
          ++sale.over_limit;
        } else if (++sale.other <= 5) {
          std::fprintf(stderr, "unexpected status %d\n", status);
        }
        issue(c);
      }
      if (closed) reopen(c, k);
      if (!killed && kill_pid > 0 && sale.created >= kill_at) {
        killed = true;
        std::printf("killing node pid %d (SIGKILL) after %d orders, at %.2f s\n",
                    static_cast<int>(kill_pid), sale.created,
                    std::chrono::duration<double>(Clock::now() - start).count());
        std::fflush(stdout);
        ::kill(kill_pid, SIGKILL);
      }
    }
  }
  sale.total_s = std::chrono::duration<double>(Clock::now() - start).count();
  for (auto& c : conns) ::close(c.fd);
  ::close(ep);
  return sale;
}

// What the store holds after the sale.
struct Stored {
  std::int64_t accounted = 0;          // units sold plus units left: must equal UNITS
  std::int64_t orders = 0;             // order lines of the product
  std::int64_t over_buyer_limit = 0;   // buyers holding more than one unit: must be 0
  std::set<std::int64_t> buyers;       // accounts holding an order of the product
  std::int64_t keys_answered_201 = 0;  // idempotency keys whose recorded answer is a 201
  std::int64_t orders_of_product = 0;  // orders (not lines), whatever their status
};

cunhuo::Result<Stored> count_stored(cunhuo::db::Database& db, std::int64_t product) {
  return db.read([&](cunhuo::db::Session& s) -> cunhuo::Result<Stored> {
    CUNHUO_CHECK(s.read_latest());
    Stored out;
    auto sold = CUNHUO_TRY(s.query_one(
        "SELECT COALESCE(SUM(quantity), 0), COUNT(*) FROM order_lines WHERE product_id = ?",
        {product}));
    auto stock = CUNHUO_TRY(s.query_one("SELECT stock FROM products WHERE id = ?", {product}));
    auto greedy =
        CUNHUO_TRY(s.query_one("SELECT COUNT(*) FROM (SELECT o.buyer_id FROM orders o "
                               "JOIN order_lines l ON l.order_id = o.id WHERE l.product_id = ? "
                               "GROUP BY o.buyer_id HAVING SUM(l.quantity) > 1) g",
                               {product}));
    for (const auto& r : CUNHUO_TRY(s.query("SELECT DISTINCT o.buyer_id FROM orders o JOIN "
                                            "order_lines l ON l.order_id = o.id WHERE "
                                            "l.product_id = ?",
                                            {product})))
      out.buyers.insert(r.i64(0));
    auto keys = CUNHUO_TRY(s.query_one("SELECT COUNT(*) FROM idempotency_keys WHERE status = 201"));
    out.keys_answered_201 = keys->i64(0);
    auto orders = CUNHUO_TRY(s.query_one("SELECT COUNT(*) FROM orders"));
    out.orders_of_product = orders->i64(0);
    out.accounted = sold->i64(0) + stock->i64(0);
    out.orders = sold->i64(1);
    out.over_buyer_limit = greedy->i64(0);
    return out;
  });
}

// Consumers with sessions, made in the store: the timed part is checkouts only.
std::vector<cunhuo::bench::BenchAccount> make_buyers(cunhuo::db::Database& db, int n) {
  cunhuo::SystemClock clock;
  const cunhuo::storefront::NewAccount like{.phone = "17700000000",
                                            .password = "flash-sale-buyer",
                                            .display_name = "秒杀买家",
                                            .role = cunhuo::storefront::Role::consumer,
                                            .region_code = "620100",
                                            .household_id = {},
                                            .shop_id = {},
                                            .node_id = {}};
  auto buyers = cunhuo::bench::make_accounts(db, clock, like, n);
  if (!buyers.ok()) {
    std::fprintf(stderr, "cannot make the buyers: %s\n", buyers.error().message.c_str());
    std::exit(1);
  }
  return std::move(*buyers);
}

struct Offer {
  std::string product, campaign;
};

// A listing of `units` units in a flash sale running now, one unit per buyer.
Offer list_offer(std::uint16_t port, int units) {
  HttpClient setup(port);
  Offer offer;
  const std::string farmer = login(setup, "13900000001");
  const std::string listed =
      post(setup, "/api/v1/products",
           R"({"title":"秒杀 民勤蜜瓜","category":"水果","unit":"box","price_fen":3980,"stock":)" +
               std::to_string(units) +
               R"(,"temperature_class":"chilled","shelf_life_days":20,)"
               R"("origin_code":"620621104201","origin_name":"甘肃民勤",)"
               R"("producers":[{"household_id":1,"share_bps":10000}]})",
           farmer)
          .body;
  offer.product = field(listed, "id");
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  offer.campaign =
      field(post(setup, "/api/v1/campaigns",
                 R"({"name":"限时秒杀","kind":"flash_sale","starts_at_ms":)" +
                     std::to_string(now_ms - 60'000) + R"(,"ends_at_ms":)" +
                     std::to_string(now_ms + 3'600'000) +
                     R"(,"discount_bps":2000,"per_buyer_limit":1,"items":[{"product_id":)" +
                     offer.product + R"(,"stock_cap":)" + std::to_string(units) + "}]}",
                 login(setup, "13900000006"))
                .body,
            "id");
  // The shop agrees to the campaign's price, as a campaign price needs.
  const auto consent = post(setup, "/api/v1/campaigns/" + offer.campaign + "/consent",
                            R"({"shop_id":)" + field(listed, "shop_id") + "}", farmer);
  if (consent.status != 200) {
    std::fprintf(stderr, "the shop could not agree to the campaign: %s\n", consent.body.c_str());
    std::exit(1);
  }
  return offer;
}

std::string checkout_request(const Offer& offer, const std::string& token, const std::string& key) {
  const std::string body = R"({"items":[{"product_id":)" + offer.product +
                           R"(,"quantity":1}],"campaign_id":)" + offer.campaign +
                           R"(,"shipping_address":{"name":"张三明","phone":"13711112222",)"
                           R"("address":"兰州市城关区某路1号","region_code":"620102"}})";
  return "POST /api/v1/orders HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
         "Authorization: Bearer " +
         token + "\r\nIdempotency-Key: " + key +
         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

void print_bench(const std::string& label, const char* name, long long value) {
  std::printf("BENCH %s_%s %lld\n", label.c_str(), name, value);
}

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
  const auto db = cunhuo::bench::open_store_or_exit(store_url);
  const auto buyers = make_buyers(*db, buyer_count);
  const Offer offer = list_offer(ports.front(), units);

  const Sale sale = run_sale(
      ports, connections, attempts,
      [&](int i) {
        const auto& buyer = buyers[static_cast<std::size_t>(i) % buyers.size()];
        return checkout_request(offer, buyer.token, label + "-" + std::to_string(i));
      },
      kill_pid, kill_at);

  auto stored = count_stored(*db, std::stoll(offer.product));
  if (!stored.ok()) {
    std::fprintf(stderr, "cannot count the store: %s\n", stored.error().message.c_str());
    return 1;
  }
  const std::int64_t oversold = std::max<std::int64_t>(0, stored->orders - units) +
                                std::max<std::int64_t>(0, stored->accounted - units);
  std::int64_t lost = 0;  // acknowledged to the client, not in the store
  for (int attempt : sale.acknowledged)
    if (!stored->buyers.count(buyers[static_cast<std::size_t>(attempt) % buyers.size()].id)) ++lost;
  std::printf(
      "%s: %d attempts by %zu buyers over %d connections to %zu port(s) in %.2f s; "
      "%d orders acknowledged, %d sold out, %d over the buyer limit, %d other, %d retried, "
      "%d reconnected; sold out after %.3f s\n",
      label.c_str(), attempts, buyers.size(), connections, ports.size(), sale.total_s, sale.created,
      sale.sold_out, sale.over_limit, sale.other, sale.retried, sale.reconnected, sale.sellout_s);
  std::printf("BENCH %s_orders_per_s %.0f\n", label.c_str(),
              sale.sellout_s > 0 ? sale.created / sale.sellout_s : 0.0);
  print_bench(label, "oversold", oversold);
  print_bench(label, "orders", stored->orders);
  print_bench(label, "lost_acknowledged_orders", lost);
  print_bench(label, "over_buyer_limit", stored->over_buyer_limit);
  print_bench(label, "retried", sale.retried);
  print_bench(label, "keys_answered_201", stored->keys_answered_201);
  print_bench(label, "orders_in_store", stored->orders_of_product);
  print_bench(label, "other_replies", sale.other);
  const int expected_orders = std::min(units, std::min(attempts, buyer_count));
  const bool ok = oversold == 0 && stored->accounted == units && lost == 0 &&
                  stored->orders == expected_orders && stored->over_buyer_limit == 0 &&
                  static_cast<std::int64_t>(sale.created) == stored->orders;
  return ok ? 0 : 1;
}
