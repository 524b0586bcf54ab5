#include "storefront/metrics.hpp"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <thread>

namespace cunhuo::storefront {
namespace {

std::string label(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

constexpr std::array<std::string_view, 7> kMethodLabels = {"GET",   "HEAD",   "POST",   "PUT",
                                                           "PATCH", "DELETE", "OPTIONS"};

}  // namespace

std::string_view method_label(std::string_view method) {
  for (auto known : kMethodLabels)
    if (method == known) return known;
  return "other";
}

bool Metrics::permits(const Request& request) const {
  for (const auto& address : access_.allow)
    if (request.client_address == address) return true;
  return access_.is_admin && access_.is_admin(request);
}

void Metrics::observe(const std::string& route, const std::string& raw_method, int status,
                      double seconds) {
  const std::string method(method_label(raw_method));
  thread_local const std::size_t shard_index =
      std::hash<std::thread::id>{}(std::this_thread::get_id()) % kShards;
  Shard& shard = shards_[shard_index];
  std::lock_guard lock(shard.mu);
  auto it = shard.series.find(Key{route, method, status});
  if (it == shard.series.end()) {
    if (series_count_.load() >= kMaxSeries) return;
    ++series_count_;
    it = shard.series.emplace(Key{route, method, status}, Series{}).first;
  }
  Series& s = it->second;
  ++s.count;
  s.sum += seconds;
  for (std::size_t i = 0; i < kBuckets.size(); ++i)
    if (seconds <= kBuckets[i]) ++s.buckets[i];
}

std::string Metrics::render() const {
  std::map<Key, Series> series_;  // all shards merged
  for (auto& shard : shards_) {
    std::lock_guard lock(shard.mu);
    for (const auto& [key, s] : shard.series) {
      Series& total = series_[key];
      total.count += s.count;
      total.sum += s.sum;
      for (std::size_t i = 0; i < kBuckets.size(); ++i) total.buckets[i] += s.buckets[i];
    }
  }
  std::string out;
  out += "# HELP cunhuo_http_requests_total HTTP requests by route, method and status.\n";
  out += "# TYPE cunhuo_http_requests_total counter\n";
  for (const auto& [key, s] : series_) {
    const auto& [route, method, status] = key;
    out += "cunhuo_http_requests_total{route=\"" + label(route) + "\",method=\"" + label(method) +
           "\",status=\"" + std::to_string(status) + "\"} " + std::to_string(s.count) + "\n";
  }
  out +=
      "# HELP cunhuo_http_request_duration_seconds HTTP request latency by route, method and "
      "status.\n";
  out += "# TYPE cunhuo_http_request_duration_seconds histogram\n";
  for (const auto& [key, s] : series_) {
    const auto& [route, method, status] = key;
    std::string labels = "route=\"" + label(route) + "\",method=\"" + label(method) +
                         "\",status=\"" + std::to_string(status) + "\"";
    for (std::size_t i = 0; i < kBuckets.size(); ++i)
      out += "cunhuo_http_request_duration_seconds_bucket{" + labels + ",le=\"" +
             number(kBuckets[i]) + "\"} " + std::to_string(s.buckets[i]) + "\n";
    out += "cunhuo_http_request_duration_seconds_bucket{" + labels + ",le=\"+Inf\"} " +
           std::to_string(s.count) + "\n";
    out += "cunhuo_http_request_duration_seconds_sum{" + labels + "} " + number(s.sum) + "\n";
    out += "cunhuo_http_request_duration_seconds_count{" + labels + "} " + std::to_string(s.count) +
           "\n";
  }
  out += "# HELP cunhuo_http_requests_in_flight Requests being handled now.\n";
  out += "# TYPE cunhuo_http_requests_in_flight gauge\n";
  out += "cunhuo_http_requests_in_flight " + std::to_string(in_flight_.load()) + "\n";
  return out;
}

}  // namespace cunhuo::storefront
