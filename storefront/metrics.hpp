// Request counts and latency histograms by route pattern, method and status, in the
// Prometheus text format. Series are keyed by the route pattern, never the raw path,
// and capped in number so a scan of random URLs cannot grow memory.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "storefront/http.hpp"

namespace cunhuo::storefront {

// The method label: one of a fixed set, so a client cannot mint series with odd methods.
std::string_view method_label(std::string_view method);

// Who may read the metrics: a request from one of `allow` (exact client addresses), or
// one that `is_admin` accepts. Route patterns and counts tell an attacker too much.
struct MetricsAccess {
  std::vector<std::string> allow = {"127.0.0.1", "::1"};
  std::function<bool(const Request&)> is_admin;
};

class Metrics {
 public:
  static constexpr std::array<double, 12> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                      0.05,   0.1,   0.25,   0.5,   1.0,  5.0};
  static constexpr std::size_t kMaxSeries = 2000;

  void observe(const std::string& route, const std::string& method, int status, double seconds);
  void set_in_flight(std::int64_t n) { in_flight_.store(n); }
  std::string render() const;
  void set_access(MetricsAccess access) { access_ = std::move(access); }
  bool permits(const Request& request) const;

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
  MetricsAccess access_;
};

}  // namespace cunhuo::storefront
