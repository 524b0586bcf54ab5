// A small bounded cache whose entries live for a fixed time, for answers that anyone may
// ask for often and that may be a little old (the open statistics). Thread-safe. When full,
// expired entries go first, then the one that would expire soonest: memory stays bounded
// whatever keys the clients send.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "core/assert.hpp"
#include "core/clock.hpp"

namespace cunhuo::storefront {

template <class Value>
class TtlCache {
 public:
  TtlCache(const Clock& clock, std::int64_t ttl_ms, std::size_t capacity)
      : clock_(clock), ttl_ms_(ttl_ms), capacity_(capacity) {
    CUNHUO_ASSERT(ttl_ms > 0 && capacity > 0);
  }

  std::optional<Value> get(const std::string& key) {
    std::lock_guard lock(mu_);
    auto it = entries_.find(key);
    if (it == entries_.end() || it->second.expires_ms <= clock_.now_ms()) return std::nullopt;
    return it->second.value;
  }

  void put(const std::string& key, Value value) {
    std::lock_guard lock(mu_);
    if (entries_.size() >= capacity_ && !entries_.contains(key)) evict();
    entries_.insert_or_assign(key, Entry{std::move(value), clock_.now_ms() + ttl_ms_});
    CUNHUO_ASSERT(entries_.size() <= capacity_);
  }

 private:
  struct Entry {
    Value value;
    std::int64_t expires_ms = 0;
  };

  void evict() {
    const std::int64_t now = clock_.now_ms();
    std::erase_if(entries_, [&](const auto& e) { return e.second.expires_ms <= now; });
    if (entries_.size() < capacity_) return;
    auto soonest = entries_.begin();
    for (auto it = entries_.begin(); it != entries_.end(); ++it)
      if (it->second.expires_ms < soonest->second.expires_ms) soonest = it;
    entries_.erase(soonest);
  }

  const Clock& clock_;
  const std::int64_t ttl_ms_;
  const std::size_t capacity_;
  std::mutex mu_;
  std::map<std::string, Entry> entries_;
};

}  // namespace cunhuo::storefront
