#include <condition_variable>
#include <mutex>
#include <thread>

#include "core/outbox/outbox.hpp"
#include "tests/support/support.hpp"

using namespace cunhuo;
using cunhuo::test::TestStore;

namespace {

void make_effects(db::Database& db) {
  REQUIRE(db.write([](db::Session& s) -> Status {
              return s.exec_script(
                  "CREATE TABLE effects (event_id BIGINT NOT NULL, handler VARCHAR(50) NOT NULL);");
            }).ok());
}

Status publish_n(db::Database& db, const Clock& clock, int n, const char* topic = "order.paid") {
  return db.write([&](db::Session& tx) -> Status {
    for (int i = 0; i < n; ++i)
      CUNHUO_TRY(outbox::publish(tx, topic, "{\"n\":" + std::to_string(i) + "}", clock));
    return {};
  });
}

std::int64_t count(db::Database& db, const std::string& sql) {
  auto r = db.read([&](db::Session& s) { return s.query_one(sql); });
  REQUIRE(r.ok());
  return (*r)->i64(0);
}

outbox::Handler recording(const char* name) {
  return [name](db::Session& tx, const outbox::Event& e) -> Status {
    CUNHUO_TRY(tx.exec("INSERT INTO effects (event_id, handler) VALUES (?, ?)", {e.id, name}));
    return {};
  };
}

// Counts handler calls so a test can wait for them instead of sleeping.
class Handled {
 public:
  outbox::Handler counting(outbox::Handler inner) {
    return [this, inner = std::move(inner)](db::Session& tx, const outbox::Event& e) -> Status {
      CUNHUO_CHECK(inner(tx, e));
      std::lock_guard lock(mu_);
      ++calls_;
      cv_.notify_all();
      return {};
    };
  }
  // True once `n` calls were made; false after a generous timeout.
  bool wait_for(int n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(30), [&] { return calls_ >= n; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int calls_ = 0;
};

}  // namespace

STORE_TEST("an event published in a rolled-back transaction does not exist", "[store][outbox]") {
  TestStore store(store_kind);
  store.migrate();
  ManualClock clock(1'000'000);
  auto st = store.db().write([&](db::Session& tx) -> Status {
    CUNHUO_TRY(outbox::publish(tx, "order.paid", "{}", clock));
    return make_error(ErrorKind::conflict, "later_failure", "the change failed after publishing");
  });
  REQUIRE_FALSE(st.ok());
  CHECK(count(store.db(), "SELECT COUNT(*) FROM outbox_events") == 0);
}

STORE_TEST("every subscribed handler gets each event once", "[store][outbox]") {
  TestStore store(store_kind);
  store.migrate();
  make_effects(store.db());
  ManualClock clock(1'000'000);
  REQUIRE(publish_n(store.db(), clock, 5).ok());
  REQUIRE(publish_n(store.db(), clock, 2, "other.topic").ok());
  outbox::Dispatcher d(store.db(), clock);
  d.subscribe("payments.escrow", "order.paid", recording("payments.escrow"));
  d.subscribe("alleviation.score", "order.paid", recording("alleviation.score"));
  auto stats = d.drain();
  REQUIRE(stats.ok());
  CHECK(stats->delivered == 7);
  CHECK(count(store.db(), "SELECT COUNT(*) FROM effects WHERE handler = 'payments.escrow'") == 5);
  CHECK(count(store.db(), "SELECT COUNT(*) FROM effects WHERE handler = 'alleviation.score'") == 5);
  CHECK(count(store.db(), "SELECT COUNT(*) FROM outbox_events WHERE delivered_at IS NULL") == 0);
}

STORE_TEST("redelivering an event after a crash does not repeat its effects", "[store][outbox]") {
  TestStore store(store_kind);
  store.migrate();
  make_effects(store.db());
  ManualClock clock(1'000'000);
  REQUIRE(publish_n(store.db(), clock, 3).ok());
  outbox::Dispatcher first(store.db(), clock);
  first.subscribe("h", "order.paid", recording("h"));
  REQUIRE(first.drain().ok());
  // Simulate a crash between the handler's commit and the delivered mark.
  REQUIRE(store.db()
              .write([](db::Session& s) -> Status {
                CUNHUO_TRY(s.exec("UPDATE outbox_events SET delivered_at = NULL"));
                return {};
              })
              .ok());
  outbox::Dispatcher second(store.db(), clock);
  second.subscribe("h", "order.paid", recording("h"));
  REQUIRE(second.drain().ok());
  CHECK(count(store.db(), "SELECT COUNT(*) FROM effects") == 3);
}

STORE_TEST("a failing handler rolls back and is retried after a back-off", "[store][outbox]") {
  TestStore store(store_kind);
  store.migrate();
  make_effects(store.db());
  ManualClock clock(1'000'000);
  REQUIRE(publish_n(store.db(), clock, 1).ok());
  int calls = 0;
  outbox::Dispatcher d(store.db(), clock);
  d.subscribe("flaky", "order.paid", [&](db::Session& tx, const outbox::Event& e) -> Status {
    ++calls;
    CUNHUO_TRY(tx.exec("INSERT INTO effects (event_id, handler) VALUES (?, ?)", {e.id, "flaky"}));
    if (calls == 1) return make_error(ErrorKind::unavailable, "downstream", "not yet");
    return {};
  });
  auto first = d.run_once();
  CHECK(first->failed == 1);
  CHECK(count(store.db(), "SELECT COUNT(*) FROM effects") == 0);  // rolled back with the failure
  CHECK(d.run_once()->failed + d.run_once()->delivered == 0);     // not due yet
  clock.advance(std::chrono::minutes(1));
  CHECK(d.run_once()->delivered == 1);
  CHECK(count(store.db(), "SELECT COUNT(*) FROM effects") == 1);
  CHECK(count(store.db(), "SELECT attempts FROM outbox_events") == 1);
}

STORE_TEST("an event that keeps failing is parked for a person to look at", "[store][outbox]") {
  TestStore store(store_kind);
  store.migrate();
  ManualClock clock(1'000'000);
  REQUIRE(publish_n(store.db(), clock, 1).ok());
  outbox::DispatcherOptions options;
  options.max_attempts = 3;
  outbox::Dispatcher d(store.db(), clock, options);
  d.subscribe("broken", "order.paid", [](db::Session&, const outbox::Event&) -> Status {
    return make_error(ErrorKind::internal, "bug", "always fails");
  });
  for (int i = 0; i < 5; ++i) {
    (void)d.run_once();
    clock.advance(std::chrono::hours(1));
  }
  CHECK(count(store.db(), "SELECT COUNT(*) FROM outbox_events WHERE dead_at IS NOT NULL") == 1);
  CHECK(count(store.db(), "SELECT attempts FROM outbox_events") == 3);
}

STORE_TEST("two dispatchers on one store never double an effect", "[store][outbox]") {
  TestStore store(store_kind);
  store.migrate();
  make_effects(store.db());
  SystemClock clock;
  REQUIRE(publish_n(store.db(), clock, 200).ok());
  auto other_db = store.reopen();
  outbox::Dispatcher a(store.db(), clock), b(*other_db, clock);
  a.subscribe("h", "order.paid", recording("h"));
  b.subscribe("h", "order.paid", recording("h"));
  bool a_ok = false, b_ok = false;  // Catch assertions are not thread-safe: check after joining
  std::thread ta([&] { a_ok = a.drain().ok(); });
  std::thread tb([&] { b_ok = b.drain().ok(); });
  ta.join();
  tb.join();
  CHECK(a_ok);
  CHECK(b_ok);
  CHECK(count(store.db(), "SELECT COUNT(*) FROM effects") == 200);
  CHECK(count(store.db(), "SELECT COUNT(DISTINCT event_id) FROM effects") == 200);
}

STORE_TEST("the background dispatcher delivers after a wake-up", "[store][outbox]") {
  TestStore store(store_kind);
  store.migrate();
  make_effects(store.db());
  SystemClock clock;
  REQUIRE(publish_n(store.db(), clock, 1, "warm.up").ok());
  // The poll is far longer than the test may take: only wake() can start the second pass.
  outbox::DispatcherOptions options;
  options.poll_ms = 3'600'000;
  outbox::Dispatcher d(store.db(), clock, options);
  Handled handled;
  d.subscribe("warm", "warm.up", handled.counting(recording("warm")));
  d.subscribe("h", "order.paid", handled.counting(recording("h")));
  d.start();
  // The first pass has read its batch once it runs the warm-up handler: what is published
  // after that waits for a wake-up.
  REQUIRE(handled.wait_for(1));
  REQUIRE(publish_n(store.db(), clock, 10).ok());
  d.wake();
  const bool all_handled = handled.wait_for(11);
  d.stop();  // finishes the pass, so every handled event is committed
  CHECK(all_handled);
  CHECK(count(store.db(), "SELECT COUNT(*) FROM effects WHERE handler = 'h'") == 10);
  CHECK(count(store.db(), "SELECT COUNT(*) FROM outbox_events WHERE delivered_at IS NULL") == 0);
}
