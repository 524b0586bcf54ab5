#include "storefront/idempotency.hpp"

#include <sodium.h>
#include <spdlog/spdlog.h>

namespace cunhuo::storefront {
namespace {

constexpr std::int64_t kLeaseMs = 60'000;  // an in-flight claim older than this was abandoned (a crash)
constexpr std::size_t kMaxKeyLength = 255;

constexpr db::Migration kMigrations[] = {
    {"storefront", 2, "idempotency keys",
     "CREATE TABLE IF NOT EXISTS idempotency_keys (\n"
     "  account_id BIGINT NOT NULL,\n"
     "  idem_key VARCHAR(255) NOT NULL,\n"
     "  request_hash VARCHAR(64) NOT NULL,\n"
     "  state VARCHAR(12) NOT NULL,\n"
     "  status INTEGER,\n"
     "  response MEDIUMTEXT,\n"
     "  created_at BIGINT NOT NULL,\n"
     "  updated_at BIGINT NOT NULL,\n"
     "  PRIMARY KEY (account_id, idem_key)\n"
     ");\n"},
};

}  // namespace

std::string Idempotency::request_hash(const Request& r) {
  crypto_generichash_state state;
  unsigned char digest[32];
  crypto_generichash_init(&state, nullptr, 0, sizeof digest);
  for (const std::string* part : {&r.method, &r.path, &r.body}) {
    crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(part->data()), part->size());
    crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>("\n"), 1);
  }
  crypto_generichash_final(&state, digest, sizeof digest);
  char hex[65];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  return hex;
}

namespace {

bool valid_key(const std::string& key) {
  if (key.empty() || key.size() > kMaxKeyLength) return false;
  for (unsigned char c : key)
    if (c < 0x21 || c > 0x7E) return false;
  return true;
}

// A refusal the same request would get again is kept; one that may pass later is not.
bool worth_keeping(int status) { return status >= 400 && status < 500 && status != 409 && status != 429; }

struct Claim {
  bool ours = false;
  std::optional<Response> answer;  // when not ours: what to send instead
};

}  // namespace

std::span<const db::Migration> Idempotency::migrations() { return kMigrations; }

Response Idempotency::run(const Request& request, std::int64_t account,
                          const std::function<Result<Response>(db::Session&)>& work) {
  auto key = request.header("idempotency-key");
  if (!key) return error_response(400, "missing_idempotency_key", "send an Idempotency-Key header", "Idempotency-Key");
  if (!valid_key(*key))
    return error_response(400, "invalid_idempotency_key", "1 to 255 visible ASCII characters", "Idempotency-Key");
  const std::string hash = request_hash(request);
  const std::int64_t now = clock_.now_ms();

  auto claim = db_.write([&](db::Session& tx) -> Result<Claim> {
    auto inserted = CUNHUO_TRY(tx.exec(std::string(tx.insert_ignore()) +
                                           " INTO idempotency_keys (account_id, idem_key, request_hash, state, created_at, "
                                           "updated_at) VALUES (?, ?, ?, 'in_flight', ?, ?)",
                                       {account, *key, hash, now, now}));
    if (inserted.affected_rows == 1) return Claim{true, std::nullopt};
    auto row = CUNHUO_TRY(tx.query_one(
        "SELECT request_hash, state, status, response, updated_at FROM idempotency_keys WHERE account_id = ? AND idem_key = ?",
        {account, *key}));
    if (!row) return make_error(ErrorKind::unavailable, "store_busy", "try again");
    if (row->str(0) != hash)
      return Claim{false, error_response(422, "idempotency_key_reused", "this key was used for a different request",
                                         "Idempotency-Key")};
    if (row->str(1) == "done") return Claim{false, Response::json(static_cast<int>(row->i64(2)), row->str(3))};
    if (now - row->i64(4) < kLeaseMs)
      return Claim{false, error_response(409, "request_in_progress", "the first request with this key is still running",
                                         "Idempotency-Key")};
    // The first attempt died before finishing (its work never committed): take over.
    CUNHUO_TRY(tx.exec("UPDATE idempotency_keys SET updated_at = ? WHERE account_id = ? AND idem_key = ?", {now, account, *key}));
    return Claim{true, std::nullopt};
  });
  if (!claim.ok()) return error_response(claim.error());
  if (!claim->ours) return std::move(*claim->answer);

  auto done = db_.write([&](db::Session& tx) -> Result<Response> {
    Response response = CUNHUO_TRY(work(tx));
    CUNHUO_TRY(tx.exec("UPDATE idempotency_keys SET state = 'done', status = ?, response = ?, updated_at = ? "
                       "WHERE account_id = ? AND idem_key = ?",
                       {response.status, response.body, clock_.now_ms(), account, *key}));
    return response;
  });
  if (done.ok()) return std::move(*done);

  Response refusal = error_response(done.error());
  auto settled = db_.write([&](db::Session& tx) -> Status {
    if (worth_keeping(refusal.status))
      CUNHUO_TRY(tx.exec("UPDATE idempotency_keys SET state = 'done', status = ?, response = ?, updated_at = ? "
                         "WHERE account_id = ? AND idem_key = ?",
                         {refusal.status, refusal.body, clock_.now_ms(), account, *key}));
    else
      CUNHUO_TRY(tx.exec("DELETE FROM idempotency_keys WHERE account_id = ? AND idem_key = ?", {account, *key}));
    return {};
  });
  if (!settled.ok()) spdlog::error("could not settle idempotency key: {}", settled.error().message);
  return refusal;
}

}  // namespace cunhuo::storefront
