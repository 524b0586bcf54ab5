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
