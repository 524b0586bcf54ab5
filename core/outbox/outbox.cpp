#include "core/outbox/outbox.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace cunhuo::outbox {
namespace {

constexpr db::Migration kMigrations[] = {
    {"core", 1, "outbox",
     "CREATE TABLE IF NOT EXISTS outbox_events (\n"
     "  id {{ID}},\n"
     "  topic VARCHAR(100) NOT NULL,\n"
     "  payload MEDIUMTEXT NOT NULL,\n"
     "  created_at BIGINT NOT NULL,\n"
     "  available_at BIGINT NOT NULL,\n"
     "  attempts INTEGER NOT NULL DEFAULT 0,\n"
     "  last_error VARCHAR(500),\n"
     "  delivered_at BIGINT,\n"
     "  dead_at BIGINT\n"
     ");\n"
     "CREATE INDEX IF NOT EXISTS outbox_events_due ON outbox_events (delivered_at, dead_at, "
     "available_at, id);\n"
     "CREATE TABLE IF NOT EXISTS outbox_handled (\n"
     "  handler VARCHAR(100) NOT NULL,\n"
     "  event_id BIGINT NOT NULL,\n"
     "  handled_at BIGINT NOT NULL,\n"
     "  PRIMARY KEY (handler, event_id)\n"
     ");\n"},
};

constexpr std::size_t kMaxTopic = 100;
constexpr std::size_t kMaxPayload = 1 << 20;

}  // namespace

std::span<const db::Migration> migrations() { return kMigrations; }

Result<std::int64_t> publish(db::Session& tx, std::string_view topic, std::string_view payload,
                             const Clock& clock) {
  assert(!topic.empty() && topic.size() <= kMaxTopic);
  if (payload.size() > kMaxPayload)
    return make_error(ErrorKind::too_large, "event_too_large", "event payload over 1 MiB");
  const std::int64_t now = clock.now_ms();
  CUNHUO_TRY(tx.exec(
      "INSERT INTO outbox_events (topic, payload, created_at, available_at) VALUES (?, ?, ?, ?)",
      {topic, payload, now, now}));
  return tx.last_insert_id();
}

Dispatcher::Dispatcher(db::Database& db, const Clock& clock, DispatcherOptions options)
    : db_(db), clock_(clock), options_(options) {}

Dispatcher::~Dispatcher() { stop(); }

void Dispatcher::subscribe(std::string name, std::string topic, Handler handler) {
  assert(!thread_.joinable() && "subscribe before start");
  assert(name.size() <= 100);
  subscriptions_.push_back(Subscription{std::move(name), std::move(topic), std::move(handler)});
}

Status Dispatcher::handle_once(const Subscription& sub, const Event& event) {
  return db_.write([&](db::Session& tx) -> Status {
    // Claim first: a concurrent dispatcher (another process) that claimed the same pair
    // makes this insert fail or wait, and the loser rolls back without running the handler.
    auto claimed =
        tx.exec(std::string(tx.insert_ignore()) +
                    " INTO outbox_handled (handler, event_id, handled_at) VALUES (?, ?, ?)",
                {sub.name, event.id, clock_.now_ms()});
    if (!claimed.ok()) return claimed.error();
    if (claimed->affected_rows == 0) return {};  // handled before: nothing to do
    return sub.handler(tx, event);
  });
}

Status Dispatcher::deliver(const Event& event) {
  for (const auto& sub : subscriptions_) {
    if (sub.topic != event.topic) continue;
    CUNHUO_CHECK(handle_once(sub, event));
  }
  return {};
}

// One durable transaction marks a whole pass's events delivered, rather than one per event:
// each handler's effect already committed with its claim in outbox_handled, so an event left
// unmarked (a crash before this commits) is only read again, and its handlers do nothing.
// Several processes may dispatch at once and pass over the same events: the first to mark
// one wins; the others' updates match no row and write nothing (on Galera: nothing to
// certify, so no conflict).
Status Dispatcher::mark_delivered(std::span<const std::int64_t> event_ids) {
  if (event_ids.empty()) return {};
  return db_.write([&](db::Session& tx) -> Status {
    const std::int64_t now = clock_.now_ms();
    for (std::int64_t id : event_ids)
      CUNHUO_TRY(
          tx.exec("UPDATE outbox_events SET delivered_at = ? WHERE id = ? AND delivered_at IS NULL",
                  {now, id}));
    return {};
  });
}

Status Dispatcher::record_failure(const Event& event, const Error& error) {
  const int attempts = event.attempts + 1;
  const std::int64_t delay =
      std::min(options_.retry_cap_ms, options_.retry_base_ms << std::min(attempts, 20));
  const std::int64_t now = clock_.now_ms();
  const bool dead = attempts >= options_.max_attempts;
  if (dead)
    spdlog::error("outbox event {} ({}) parked after {} attempts: {}", event.id, event.topic,
                  attempts, error.message);
  else
    spdlog::warn("outbox event {} ({}) failed, attempt {}: {}", event.id, event.topic, attempts,
                 error.message);
  return db_.write([&](db::Session& tx) -> Status {
    CUNHUO_TRY(
        tx.exec("UPDATE outbox_events SET attempts = ?, available_at = ?, last_error = ?, dead_at "
                "= ? WHERE id = ?",
                {attempts, now + delay, error.code + ": " + error.message.substr(0, 400),
                 dead ? db::Value(now) : db::Value(), event.id}));
    return {};
  });
}

Result<std::optional<std::int64_t>> newest_waiting_at(db::Session& s) {
  auto row = CUNHUO_TRY(s.query_one(
      "SELECT MAX(created_at) FROM outbox_events WHERE delivered_at IS NULL AND dead_at IS NULL"));
  if (!row || row->is_null(0)) return std::optional<std::int64_t>();
  return std::optional<std::int64_t>(row->i64(0));
}

Result<Backlog> backlog(db::Session& s) {
  // Both ranges of the outbox_events_due index: undelivered, then parked or not.
  auto pending = CUNHUO_TRY(s.query_one(
      "SELECT COUNT(*), MIN(created_at) FROM outbox_events WHERE delivered_at IS NULL AND "
      "dead_at IS NULL"));
  auto parked = CUNHUO_TRY(s.query_one(
      "SELECT COUNT(*) FROM outbox_events WHERE delivered_at IS NULL AND dead_at IS NOT NULL"));
  return Backlog{.pending = pending->i64(0),
                 .parked = parked->i64(0),
                 .oldest_pending_at_ms = pending->is_null(1) ? 0 : pending->i64(1)};
}

Result<DispatchStats> Dispatcher::run_once() {
  auto due = db_.read([&](db::Session& s) -> Result<std::vector<Event>> {
    auto rows = CUNHUO_TRY(s.query(
        "SELECT id, topic, payload, created_at, attempts FROM outbox_events "
        "WHERE delivered_at IS NULL AND dead_at IS NULL AND available_at <= ? ORDER BY id LIMIT ?",
        {clock_.now_ms(), static_cast<std::int64_t>(options_.batch_size)}));
    std::vector<Event> events;
    events.reserve(rows.size());
    for (const auto& r : rows)
      events.push_back(Event{r.i64(0), r.str(1), r.str(2), r.i64(3), static_cast<int>(r.i64(4))});
    return events;
  });
  if (!due.ok()) return due.error();
  DispatchStats stats;
  std::vector<std::int64_t> delivered;
  delivered.reserve(due->size());
  for (const auto& event : *due) {
    if (stopping_.load()) break;
    Status st = deliver(event);
    if (st.ok()) {
      delivered.push_back(event.id);
      continue;
    }
    ++stats.failed;
    if (auto rec = record_failure(event, st.error()); !rec.ok())
      spdlog::error("could not record outbox failure for event {}: {}", event.id,
                    rec.error().message);
  }
  CUNHUO_CHECK(mark_delivered(delivered));
  stats.delivered = delivered.size();
  return stats;
}

Result<DispatchStats> Dispatcher::drain(int max_passes) {
  DispatchStats total;
  for (int i = 0; i < max_passes; ++i) {
    auto pass = CUNHUO_TRY(run_once());
    total.delivered += pass.delivered;
    total.failed += pass.failed;
    if (pass.delivered == 0 && pass.failed == 0) break;
  }
  return total;
}

void Dispatcher::start() {
  assert(!thread_.joinable());
  stopping_ = false;
  thread_ = std::thread([this] { loop(); });
}

void Dispatcher::wake() {
  std::lock_guard lock(mu_);
  woken_ = true;
  cv_.notify_one();
}

void Dispatcher::stop() {
  if (!thread_.joinable()) return;
  stopping_ = true;
  wake();
  thread_.join();
}

void Dispatcher::loop() {
  while (!stopping_.load()) {
    auto pass = run_once();
    if (!pass.ok()) spdlog::warn("outbox pass failed: {}", pass.error().message);
    // A full batch means more may be waiting: go again at once.
    if (pass.ok() && pass->delivered + pass->failed >= options_.batch_size) continue;
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::milliseconds(options_.poll_ms),
                 [&] { return woken_ || stopping_.load(); });
    woken_ = false;
  }
}

}  // namespace cunhuo::outbox
