// Expired sessions, day-old idempotency keys and old provider nonces are pruned, a bounded
// batch per transaction, and nothing still in force goes.
#include "payments/intents.hpp"
#include "storefront/auth.hpp"
#include "storefront/idempotency.hpp"
#include "tests/support/support.hpp"

using namespace cunhuo;
using cunhuo::test::TestStore;

namespace {

constexpr std::int64_t kNow = 1'800'000'000'000;
constexpr std::int64_t kDay = 24LL * 3600 * 1000;

std::int64_t count(db::Database& db, const std::string& sql) {
  auto row = db.read([&](db::Session& s) { return s.query_one(sql); });
  REQUIRE(row.ok());
  return (*row)->i64(0);
}

void insert(db::Database& db, const std::string& sql, int n, std::int64_t at) {
  REQUIRE(db.write([&](db::Session& tx) -> Status {
              for (int i = 0; i < n; ++i)
                CUNHUO_TRY(tx.exec(sql, {"k" + std::to_string(at) + "-" + std::to_string(i), at}));
              return {};
            }).ok());
}

}  // namespace

STORE_TEST("expired sessions are pruned and live ones kept", "[store][pruning]") {
  TestStore store(store_kind);
  store.migrate();
  const std::string sql =
      "INSERT INTO sessions (token_hash, account_id, created_at, expires_at) VALUES (?, 1, 0, ?)";
  insert(store.db(), sql, 3, kNow - 1);
  insert(store.db(), sql, 2, kNow + kDay);
  auto gone =
      store.db().write([](db::Session& tx) { return storefront::Auth::prune_sessions(tx, kNow); });
  REQUIRE(gone.ok());
  CHECK(*gone == 3);
  CHECK(count(store.db(), "SELECT COUNT(*) FROM sessions") == 2);
}

STORE_TEST("idempotency keys older than a day are pruned, a batch at a time", "[store][pruning]") {
  TestStore store(store_kind);
  store.migrate();
  const std::string sql =
      "INSERT INTO idempotency_keys (account_id, idem_key, request_hash, state, status, response, "
      "created_at, updated_at) VALUES (1, ?, 'h', 'done', 201, '{}', ?, 0)";
  const int old = storefront::Idempotency::kPruneBatch + 5;
  for (int i = 0; i < old; ++i) insert(store.db(), sql, 1, kNow - 2 * kDay - i);  // distinct ages
  insert(store.db(), sql, 4, kNow - kDay / 2);
  auto first =
      store.db().write([](db::Session& tx) { return storefront::Idempotency::prune(tx, kNow); });
  REQUIRE(first.ok());
  CHECK(*first == storefront::Idempotency::kPruneBatch);
  auto second =
      store.db().write([](db::Session& tx) { return storefront::Idempotency::prune(tx, kNow); });
  CHECK(*second == 5);
  CHECK(count(store.db(), "SELECT COUNT(*) FROM idempotency_keys") == 4);
}

STORE_TEST("provider nonces are pruned only once their timestamps could no longer be replayed",
           "[store][pruning]") {
  TestStore store(store_kind);
  store.migrate();
  const std::string sql = "INSERT INTO provider_nonces (nonce, seen_at) VALUES (?, ?)";
  insert(store.db(), sql, 2, kNow - payments::kNonceRetentionMs - 1);
  insert(store.db(), sql, 3, kNow - payments::kNotificationSkewMs * 2);
  auto gone = store.db().write([](db::Session& tx) { return payments::prune_nonces(tx, kNow); });
  REQUIRE(gone.ok());
  CHECK(*gone == 2);
  CHECK(count(store.db(), "SELECT COUNT(*) FROM provider_nonces") == 3);
}
