// Flash-sale benchmark client. Against a running Cunhuo server (seeded with minqin): lists
// one product with UNITS units in a flash-sale campaign, then sends ATTEMPTS checkout
// requests (each with its own Idempotency-Key) over CONNECTIONS keep-alive connections,
// and checks in the store that no unit was sold twice.
//   flash_sale PORT STORE_URL LABEL [ATTEMPTS] [CONNECTIONS] [UNITS]
// Prints BENCH flash_sale_<label>_orders_per_s / _oversold / _orders (and attempts/s).
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "core/db/database.hpp"
#include "core/json.hpp"
#include "tests/support/http_client.hpp"

using cunhuo::test::HttpClient;
using cunhuo::test::HttpReply;
using Clock = std::chrono::steady_clock;

namespace {

HttpReply post(HttpClient& c, const std::string& path, const std::string& body, const std::string& token,
               const std::string& key = "") {
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
  return field(c.request("POST", "/api/v1/sessions", R"({"phone":")" + phone + R"(","password":"cunhuo-demo"})",
                         {{"Content-Type", "application/json"}}).body,
               "token");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: flash_sale PORT STORE_URL LABEL [ATTEMPTS] [CONNECTIONS] [UNITS]\n");
    return 2;
  }
  const auto port = static_cast<std::uint16_t>(std::stoi(argv[1]));
  const std::string store_url = argv[2], label = argv[3];
  const int attempts = argc > 4 ? std::stoi(argv[4]) : 10000;
  const int connections = argc > 5 ? std::stoi(argv[5]) : 64;
  const int units = argc > 6 ? std::stoi(argv[6]) : 1000;

  HttpClient setup(port);
  const std::string farmer = login(setup, "13900000001");
  const std::string product = field(post(setup, "/api/v1/products",
      R"({"title":"秒杀 民勤蜜瓜","category":"水果","unit":"box","price_fen":3980,"stock":)" + std::to_string(units) +
      R"(,"temperature_class":"chilled","shelf_life_days":20,"origin_code":"620621104201","origin_name":"甘肃民勤",)"
      R"("producers":[{"household_id":1,"share_bps":10000}]})", farmer).body, "id");
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  const std::string centre = login(setup, "13900000006");
  const std::string campaign = field(post(setup, "/api/v1/campaigns",
      R"({"name":"限时秒杀","kind":"flash_sale","starts_at_ms":)" + std::to_string(now_ms - 60'000) +
      R"(,"ends_at_ms":)" + std::to_string(now_ms + 3'600'000) + R"(,"discount_bps":2000,"items":[{"product_id":)" + product +
      R"(,"stock_cap":)" + std::to_string(units) + "}]}", centre).body, "id");
  const std::string buyer = login(setup, "13900000003");
  const std::string body = R"({"items":[{"product_id":)" + product + R"(,"quantity":1}],"campaign_id":)" + campaign +
                           R"(,"shipping_address":{"name":"张三明","phone":"13711112222","address":"兰州市城关区某路1号","region_code":"620102"}})";

  std::atomic<int> next{0}, created{0}, sold_out{0}, other{0}, ready{0};
  std::atomic<bool> go{false};
  std::atomic<std::int64_t> last_order_us{0};
  Clock::time_point start;
  std::vector<std::thread> threads;
  for (int t = 0; t < connections; ++t)
    threads.emplace_back([&] {
      // Connections are opened (and used once) before the clock starts: the sale is
      // measured, not TCP set-up.
      HttpClient c(port);
      c.request("GET", "/healthz");
      ++ready;
      while (!go.load()) std::this_thread::yield();
      for (int i = next++; i < attempts; i = next++) {
        auto reply = post(c, "/api/v1/orders", body, buyer, label + "-" + std::to_string(i));
        if (reply.status == 201) {
          ++created;
          auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count();
          for (auto seen = last_order_us.load(); us > seen && !last_order_us.compare_exchange_weak(seen, us);) {
          }
        } else if (reply.status == 409) {
          ++sold_out;
        } else {
          if (++other <= 3) std::fprintf(stderr, "unexpected %d: %s\n", reply.status, reply.body.c_str());
        }
      }
    });
  while (ready.load() < connections) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  start = Clock::now();
  go = true;
  for (auto& t : threads) t.join();
  const double total_s = std::chrono::duration<double>(Clock::now() - start).count();
  const double sellout_s = static_cast<double>(last_order_us.load()) / 1e6;

  auto db = cunhuo::db::open_database(store_url);
  if (!db.ok()) {
    std::fprintf(stderr, "cannot open %s\n", store_url.c_str());
    return 1;
  }
  auto counted = (*db)->read([&](cunhuo::db::Session& s) -> cunhuo::Result<std::pair<std::int64_t, std::int64_t>> {
    auto sold = CUNHUO_TRY(s.query_one("SELECT COALESCE(SUM(quantity), 0), COUNT(*) FROM order_lines WHERE product_id = ?",
                                       {std::stoll(product)}));
    auto stock = CUNHUO_TRY(s.query_one("SELECT stock FROM products WHERE id = ?", {std::stoll(product)}));
    return std::make_pair(sold->i64(0) + stock->i64(0), sold->i64(1));
  });
  if (!counted.ok()) return 1;
  const std::int64_t accounted = counted->first;  // units sold plus units left: must equal UNITS
  const std::int64_t orders = counted->second;
  const std::int64_t oversold = std::max<std::int64_t>(0, orders - units) + std::max<std::int64_t>(0, accounted - units);

  std::printf("flash sale on %s: %d attempts over %d connections in %.2f s; %d orders, %d sold out, %d other; sold out after %.3f s\n",
              label.c_str(), attempts, connections, total_s, created.load(), sold_out.load(), other.load(), sellout_s);
  std::printf("BENCH flash_sale_%s_orders_per_s %.0f\n", label.c_str(), sellout_s > 0 ? created.load() / sellout_s : 0.0);
  std::printf("BENCH flash_sale_%s_attempts_per_s %.0f\n", label.c_str(), attempts / total_s);
  std::printf("BENCH flash_sale_%s_oversold %lld\n", label.c_str(), static_cast<long long>(oversold));
  std::printf("BENCH flash_sale_%s_orders %lld\n", label.c_str(), static_cast<long long>(orders));
  return oversold == 0 && orders == units && accounted == units ? 0 : 1;
}
