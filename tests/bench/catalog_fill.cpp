// Fills a running Cunhuo server (seeded with fixture) with N listings spread over SHOPS
// shops, as many farmers' shops would list them. The shops, their households and their
// managers' accounts and sessions are made in the store first; the listings go through the
// API, each by its own shop's manager.
//   catalog_fill PORT STORE_URL N [CONNECTIONS] [SHOPS]
#include <atomic>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <chrono>
#include <cstdio>

#include "marketplace/id_numbers.hpp"
#include "marketplace/registry.hpp"
#include "tests/bench/bench_accounts.hpp"
#include "tests/support/http_client.hpp"

using cunhuo::test::HttpClient;
namespace mk = cunhuo::marketplace;

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

constexpr const char* kVillage = "620621104201";  // every shop in one of the seed county's villages

struct BenchShop {
  std::int64_t shop = 0, household = 0;
  std::string token;  // its manager's session
};

// `n` household shops, each with one producing household and a manager.
std::vector<BenchShop> make_shops(cunhuo::db::Database& db, int n) {
  cunhuo::SystemClock clock;
  std::vector<BenchShop> shops;
  auto made = db.write([&](cunhuo::db::Session& tx) -> cunhuo::Status {
    shops.clear();
    for (int i = 0; i < n; ++i) {
      const std::string number = std::to_string(10000 + i);
      const auto household = CUNHUO_TRY(
          mk::create_household(tx,
                               {kVillage, "卖家" + number, generated_id_number(i),
                                "135000" + number, 3, mk::PovertyStatus::registered_poor},
                               clock));
      const auto shop = CUNHUO_TRY(mk::create_shop(
          tx, {"小店" + number, mk::ShopKind::household, kVillage, {household}}, clock));
      shops.push_back(BenchShop{shop.value, household.value, ""});
    }
    return {};
  });
  if (!made.ok()) {
    std::fprintf(stderr, "cannot make the shops: %s\n", made.error().message.c_str());
    std::exit(1);
  }
  cunhuo::storefront::NewAccount like{.phone = "17800000000",
                                      .password = "catalog-bench-shop",
                                      .display_name = "店长",
                                      .role = cunhuo::storefront::Role::shop_manager,
                                      .region_code = kVillage,
                                      .household_id = {},
                                      .shop_id = {},
                                      .node_id = {}};
  auto managers = cunhuo::bench::make_accounts(db, clock, like, n, [&](auto& a, int i) {
    a.shop_id = shops[static_cast<std::size_t>(i)].shop;
  });
  if (!managers.ok()) {
    std::fprintf(stderr, "cannot make the shop managers: %s\n", managers.error().message.c_str());
    std::exit(1);
  }
  for (std::size_t i = 0; i < shops.size(); ++i) shops[i].token = (*managers)[i].token;
  return shops;
}

std::string listing(int i, const BenchShop& shop) {
  static const char* kinds[] = {"民勤蜜瓜", "白牦牛肉", "肉苁蓉", "枸杞", "锁阳",
                                "羊肉",     "葡萄酒",   "糯玉米", "洋葱", "人参果"};
  static const char* temps[] = {"ambient", "chilled", "frozen"};
  return std::string(R"({"title":")") + kinds[i % 10] + " 第" + std::to_string(i) +
         R"(批","category":"特产","unit":"kg","price_fen":)" + std::to_string(1000 + i % 9000) +
         R"(,"stock":1000,"temperature_class":")" + temps[i % 3] +
         R"(","shelf_life_days":30,"origin_code":")" + kVillage +
         R"(","origin_name":"甘肃民勤",)"
         R"("producers":[{"household_id":)" +
         std::to_string(shop.household) + R"(,"share_bps":10000}]})";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: catalog_fill PORT STORE_URL N [CONNECTIONS] [SHOPS]\n");
    return 2;
  }
  const auto port = static_cast<std::uint16_t>(std::stoi(argv[1]));
  const std::string store_url = argv[2];
  const int n = std::stoi(argv[3]);
  const int connections = argc > 4 ? std::stoi(argv[4]) : 8;
  const int shop_count = argc > 5 ? std::stoi(argv[5]) : 200;
  const auto db = cunhuo::bench::open_store_or_exit(store_url);
  const auto shops = make_shops(*db, shop_count);
  std::atomic<int> next{0}, failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < connections; ++t)
    threads.emplace_back([&] {
      HttpClient c(port);
      for (int i = next++; i < n; i = next++) {
        const BenchShop& shop = shops[static_cast<std::size_t>(i) % shops.size()];
        auto r = c.request(
            "POST", "/api/v1/products", listing(i, shop),
            {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + shop.token}});
        if (r.status != 201 && failed++ < 3)
          std::fprintf(stderr, "listing refused: %d %s\n", r.status, r.body.c_str());
      }
    });
  for (auto& t : threads) t.join();
  std::printf("listed %d products over %zu shops (%d failed)\n", n - failed.load(), shops.size(),
              failed.load());
  return failed.load() == 0 ? 0 : 1;
}
