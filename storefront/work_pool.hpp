// A fixed set of worker threads with a bounded queue, for slow work (password hashing,
// photo decoding) that must not run on the network threads: a few slow requests would
// stop every connection those threads carry. When the queue is full the work is refused
// at once, so the caller answers 503 instead of letting the backlog grow.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "storefront/http.hpp"

namespace cunhuo::storefront {

class WorkPool {
 public:
  static constexpr int kDefaultThreads = 2;         // argon2 and libgd each use one core
  static constexpr std::size_t kDefaultQueue = 64;  // a few seconds of logins
  static constexpr int kRetryAfterSeconds = 1;      // what a refused caller is told

  explicit WorkPool(int threads = kDefaultThreads, std::size_t queue_limit = kDefaultQueue);
  ~WorkPool();  // runs what is queued, then joins
  WorkPool(const WorkPool&) = delete;
  WorkPool& operator=(const WorkPool&) = delete;

  // Queues `job`; false (and `job` is dropped) when the queue is full or the pool stops.
  bool try_submit(std::function<void()> job);

 private:
  void run();

  const std::size_t queue_limit_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

// The 503 for work the pool refused, with Retry-After.
Response pool_full_response(std::string_view message);

}  // namespace cunhuo::storefront
