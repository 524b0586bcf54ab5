// Fills a running Cunhuo server (seeded with minqin) with N listings through the API,
// as farmers and cooperatives would list them.   catalog_fill PORT N [CONNECTIONS]
#include <atomic>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "core/json.hpp"
#include "tests/support/http_client.hpp"

using cunhuo::test::HttpClient;

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: catalog_fill PORT N [CONNECTIONS]\n");
    return 2;
  }
  const auto port = static_cast<std::uint16_t>(std::stoi(argv[1]));
  const int n = std::stoi(argv[2]);
  const int connections = argc > 3 ? std::stoi(argv[3]) : 8;
  HttpClient setup(port);
  auto login = setup.request("POST", "/api/v1/sessions", R"({"phone":"13900000001","password":"cunhuo-demo"})",
                             {{"Content-Type", "application/json"}});
  auto doc = cunhuo::Json::parse(login.body);
  if (!doc.ok() || doc->find("token") == nullptr) return 1;
  const std::string token = doc->find("token")->as_string();
  static const char* kinds[] = {"民勤蜜瓜", "白牦牛肉", "肉苁蓉", "枸杞", "锁阳", "羊肉", "葡萄酒", "糯玉米", "洋葱", "人参果"};
  static const char* temps[] = {"ambient", "chilled", "frozen"};
  std::atomic<int> next{0}, failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < connections; ++t)
    threads.emplace_back([&] {
      HttpClient c(port);
      for (int i = next++; i < n; i = next++) {
        std::string body = std::string(R"({"title":")") + kinds[i % 10] + " 第" + std::to_string(i) +
                           R"(批","category":"特产","unit":"kg","price_fen":)" + std::to_string(1000 + i % 9000) +
                           R"(,"stock":1000,"temperature_class":")" + temps[i % 3] +
                           R"(","shelf_life_days":30,"origin_code":"620621104201","origin_name":"甘肃民勤",)"
                           R"("producers":[{"household_id":1,"share_bps":10000}]})";
        auto r = c.request("POST", "/api/v1/products", body,
                           {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + token}});
        if (r.status != 201) ++failed;
      }
    });
  for (auto& t : threads) t.join();
  std::printf("listed %d products (%d failed)\n", n - failed.load(), failed.load());
  return failed.load() == 0 ? 0 : 1;
}
