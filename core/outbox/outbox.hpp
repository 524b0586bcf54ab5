// The event outbox. A module publishes an event inside the same transaction as the
// change that caused it, so the event exists if and only if the change committed.
// The Dispatcher delivers each event at least once to every handler subscribed to its
// topic; a handler runs in a transaction that also records (handler, event id), so its
// effects commit exactly once even when delivery repeats after a crash or restart.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "core/db/migrations.hpp"

namespace cunhuo::outbox {

struct Event {
  std::int64_t id = 0;
  std::string topic;
  std::string payload;  // JSON
  std::int64_t created_at_ms = 0;
  int attempts = 0;
};

// The outbox tables; part of core's migrations.
std::span<const db::Migration> migrations();

// Writes an event in the caller's transaction and returns its id.
Result<std::int64_t> publish(db::Session& tx, std::string_view topic, std::string_view payload,
                             const Clock& clock);

// When the newest event still waiting to be handed out (neither delivered nor parked) was
// published; nullopt when none waits. A bulk load resumed after a crash (the demo county)
// hands such events out first, on a clock at that moment.
Result<std::optional<std::int64_t>> newest_waiting_at(db::Session& s);

// Events not yet handled: still to hand out (pending) and given up on after too many
// attempts (parked, for a person to look at); for monitoring and readiness.
struct Backlog {
  std::int64_t pending = 0, parked = 0;
  std::int64_t oldest_pending_at_ms = 0;  // when the oldest pending one was published; 0: none
};
Result<Backlog> backlog(db::Session& s);

// Runs inside the handler's transaction; return an error to roll it back and retry later.
using Handler = std::function<Status(db::Session& tx, const Event& event)>;

struct DispatcherOptions {
  std::size_t batch_size = 256;      // events read per pass
  int max_attempts = 20;             // then the event is parked as dead for a person to look at
  std::int64_t retry_base_ms = 500;  // back-off: base * 2^attempts, capped
  std::int64_t retry_cap_ms = 10 * 60 * 1000;
  std::int64_t poll_ms = 200;  // idle wait between passes when not woken
};

struct DispatchStats {
  std::size_t delivered = 0;  // events fully handled in this pass
  std::size_t failed = 0;     // events that will be retried (or were parked)
};

class Dispatcher {
 public:
  Dispatcher(db::Database& db, const Clock& clock, DispatcherOptions options = {});
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // `name` identifies the handler in the handled-events record: keep it stable.
  void subscribe(std::string name, std::string topic, Handler handler);

  // One pass over the events that are due. Used by the background thread and by tests.
  Result<DispatchStats> run_once();
  // Passes until nothing is due (or `max_passes` is reached).
  Result<DispatchStats> drain(int max_passes = 1000);

  void start();  // background thread
  void wake();   // after a publish, to deliver without waiting for the poll
  void stop();   // finishes the current pass, then returns

 private:
  struct Subscription {
    std::string name, topic;
    Handler handler;
  };
  Status deliver(const Event& event);  // runs its handlers; run_once marks it delivered
  Status mark_delivered(std::span<const std::int64_t> event_ids);
  Status handle_once(const Subscription& sub, const Event& event);
  Status record_failure(const Event& event, const Error& error);
  void loop();

  db::Database& db_;
  const Clock& clock_;
  DispatcherOptions options_;
  std::vector<Subscription> subscriptions_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool woken_ = false;
  std::atomic<bool> stopping_{false};
};

}  // namespace cunhuo::outbox
