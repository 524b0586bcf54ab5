#include "storefront/idempotency.hpp"

#include <sodium.h>

#include <future>
#include <spdlog/spdlog.h>

namespace cunhuo::storefront {
namespace {

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
    {"storefront", 4, "idempotency keys pruned by age",
     "CREATE INDEX IF NOT EXISTS idempotency_keys_age ON idempotency_keys (created_at);\n"},
};

}  // namespace

std::string Idempotency::request_hash(const Request& r) {
  crypto_generichash_state state;
  unsigned char digest[32];
  crypto_generichash_init(&state, nullptr, 0, sizeof digest);
  for (const std::string* part : {&r.method, &r.path, &r.body}) {
    crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(part->data()),
                              part->size());
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
bool worth_keeping(int status) {
  return status >= 400 && status < 500 && status != 409 && status != 429;
}

}  // namespace

std::span<const db::Migration> Idempotency::migrations() { return kMigrations; }

Result<std::int64_t> Idempotency::prune(db::Session& tx, std::int64_t now_ms) {
  return db::prune_older(tx, "idempotency_keys", "created_at", now_ms - kRetentionMs, kPruneBatch);
}

// Marks (account, key) as running in this process for the life of the object; a second
// request with the same pair meanwhile is told so (409). Across processes the key's
// primary key does the same job: the later transaction fails on it and replays.
class Idempotency::InFlight {
 public:
  InFlight(Idempotency& owner, std::string id) : owner_(owner), id_(std::move(id)) {
    std::lock_guard lock(owner_.mu_);
    claimed_ = owner_.running_.insert(id_).second;
  }
  ~InFlight() {
    if (!claimed_) return;
    std::lock_guard lock(owner_.mu_);
    owner_.running_.erase(id_);
  }
  bool claimed() const { return claimed_; }

 private:
  Idempotency& owner_;
  std::string id_;
  bool claimed_ = false;
};

Result<std::optional<Response>> Idempotency::earlier(db::Session& tx, const Claim& c) {
  auto row =
      CUNHUO_TRY(tx.query_one("SELECT request_hash, status, response FROM idempotency_keys WHERE "
                              "account_id = ? AND idem_key = ?",
                              {c.account, c.key}));
  if (!row) return std::optional<Response>();
  if (row->str(0) != c.hash)
    return std::optional<Response>(error_response(422, "idempotency_key_reused",
                                                  "this key was used for a different request",
                                                  "Idempotency-Key"));
  return std::optional<Response>(Response::json(static_cast<int>(row->i64(1)), row->str(2)));
}

Status Idempotency::record(db::Session& tx, const Claim& c, const Response& response) {
  CUNHUO_TRY(tx.exec(
      "INSERT INTO idempotency_keys (account_id, idem_key, request_hash, state, status, response, "
      "created_at, updated_at) VALUES (?, ?, ?, 'done', ?, ?, ?, ?)",
      {c.account, c.key, c.hash, response.status, response.body, clock_.now_ms(),
       clock_.now_ms()}));
  return {};
}

// After the work's transaction failed: answer as another process did, or keep a refusal
// that the same request would get again. Another process running the same key at the same
// time makes this one fail on the key's row (duplicate), or on what its work changed first
// (the last unit sold, by that very request): either way its recorded answer is the answer.
Response Idempotency::settle_refusal(const Claim& c, const Error& error) {
  auto replay = db_.read([&](db::Session& s) -> Result<std::optional<Response>> {
    CUNHUO_CHECK(s.read_latest());  // committed through another Galera node a moment ago
    return earlier(s, c);
  });
  if (replay.ok() && *replay) return std::move(**replay);
  Response refusal = error_response(error);
  if (worth_keeping(refusal.status)) {
    auto kept = db_.write([&](db::Session& tx) -> Status {
      if (CUNHUO_TRY(earlier(tx, c))) return {};
      return record(tx, c, refusal);
    });
    if (!kept.ok())
      spdlog::warn("could not keep the refusal for an idempotency key: {}", kept.error().message);
  }
  return refusal;
}

void Idempotency::run_async(const Request& request, std::int64_t account, Work work,
                            Respond respond) {
  auto key = request.header("idempotency-key");
  if (!key)
    return respond(error_response(400, "missing_idempotency_key", "send an Idempotency-Key header",
                                  "Idempotency-Key"));
  if (!valid_key(*key))
    return respond(error_response(400, "invalid_idempotency_key",
                                  "1 to 255 visible ASCII characters", "Idempotency-Key"));
  auto running = std::make_shared<InFlight>(*this, std::to_string(account) + "/" + *key);
  if (!running->claimed())
    return respond(error_response(409, "request_in_progress",
                                  "the first request with this key is still running",
                                  "Idempotency-Key"));
  auto claim = std::make_shared<Claim>(Claim{account, *key, request_hash(request)});
  auto answer = std::make_shared<std::optional<Response>>();
  // The work and the record of its answer commit together, or not at all.
  db_.write_async(
      [this, claim, answer, work = std::move(work)](db::Session& tx) -> Status {
        answer->reset();  // a retried transaction starts afresh
        if (auto replay = CUNHUO_TRY(earlier(tx, *claim))) {
          *answer = std::move(*replay);
          return {};
        }
        Response response = CUNHUO_TRY(work(tx));
        CUNHUO_CHECK(record(tx, *claim, response));
        *answer = std::move(response);
        return {};
      },
      [this, claim, answer, running, respond = std::move(respond)](Status outcome) {
        if (outcome.ok()) return respond(std::move(**answer));
        respond(settle_refusal(*claim, outcome.error()));
      });
}

Result<std::optional<Response>> Idempotency::replay(const Request& request, std::int64_t account) {
  auto key = request.header("idempotency-key");
  if (!key || !valid_key(*key))
    return std::optional<Response>();  // run() answers the missing or bad key
  const Claim claim{account, *key, request_hash(request)};
  // Before the provider is called: a first attempt answered through another Galera node a
  // moment ago must be found here, or the provider would be called twice.
  return db_.read([&](db::Session& s) -> Result<std::optional<Response>> {
    CUNHUO_CHECK(s.read_latest());
    return earlier(s, claim);
  });
}

Response Idempotency::run(const Request& request, std::int64_t account, Work work) {
  std::promise<Response> answered;
  auto future = answered.get_future();
  run_async(request, account, std::move(work),
            [&answered](Response r) { answered.set_value(std::move(r)); });
  return future.get();
}

}  // namespace cunhuo::storefront
