#include "tests/bench/sale_driver.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "core/assert.hpp"
#include "core/json.hpp"
#include "tests/support/http_client.hpp"

namespace cunhuo::bench {
namespace {

using test::HttpClient;
using test::HttpReply;
using Clock = std::chrono::steady_clock;

[[noreturn]] void give_up(const std::string& why) {
  std::fprintf(stderr, "%s\n", why.c_str());
  std::exit(1);
}

HttpReply post(HttpClient& c, const std::string& path, const std::string& body,
               const std::string& token) {
  return c.request("POST", path, body,
                   {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + token}});
}

std::string field(const std::string& body, const char* key) {
  auto doc = Json::parse(body);
  if (!doc.ok() || doc->find(key) == nullptr) give_up("unexpected reply: " + body);
  const Json* v = doc->find(key);
  return v->type() == Json::Type::string ? v->as_string() : std::to_string(v->as_integer());
}

std::string login(HttpClient& c, const std::string& phone) {
  return field(c.request("POST", "/api/v1/sessions",
                         R"({"phone":")" + phone + R"(","password":"cunhuo-demo"})",
                         {{"Content-Type", "application/json"}})
                   .body,
               "token");
}

// One load-generating thread drives every connection through epoll, as wrk does, so
// the client's own thread switching does not eat the cores the servers run on.
struct Connection {
  int fd = -1;
  std::uint16_t port = 0;
  int attempt = -1;      // the request in flight
  bool busy = false;     // a request is in flight or waiting to be sent again
  bool waiting = false;  // to be sent again at retry_at
  Clock::time_point retry_at{};
  std::string in;
  std::string out;
  std::size_t sent = 0;
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

void watch(int ep, const Connection& c, std::size_t k) {
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLET;
  ev.data.u64 = k;
  ::epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev);
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

// False when the connection is broken.
bool flush_out(Connection& c) {
  while (c.sent < c.out.size()) {
    auto n = ::send(c.fd, c.out.data() + c.sent, c.out.size() - c.sent, MSG_NOSIGNAL);
    if (n < 0) return errno == EAGAIN;
    c.sent += static_cast<std::size_t>(n);
  }
  return true;
}

// Reads all that has arrived; false when the server closed the connection.
bool read_in(Connection& c) {
  char buf[16384];
  for (;;) {
    auto got = ::recv(c.fd, buf, sizeof buf, 0);
    if (got > 0) {
      c.in.append(buf, static_cast<std::size_t>(got));
      continue;
    }
    return got < 0 && errno == EAGAIN;
  }
}

// Replies that say "try again": the outcome is not known, or the store was busy.
bool worth_retrying(int status) { return status == 500 || status == 502 || status == 503; }
// A careful client waits a moment before it sends again.
constexpr auto kRetryPause = std::chrono::milliseconds(50);
constexpr int kUnexpectedShown = 5;  // replies other than 201/409/422 written to stderr

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// One sale in progress: the connections, the tally and what comes next.
class SaleRun {
 public:
  explicit SaleRun(const SalePlan& plan)
      : plan_(plan), conns_(static_cast<std::size_t>(plan.connections)) {
    ep_ = ::epoll_create1(0);
    for (std::size_t k = 0; k < conns_.size(); ++k) {
      conns_[k].port = plan_.ports[k % plan_.ports.size()];
      conns_[k].fd = open_connection(conns_[k].port);
      watch(ep_, conns_[k], k);
    }
  }
  ~SaleRun() {
    for (auto& c : conns_) ::close(c.fd);
    ::close(ep_);
  }

  Sale run() {
    start_ = last_heard_ = Clock::now();
    for (auto& c : conns_) issue(c);
    std::vector<epoll_event> events(conns_.size());
    while (done_ < plan_.attempts) {
      const int n = ::epoll_wait(ep_, events.data(), static_cast<int>(events.size()), wait_ms());
      if (n < 0) give_up("epoll_wait failed");
      if (n > 0) last_heard_ = Clock::now();
      if (n == 0 && !any_waiting() && Clock::now() - last_heard_ >= plan_.quiet_limit)
        give_up("the servers stopped answering");
      send_due_retries();
      for (int e = 0; e < n; ++e) serve(events[e].data.u64);
    }
    sale_.total_s = seconds_since(start_);
    return sale_;
  }

 private:
  bool any_waiting() const {
    return std::any_of(conns_.begin(), conns_.end(), [](auto& c) { return c.waiting; });
  }

  // Until the next retry is due, or the servers have been quiet too long.
  int wait_ms() const {
    auto until = last_heard_ + plan_.quiet_limit;
    for (const auto& c : conns_)
      if (c.waiting) until = std::min(until, c.retry_at);
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(until - Clock::now());
    return static_cast<int>(std::max<std::int64_t>(0, left.count()));
  }

  void send(Connection& c) {
    c.out = plan_.request_for(c.attempt);
    c.sent = 0;
    c.busy = true;
    if (!flush_out(c)) give_up("could not send a request");
  }

  void issue(Connection& c) {
    c.busy = false;
    if (next_ >= plan_.attempts) return;
    c.attempt = next_++;
    send(c);
  }

  void send_due_retries() {
    const auto now = Clock::now();
    for (auto& c : conns_)
      if (c.waiting && c.retry_at <= now) {
        c.waiting = false;
        send(c);  // the same attempt, the same key
      }
  }

  // The server closed the connection: open another to the same process, send again.
  void reopen(Connection& c, std::size_t k) {
    if (!plan_.ride_out_faults) give_up("the server closed a connection");
    ::close(c.fd);
    c.in.clear();
    c.fd = open_connection(c.port);
    watch(ep_, c, k);
    ++sale_.reconnected;
    if (c.busy && !c.waiting) send(c);
  }

  void serve(std::size_t k) {
    Connection& c = conns_[k];
    if (!flush_out(c)) return reopen(c, k);
    const bool open = read_in(c);
    while (int status = take_reply(c.in)) {
      if (plan_.ride_out_faults && worth_retrying(status)) {
        ++sale_.retried;
        c.waiting = true;
        c.retry_at = Clock::now() + kRetryPause;
        continue;
      }
      count(c, status);
      issue(c);
      if (plan_.after_reply) plan_.after_reply(sale_, seconds_since(start_));
    }
    if (!open) reopen(c, k);
  }

  void count(const Connection& c, int status) {
    ++done_;
    if (status == 201) {
      ++sale_.created;
      sale_.acknowledged.insert(c.attempt);
      sale_.sellout_s = seconds_since(start_);
    } else if (status == 409) {
      ++sale_.sold_out;
    } else if (status == 422) {  // over_buyer_limit, the only 422 a well-formed checkout gets
      ++sale_.over_limit;
    } else if (++sale_.other <= kUnexpectedShown) {
      std::fprintf(stderr, "unexpected status %d\n", status);
    }
  }

  const SalePlan& plan_;
  std::vector<Connection> conns_;
  int ep_ = -1;
  int next_ = 0, done_ = 0;
  Clock::time_point start_, last_heard_;
  Sale sale_;
};

}  // namespace

std::vector<BenchAccount> make_buyers(db::Database& db, int n) {
  SystemClock clock;
  const storefront::NewAccount like{.phone = "17700000000",
                                    .password = "flash-sale-buyer",
                                    .display_name = "秒杀买家",
                                    .role = storefront::Role::consumer,
                                    .region_code = "620100",
                                    .household_id = {},
                                    .shop_id = {},
                                    .node_id = {}};
  auto buyers = make_accounts(db, clock, like, n);
  if (!buyers.ok()) give_up("cannot make the buyers: " + buyers.error().message);
  return std::move(*buyers);
}

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
  if (consent.status != 200) give_up("the shop could not agree to the campaign: " + consent.body);
  return offer;
}

std::string checkout_request(const Offer& offer, const std::string& token,
                             const std::string& idempotency_key) {
  const std::string body = R"({"items":[{"product_id":)" + offer.product +
                           R"(,"quantity":1}],"campaign_id":)" + offer.campaign +
                           R"(,"shipping_address":{"name":"张三明","phone":"13711112222",)"
                           R"("address":"兰州市城关区某路1号","region_code":"620102"}})";
  return "POST /api/v1/orders HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
         "Authorization: Bearer " +
         token + "\r\nIdempotency-Key: " + idempotency_key +
         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

const BenchAccount& buyer_of(const std::vector<BenchAccount>& buyers, int i) {
  return buyers[static_cast<std::size_t>(i) % buyers.size()];
}

std::function<std::string(int attempt)> checkouts_by(const Offer& offer,
                                                     const std::vector<BenchAccount>& buyers,
                                                     const std::string& label) {
  return [&offer, &buyers, label](int i) {
    return checkout_request(offer, buyer_of(buyers, i).token, label + "-" + std::to_string(i));
  };
}

Sale run_sale(const SalePlan& plan) {
  CUNHUO_ASSERT(!plan.ports.empty() && plan.connections > 0 && plan.request_for);
  return SaleRun(plan).run();
}

Stored count_stored(db::Database& db, std::int64_t product) {
  auto stored = db.read([&](db::Session& s) -> Result<Stored> {
    CUNHUO_CHECK(s.read_latest());  // on a cluster: after every commit acknowledged anywhere
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
    auto orders = CUNHUO_TRY(s.query_one("SELECT COUNT(*) FROM orders"));
    out.accounted = sold->i64(0) + stock->i64(0);
    out.orders = sold->i64(1);
    out.over_buyer_limit = greedy->i64(0);
    out.keys_answered_201 = keys->i64(0);
    out.orders_in_store = orders->i64(0);
    return out;
  });
  if (!stored.ok()) give_up("cannot count the store: " + stored.error().message);
  return std::move(*stored);
}

std::int64_t oversold(const Stored& stored, int units) {
  return std::max<std::int64_t>(0, stored.orders - units) +
         std::max<std::int64_t>(0, stored.accounted - units);
}

void print_bench(const std::string& prefix, const char* name, long long value) {
  std::printf("BENCH %s%s %lld\n", prefix.c_str(), name, value);
}

void print_bench_rate(const std::string& prefix, const char* name, double per_s) {
  std::printf("BENCH %s%s %.0f\n", prefix.c_str(), name, per_s);
}

}  // namespace cunhuo::bench
