// Idempotency keys on both stores: replay, reuse, in-flight and refusals.
#include <thread>

#include "storefront/idempotency.hpp"
#include "tests/support/support.hpp"

using namespace cunhuo;
using namespace cunhuo::storefront;
using cunhuo::test::TestStore;

namespace {

Request post(const std::string& key, const std::string& body) {
  Request r;
  r.method = "POST";
  r.path = "/api/v1/orders";
  r.body = body;
  r.headers.emplace_back("idempotency-key", key);
  return r;
}

struct Counter {
  int runs = 0;
  std::function<Result<Response>(db::Session&)> work() {
    return [this](db::Session& tx) -> Result<Response> {
      ++runs;
      CUNHUO_TRY(tx.exec("INSERT INTO effects (n) VALUES (?)", {runs}));
      return Response::json(201, "{\"run\":" + std::to_string(runs) + "}");
    };
  }
};

void prepare(TestStore& store) {
  store.migrate();
  REQUIRE(store.db()
              .write([](db::Session& s) -> Status {
                return s.exec_script("CREATE TABLE effects (n BIGINT NOT NULL);");
              })
              .ok());
}

std::int64_t effects(TestStore& store) {
  auto r =
      store.db().read([](db::Session& s) { return s.query_one("SELECT COUNT(*) FROM effects"); });
  return (*r)->i64(0);
}

}  // namespace

STORE_TEST("the same key and body replay the first answer without running again",
           "[store][idempotency]") {
  TestStore store(store_kind);
  prepare(store);
  SystemClock clock;
  Idempotency idem(store.db(), clock);
  Counter counter;
  auto first = idem.run(post("k1", "{\"a\":1}"), 7, counter.work());
  auto second = idem.run(post("k1", "{\"a\":1}"), 7, counter.work());
  CHECK(first.status == 201);
  CHECK(second.body == first.body);
  CHECK(counter.runs == 1);
  CHECK(effects(store) == 1);
  auto other_account = idem.run(post("k1", "{\"a\":1}"), 8, counter.work());
  CHECK(other_account.status == 201);  // keys belong to one account
  CHECK(counter.runs == 2);
}

STORE_TEST("the same key with a different body is a 422", "[store][idempotency]") {
  TestStore store(store_kind);
  prepare(store);
  SystemClock clock;
  Idempotency idem(store.db(), clock);
  Counter counter;
  CHECK(idem.run(post("k1", "{\"a\":1}"), 7, counter.work()).status == 201);
  auto reused = idem.run(post("k1", "{\"a\":2}"), 7, counter.work());
  CHECK(reused.status == 422);
  CHECK(counter.runs == 1);
}

STORE_TEST("the same key while the first request runs is a 409", "[store][idempotency]") {
  TestStore store(store_kind);
  prepare(store);
  SystemClock clock;
  Idempotency idem(store.db(), clock);
  Response concurrent;
  auto first = idem.run(post("k1", "{}"), 7, [&](db::Session&) -> Result<Response> {
    std::thread second([&] {
      concurrent = idem.run(post("k1", "{}"), 7, [](db::Session&) -> Result<Response> {
        return Response::json(201, "{}");
      });
    });
    second.join();
    return Response::json(201, "{\"first\":true}");
  });
  CHECK(first.status == 201);
  CHECK(concurrent.status == 409);
  CHECK(concurrent.body.find("request_in_progress") != std::string::npos);
}

STORE_TEST("a refusal is kept for the key but a passing conflict is not", "[store][idempotency]") {
  TestStore store(store_kind);
  prepare(store);
  SystemClock clock;
  Idempotency idem(store.db(), clock);
  int runs = 0;
  auto refuse = [&](ErrorKind kind) {
    return [&runs, kind](db::Session& tx) -> Result<Response> {
      ++runs;
      CUNHUO_TRY(tx.exec("INSERT INTO effects (n) VALUES (1)"));
      return make_error(kind, "nope", "refused");
    };
  };
  CHECK(idem.run(post("bad", "{}"), 7, refuse(ErrorKind::invalid)).status == 400);
  CHECK(idem.run(post("bad", "{}"), 7, refuse(ErrorKind::invalid)).status == 400);
  CHECK(runs == 1);  // replayed, not re-run
  CHECK(idem.run(post("busy", "{}"), 7, refuse(ErrorKind::conflict)).status == 409);
  CHECK(idem.run(post("busy", "{}"), 7, refuse(ErrorKind::conflict)).status == 409);
  CHECK(runs == 3);            // a conflict may pass later: the key stays free
  CHECK(effects(store) == 0);  // refused work never commits
}

STORE_TEST("a missing or malformed key is a 400 and runs nothing", "[store][idempotency]") {
  TestStore store(store_kind);
  prepare(store);
  SystemClock clock;
  Idempotency idem(store.db(), clock);
  Counter counter;
  Request none = post("x", "{}");
  none.headers.clear();
  CHECK(idem.run(none, 7, counter.work()).status == 400);
  CHECK(idem.run(post("has space", "{}"), 7, counter.work()).status == 400);
  CHECK(idem.run(post(std::string(300, 'k'), "{}"), 7, counter.work()).status == 400);
  CHECK(counter.runs == 0);
}

namespace {
// The store, counting the transactions that asked to read the latest (read_latest): on a
// Galera cluster what another node committed a moment ago; on one server a no-op.
class LatestReadsCounted final : public db::Database {
 public:
  explicit LatestReadsCounted(db::Database& inner) : inner_(inner) {}
  int latest_reads() const { return latest_reads_; }
  db::Dialect dialect() const override { return inner_.dialect(); }
  std::string describe() const override { return inner_.describe(); }
  Status ping() override { return inner_.ping(); }
  Status flush() override { return inner_.flush(); }

 protected:
  Status run(db::TxMode mode, const std::function<Status(db::Session&)>& body) override {
    auto counted = [&](db::Session& s) -> Status {
      Counted session(s, latest_reads_);
      return body(session);
    };
    return mode == db::TxMode::read ? inner_.read(counted) : inner_.write(counted);
  }

 private:
  class Counted final : public db::Session {
   public:
    Counted(db::Session& inner, int& latest_reads) : inner_(inner), latest_reads_(latest_reads) {}
    db::Dialect dialect() const override { return inner_.dialect(); }
    Result<db::Exec> exec_with(std::string_view sql, std::span<const db::Value> p) override {
      return inner_.exec_with(sql, p);
    }
    Result<std::vector<db::Row>> query_with(std::string_view sql,
                                            std::span<const db::Value> p) override {
      return inner_.query_with(sql, p);
    }
    Result<std::int64_t> last_insert_id() override { return inner_.last_insert_id(); }
    Status exec_script(std::string_view sql) override { return inner_.exec_script(sql); }
    Status read_latest() override {
      ++latest_reads_;
      return inner_.read_latest();
    }

   private:
    db::Session& inner_;
    int& latest_reads_;
  };
  db::Database& inner_;
  int latest_reads_ = 0;
};
}  // namespace

STORE_TEST(
    "the answer looked up before calling the payment provider is read as of the latest "
    "commit on any node",
    "[store][idempotency]") {
  TestStore store(store_kind);
  prepare(store);
  SystemClock clock;
  Counter counter;
  Idempotency first(store.db(), clock);
  const Response answered = first.run(post("pay-1", "{\"a\":1}"), 7, counter.work());
  LatestReadsCounted counted(store.db());
  Idempotency idem(counted, clock);
  auto replayed = idem.replay(post("pay-1", "{\"a\":1}"), 7);
  REQUIRE(replayed.ok());
  REQUIRE(*replayed);
  CHECK((*replayed)->body == answered.body);
  CHECK(counted.latest_reads() == 1);
}
