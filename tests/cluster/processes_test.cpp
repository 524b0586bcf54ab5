// Several service processes on one store: what each process kept to itself before
// (cached sessions, idempotency keys in flight, outbox dispatch, the daily passes, the live
// feed's events) stays correct when another process serves the same store. A "process" here
// is a second App opened on the first one's store, as a second `cunhuo serve` would be.
#include <atomic>
#include <future>
#include <memory>
#include <set>
#include <thread>

#include "core/clock.hpp"
#include "core/jobs/jobs.hpp"
#include "core/outbox/outbox.hpp"
#include "storefront/auth.hpp"
#include "storefront/session_revocations.hpp"
#include "tests/support/flows.hpp"
#include "tests/support/server.hpp"

using namespace cunhuo;
using namespace cunhuo::test;

namespace {

// Another process serving `first`'s store, on its own port.
class SecondProcess {
 public:
  explicit SecondProcess(TestServer& first) : clock_(first.clock()) {
    Config config;
    config.listen_host = "127.0.0.1";
    config.listen_port = 0;
    config.db_url = first.store().url();
    config.seed = kTestSeed;  // already loaded: the second process loads nothing again
    config.threads = 2;
    config.outbox_poll_ms = 20;
    config.data_dir = temp_dir();
    config.check_response_schemas = true;
    auto app = storefront::App::open(config, clock_);
    if (!app.ok()) FAIL("cannot open the second process: " << app.error().message);
    app_ = std::move(*app);
    auto started = app_->start();
    if (!started.ok()) FAIL("cannot start the second process: " << started.error().message);
  }
  ~SecondProcess() { app_->stop(std::chrono::milliseconds(2000)); }
  std::uint16_t port() const { return app_->port(); }
  storefront::App& app() { return *app_; }

 private:
  const Clock& clock_;  // the first's: a manual clock moves both
  std::unique_ptr<storefront::App> app_;
};

int me_status(std::uint16_t port, const std::string& token) {
  HttpClient c(port);
  return c.request("GET", "/api/v1/me", "", bearer(token)).status;
}

std::int64_t list_melon(TestServer& server) {
  HttpClient c(server.port());
  return list_for_sale(server, c);
}

}  // namespace

STORE_TEST("a session logged out through one process is refused by another at once",
           "[cluster][sessions]") {
  TestServer first(store_kind);
  SecondProcess second(first);
  const std::string token = first.login(kConsumer);
  REQUIRE(me_status(second.port(), token) == 200);  // now cached in the second process
  REQUIRE(me_status(second.port(), token) == 200);

  HttpClient c(first.port());
  REQUIRE(c.request("DELETE", "/api/v1/sessions/current", "", bearer(token)).status == 200);

  CHECK(me_status(second.port(), token) == 401);  // not after the cache's seconds: at once
  CHECK(me_status(first.port(), token) == 401);
}

STORE_TEST("sessions ended elsewhere by their owner are refused by every process at once",
           "[cluster][sessions]") {
  TestServer first(store_kind);
  SecondProcess second(first);
  const std::string kept = first.login(kConsumer), other = first.login(kConsumer);
  REQUIRE(me_status(second.port(), other) == 200);
  REQUIRE(me_status(second.port(), kept) == 200);

  HttpClient c(first.port());
  auto ended = c.request("DELETE", "/api/v1/sessions?keep_current=true", "", bearer(kept));
  REQUIRE(ended.status == 200);

  CHECK(me_status(second.port(), other) == 401);
  CHECK(me_status(second.port(), kept) == 200);
}

STORE_TEST("an idempotency key is answered the same whichever process gets the retry",
           "[cluster][idempotency]") {
  TestServer first(store_kind);
  SecondProcess second(first);
  const std::int64_t product = list_melon(first);
  const std::string buyer = first.login(kConsumer);
  const auto headers = bearer(buyer, {{"Idempotency-Key", "retry-elsewhere"}});
  HttpClient a(first.port()), b(second.port());

  auto placed = post_json(a, "/api/v1/orders", order_request_body(product), headers);
  auto retried = post_json(b, "/api/v1/orders", order_request_body(product), headers);

  REQUIRE(placed.status == 201);
  CHECK(retried.status == placed.status);
  CHECK(retried.body == placed.body);
  CHECK(first.count("SELECT COUNT(*) FROM orders") == 1);
}

STORE_TEST("the same key sent to two processes at once makes one order and one answer",
           "[cluster][idempotency]") {
  TestServer first(store_kind);
  SecondProcess second(first);
  const std::int64_t product = list_melon(first);
  const std::string buyer = first.login(kConsumer);
  constexpr int kRounds = 5;
  for (int round = 0; round < kRounds; ++round) {
    const auto headers = bearer(buyer, {{"Idempotency-Key", "both-" + std::to_string(round)}});
    auto send = [&](std::uint16_t port) {
      HttpClient c(port);
      return post_json(c, "/api/v1/orders", order_request_body(product), headers);
    };
    // Both in flight together: the later transaction meets the first's key and replays it.
    auto there = std::async(std::launch::async, send, second.port());
    auto here = send(first.port());
    auto other = there.get();
    REQUIRE(here.status == 201);
    CHECK(other.status == 201);
    CHECK(other.body == here.body);
  }
  CHECK(first.count("SELECT COUNT(*) FROM orders") == kRounds);
}

STORE_TEST("two processes dispatching the outbox at once handle each event exactly once",
           "[cluster][outbox]") {
  TestStore store(store_kind);
  store.migrate();
  REQUIRE(store.db()
              .write([](db::Session& s) -> Status {
                return s.exec_script(
                    "CREATE TABLE probe_effects (event_id BIGINT NOT NULL, handler_run INTEGER);");
              })
              .ok());
  SystemClock clock;
  constexpr int kEvents = 300;
  REQUIRE(publish_events(store.db(), clock, "probe.tick", kEvents).ok());
  auto other = store.reopen();
  // Small batches, so that the two passes interleave over the same events.
  outbox::Dispatcher here(store.db(), clock, {.batch_size = 16});
  outbox::Dispatcher there(*other, clock, {.batch_size = 16});
  for (auto* d : {&here, &there})
    d->subscribe("probe", "probe.tick", [](db::Session& tx, const outbox::Event& e) -> Status {
      CUNHUO_TRY(tx.exec("INSERT INTO probe_effects (event_id) VALUES (?)", {e.id}));
      return {};
    });

  auto elsewhere = std::async(std::launch::async, [&] { return there.drain(); });
  auto drained = here.drain();
  auto drained_there = elsewhere.get();
  REQUIRE(drained.ok());
  REQUIRE(drained_there.ok());

  auto counts = store.db().read([](db::Session& s) {
    return s.query_one("SELECT COUNT(*), COUNT(DISTINCT event_id) FROM probe_effects");
  });
  REQUIRE(counts.ok());
  CHECK((*counts)->i64(0) == kEvents);
  CHECK((*counts)->i64(1) == kEvents);
  auto waiting = store.db().read([](db::Session& s) {
    return s.query_one("SELECT COUNT(*) FROM outbox_events WHERE delivered_at IS NULL");
  });
  REQUIRE(waiting.ok());
  CHECK((*waiting)->i64(0) == 0);
}

STORE_TEST("a daily run is claimed by one process, and again only once given back or abandoned",
           "[cluster][jobs]") {
  TestStore store(store_kind);
  store.migrate();
  auto other = store.reopen();
  ManualClock clock(1'800'000'000'000);
  constexpr std::int64_t kDeadline = 60'000;
  using jobs::Claim;
  auto claim = [&](db::Database& db, const char* who) {
    auto got = jobs::claim_run(db, "probe.daily", "2026-12-07", who, kDeadline, clock);
    REQUIRE(got.ok());
    return *got;
  };
  CHECK(claim(store.db(), "a") == Claim::claimed);
  CHECK(claim(*other, "b") == Claim::busy);  // running in "a"
  // "a" failed: the run is given back and "b" takes it; "b" finishes it: nobody runs it again.
  REQUIRE(jobs::finish_run(store.db(), "probe.daily", "2026-12-07", "a", false, clock).ok());
  CHECK(claim(*other, "b") == Claim::claimed);
  REQUIRE(jobs::finish_run(*other, "probe.daily", "2026-12-07", "b", true, clock).ok());
  CHECK(claim(store.db(), "a") == Claim::done);
  // A run whose process died is taken over once its deadline passes.
  auto next_day = [&](db::Database& db, const char* who) {
    auto got = jobs::claim_run(db, "probe.daily", "2026-12-08", who, kDeadline, clock);
    REQUIRE(got.ok());
    return *got;
  };
  CHECK(next_day(store.db(), "a") == Claim::claimed);
  CHECK(next_day(*other, "b") == Claim::busy);
  clock.advance(std::chrono::milliseconds(kDeadline + 1));
  CHECK(next_day(*other, "b") == Claim::claimed);
}

STORE_TEST("two processes claiming one run at once: exactly one gets it", "[cluster][jobs]") {
  TestStore store(store_kind);
  store.migrate();
  SystemClock clock;
  constexpr int kRuns = 20;
  auto other = store.reopen();
  for (int run = 0; run < kRuns; ++run) {
    const std::string period = "day-" + std::to_string(run);
    auto there = std::async(std::launch::async, [&] {
      return jobs::claim_run(*other, "probe.race", period, "b", 60'000, clock);
    });
    auto here = jobs::claim_run(store.db(), "probe.race", period, "a", 60'000, clock);
    auto elsewhere = there.get();
    REQUIRE(here.ok());
    REQUIRE(elsewhere.ok());
    CHECK((*here == jobs::Claim::claimed) != (*elsewhere == jobs::Claim::claimed));
  }
}

STORE_TEST("the frequent housekeeping passes run in the one process holding the lease",
           "[cluster][jobs]") {
  TestStore store(store_kind);
  store.migrate();
  auto other = store.reopen();
  ManualClock clock(1'800'000'000'000);
  auto hold = [&](db::Database& db, const char* who) {
    auto got = jobs::hold_lease(db, "probe.lease", who, 10'000, clock);
    REQUIRE(got.ok());
    return *got;
  };
  CHECK(hold(store.db(), "a"));
  CHECK_FALSE(hold(*other, "b"));
  CHECK(hold(store.db(), "a"));  // renewed
  clock.advance(std::chrono::milliseconds(10'001));
  CHECK(hold(*other, "b"));  // "a" stopped renewing: taken over
  REQUIRE(jobs::release_lease(*other, "probe.lease", "b").ok());
  CHECK(hold(store.db(), "a"));  // given up: at once
}

STORE_TEST("the daily monitoring pass runs in one process however many run housekeeping",
           "[cluster][jobs]") {
  TestServer first(store_kind, kTestSeed, {}, ServerClock::manual);
  SecondProcess second(first);
  first.advance(std::chrono::hours(2));  // past the first pass's delay, in both processes
  for (int i = 0; i < 3; ++i) {
    first.app().housekeep_now();
    second.app().housekeep_now();
  }
  // One row per day and job; the process that did not claim it ran nothing.
  CHECK(eventually([&] {
    return first.count(
               "SELECT COUNT(*) FROM job_runs WHERE job = 'alleviation.monitoring' AND "
               "state = 'done'") == 1;
  }));
  CHECK(first.count("SELECT COUNT(*) FROM job_leases WHERE job = 'storefront.housekeeping'") == 1);
}

STORE_TEST("an event committed through one process reaches the live feed of another",
           "[cluster][live]") {
  TestServer first(store_kind);
  SecondProcess second(first);
  auto published = first.app().db().write(
      [&](db::Session& tx) { return outbox::publish(tx, "probe.live", "{}", first.clock()); });
  REQUIRE(published.ok());
  const std::int64_t newest = *published;
  // The second process's feed tails the shared outbox: it hands out what the first published.
  CHECK(second.app().live().wait_until(
      [&](const storefront::live::FeedStats& s) { return s.tailed_through >= newest; },
      std::chrono::seconds(10)));
}

STORE_TEST("a day's reconciliation claimed by a process that died is run by another",
           "[cluster][jobs]") {
  TestServer first(store_kind, kTestSeed, {}, ServerClock::manual);
  SecondProcess second(first);
  first.app().housekeep_now();
  second.app().housekeep_now();
  const std::int64_t now = first.clock().now_ms();
  // Tomorrow's "yesterday" is today: a third process claimed it a moment before it died.
  const std::string today = format_date(shanghai_date(now));
  const std::int64_t claimed_until = now + 24 * 3600'000LL + 60'000;
  REQUIRE(first.app()
              .db()
              .write([&](db::Session& tx) -> Status {
                CUNHUO_TRY(
                    tx.exec("INSERT INTO job_runs (job, period, holder, state, claimed_until) "
                            "VALUES ('payments.reconciliation', ?, 'dead:1:1', 'running', ?)",
                            {today, claimed_until}));
                return {};
              })
              .ok());
  first.advance(std::chrono::hours(24));
  first.app().housekeep_now();
  second.app().housekeep_now();
  first.advance(std::chrono::minutes(2));  // the dead claim's deadline is past
  for (int i = 0; i < 3; ++i) {
    first.app().housekeep_now();
    second.app().housekeep_now();
  }
  // The day before was reconciled by one of the two, as usual.
  CHECK(first.count("SELECT COUNT(*) FROM job_runs WHERE job = 'payments.reconciliation' AND "
                    "state = 'done'") >= 1);
  // The abandoned day is taken over once its claim's deadline has passed.
  CHECK(first.count("SELECT COUNT(*) FROM job_runs WHERE job = 'payments.reconciliation' AND "
                    "period = '" +
                    today + "' AND state = 'done'") == 1);
}

STORE_TEST("paying one checkout through two processes at once opens one intent",
           "[cluster][payments]") {
  TestServer first(store_kind);
  SecondProcess second(first);
  HttpClient c(first.port());
  const std::string buyer = first.login(kConsumer);
  int doubled = 0;
  constexpr int kRounds = 12;
  for (int round = 0; round < kRounds; ++round) {
    const Bought bought = buy(first, c, buyer, 1);
    auto there = std::async(std::launch::async, [&] {
      HttpClient other(second.port());
      return start_payment(other, buyer, bought.checkout, "there-" + std::to_string(round));
    });
    HttpClient here(first.port());
    auto mine = start_payment(here, buyer, bought.checkout, "here-" + std::to_string(round));
    auto theirs = there.get();
    REQUIRE(mine.status == 201);
    REQUIRE(theirs.status == 201);
    // Both answer the one intent: one order at the provider, one page the buyer can pay.
    CHECK(json_int(mine.body, "id") == json_int(theirs.body, "id"));
    doubled += first.count(
                   "SELECT COUNT(*) FROM payment_intents WHERE status = 'open' AND "
                   "checkout_id = " +
                   std::to_string(bought.checkout)) > 1
                   ? 1
                   : 0;
  }
  CHECK(doubled == 0);
}

STORE_TEST("logouts recorded by two processes at once all commit, numbered without gaps",
           "[cluster][sessions]") {
  TestStore store(store_kind);
  store.migrate();
  auto other = store.reopen();
  SystemClock clock;
  constexpr int kEach = 200;
  auto revoke = [&](db::Database& db, int who) {
    std::vector<std::string> failures;
    for (int i = 0; i < kEach; ++i) {
      auto st = db.write([&](db::Session& tx) {
        return storefront::SessionRevocations::record(tx, who, "h" + std::to_string(i), "", clock);
      });
      if (!st.ok()) failures.push_back(st.error().code);
    }
    return failures;
  };
  auto there = std::async(std::launch::async, revoke, std::ref(*other), 2);
  auto here = revoke(store.db(), 1);
  auto elsewhere = there.get();
  CHECK(here.size() + elsewhere.size() == 0);
  auto counted = store.db().read([](db::Session& s) {
    return s.query_one("SELECT COUNT(*), MAX(seq) FROM session_revocations");
  });
  REQUIRE(counted.ok());
  CHECK((*counted)->i64(0) == 2 * kEach);
  CHECK((*counted)->i64(0) == (*counted)->i64(1));  // no gaps
}

namespace {

// The port of the process each try goes to: first, second, first, ... as nginx's round-robin.
std::uint16_t round_robin(int i, TestServer& first, SecondProcess& second) {
  return i % 2 == 0 ? first.port() : second.port();
}

}  // namespace

STORE_TEST("wrong passwords for one phone spread over two processes lock it after the same total",
           "[cluster][limits]") {
  TestServer first(store_kind);
  SecondProcess second(first);
  const std::string wrong = R"({"phone":")" + kConsumer + R"(","password":"not-the-password"})";
  const std::string right = R"({"phone":")" + kConsumer + R"(","password":"cunhuo-demo"})";
  constexpr int kLimit = storefront::LoginLimits::kWrongPasswordsPerPhone;
  for (int i = 0; i < kLimit; ++i) {
    HttpClient c(round_robin(i, first, second));
    REQUIRE(post_json(c, "/api/v1/sessions", wrong).status == 401);
  }
  for (int i = 0; i < 2; ++i) {  // locked whichever process the next try reaches
    HttpClient c(round_robin(i, first, second));
    auto locked = post_json(c, "/api/v1/sessions", right);
    CHECK(locked.status == 429);
    CHECK(locked.header("retry-after").has_value());
  }
}

STORE_TEST(
    "code requests from one address spread over two processes are refused after the same "
    "total",
    "[cluster][limits]") {
  TestServer first(store_kind);
  SecondProcess second(first);
  const int limit = Config{}.code_requests_per_address;  // both processes use the default
  auto ask = [&](int i) {
    HttpClient c(round_robin(i, first, second));
    const std::string phone = std::to_string(13700000100LL + i);  // each phone asks once
    return post_json(c, "/api/v1/phone-codes",
                     R"({"phone":")" + phone + R"(","purpose":"sign_up"})");
  };
  for (int i = 0; i < limit; ++i) REQUIRE(ask(i).status == 202);
  for (int i = limit; i < limit + 2; ++i) {  // refused by either process
    auto refused = ask(i);
    CHECK(refused.status == 429);
    CHECK(refused.header("retry-after").has_value());
  }
}

STORE_TEST("counted windows keep no phone in clear and are pruned once they end",
           "[cluster][limits]") {
  TestServer server(store_kind, kTestSeed, {}, ServerClock::manual);
  HttpClient c(server.port());
  const std::string wrong = R"({"phone":")" + kConsumer + R"(","password":"not-the-password"})";
  REQUIRE(post_json(c, "/api/v1/sessions", wrong).status == 401);
  const std::string windows = "SELECT COUNT(*) FROM rate_limit_windows";
  REQUIRE(server.count(windows) > 0);
  CHECK(server.count(windows + " WHERE key_hash LIKE '%" + kConsumer + "%'") == 0);
  CHECK(server.count(windows + " WHERE key_hash LIKE '%127.0.0.1%'") == 0);
  server.advance(std::chrono::hours(2));  // past every window and the pruning interval
  server.app().housekeep_now();
  CHECK(server.count(windows) == 0);
}
