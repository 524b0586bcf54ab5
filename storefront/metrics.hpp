// Request counts and latency histograms by route pattern, method and status, in the
// Prometheus text format. Series are keyed by the route pattern, never the raw path,
// and capped in number so a scan of random URLs cannot grow memory.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

namespace cunhuo::storefront {

class Metrics {
 public:
  static constexpr std::array<double, 12> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                      0.05,   0.1,   0.25,   0.5,   1.0,  5.0};
  static constexpr std::size_t kMaxSeries = 2000;

  void observe(const std::string& route, const std::string& method, int status, double seconds);
  void set_in_flight(std::int64_t n) { in_flight_.store(n); }
  std::string render() const;

 private:
  struct Series {
    std::uint64_t count = 0;
    double sum = 0;
    std::array<std::uint64_t, kBuckets.size()> buckets{};
  };
  using Key = std::tuple<std::string, std::string, int>;
  // Sharded by thread so that request threads rarely wait on each other.
  static constexpr std::size_t kShards = 16;
  struct Shard {
    std::mutex mu;
    std::map<Key, Series> series;
  };
  mutable std::array<Shard, kShards> shards_;
  std::atomic<std::size_t> series_count_{0};
  std::atomic<std::int64_t> in_flight_{0};
};

}  // namespace cunhuo::storefront
