// Idempotency keys for POSTs that create money or orders (Stripe's model, the IETF
// draft): the key is stored with a hash of the request and the first response. The same
// key and body get the same response; the same key with a different body is a 422; the
// same key while the first request is still running is a 409. The response is recorded
// in the same transaction as the work it describes, so a crash cannot separate them and
// a retry after a crash simply runs the work (which never committed) again.
#pragma once

#include <functional>
#include <mutex>
#include <set>
#include <span>
#include <string>

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "core/db/migrations.hpp"
#include "storefront/http.hpp"

namespace cunhuo::storefront {

class Idempotency {
 public:
  Idempotency(db::Database& db, const Clock& clock) : db_(db), clock_(clock) {}
  static std::span<const db::Migration> migrations();
  // A key answers the same for a day (as Stripe's do); after that it may be used afresh.
  static constexpr std::int64_t kRetentionMs = 24LL * 3600 * 1000;
  static constexpr int kPruneBatch = 1000;  // rows per pruning transaction
  // Forgets keys older than kRetentionMs, a batch at a time; returns how many went.
  static Result<std::int64_t> prune(db::Session& tx, std::int64_t now_ms);
  // What identifies "the same request": method, path and body.
  static std::string request_hash(const Request& request);

  using Work = std::function<Result<Response>(db::Session&)>;
  // Runs `work` in one write transaction at most once per (account, Idempotency-Key)
  // and answers through `respond` once that transaction is durable (or refused). `work`
  // may run on another thread and must own what it uses.
  void run_async(const Request& request, std::int64_t account, Work work, Respond respond);
  // The same, waiting for the answer.
  Response run(const Request& request, std::int64_t account, Work work);
  // The answer already recorded for this request's key (or the 422 for a key reused with
  // another body), for routes that must call out before `run` and so check first.
  Result<std::optional<Response>> replay(const Request& request, std::int64_t account);

 private:
  class InFlight;
  struct Claim {
    std::int64_t account = 0;
    std::string key, hash;
  };
  Result<std::optional<Response>> earlier(db::Session& tx, const Claim& claim);
  Status record(db::Session& tx, const Claim& claim, const Response& response);
  Response settle_refusal(const Claim& claim, const Error& error);
  db::Database& db_;
  const Clock& clock_;
  std::mutex mu_;
  std::set<std::string> running_;  // "account/key" being handled in this process
};

}  // namespace cunhuo::storefront
