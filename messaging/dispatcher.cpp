#include "messaging/dispatcher.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "core/assert.hpp"
#include "core/json.hpp"
#include "messaging/gateway.hpp"

namespace cunhuo::messaging {

static_assert(kSmsClaimLeaseMs > 2 * kGatewayTimeoutMs, "a claim outlasts more than one send");
namespace {

constexpr std::size_t kMaxErrorText = 300;  // sms_queue.last_error

Result<SmsMessage> message_from(const db::Row& r) {
  SmsMessage m{.phone = r.str(2), .template_code = r.str(3), .params = {}};
  auto params = CUNHUO_TRY(Json::parse(r.str(4)));
  if (params.type() != Json::Type::object)
    return make_error(ErrorKind::internal, "bad_params", "stored parameters are not an object");
  for (const auto& [name, value] : params.as_object())
    if (value.type() == Json::Type::string) m.params.emplace_back(name, value.as_string());
  return m;
}

}  // namespace

std::int64_t sms_retry_delay_ms(int attempts) {
  CUNHUO_ASSERT(attempts >= 1);
  std::int64_t delay = kSmsRetryBaseMs;
  for (int i = 1; i < attempts && delay < kSmsRetryCapMs; ++i) delay *= 2;
  return std::min(delay, kSmsRetryCapMs);
}

// Claims one row at a time by moving its next attempt a lease ahead, only if no other
// process moved it first (the UPDATE's WHERE sees the value this pass read).
Result<std::vector<SmsDispatcher::Claimed>> SmsDispatcher::claim_due() {
  return db_.write([&](db::Session& tx) -> Result<std::vector<Claimed>> {
    const std::int64_t now = clock_.now_ms();
    auto rows =
        CUNHUO_TRY(tx.query("SELECT id, attempts, phone, template_code, params, next_attempt_at "
                            "FROM sms_queue WHERE status = 'queued' AND next_attempt_at <= ? "
                            "ORDER BY next_attempt_at, id LIMIT ?",
                            {now, kSmsBatch}));
    std::vector<Claimed> out;
    for (const auto& r : rows) {
      auto moved = CUNHUO_TRY(
          tx.exec("UPDATE sms_queue SET next_attempt_at = ? WHERE id = ? AND status = 'queued' "
                  "AND next_attempt_at = ?",
                  {now + kSmsClaimLeaseMs, r.i64(0), r.i64(5)}));
      if (moved.affected_rows != 1) continue;
      out.push_back(Claimed{.id = r.i64(0),
                            .attempts = static_cast<int>(r.i64(1)),
                            .claimed_until = now + kSmsClaimLeaseMs,
                            .message = CUNHUO_TRY(message_from(r))});
    }
    return out;
  });
}

Status SmsDispatcher::record(const Claimed& c, const Result<std::string>& outcome, SmsPass& pass) {
  const std::int64_t now = clock_.now_ms();
  const int attempts = c.attempts + 1;
  return db_.write([&](db::Session& tx) -> Status {
    if (outcome.ok()) {
      // A sent message's parameters are not kept: they may hold a one-time code.
      ++pass.sent;
      CUNHUO_TRY(tx.exec(
          "UPDATE sms_queue SET status = 'sent', attempts = ?, gateway_id = ?, sent_at = ?, "
          "params = '{}' WHERE id = ? AND next_attempt_at = ?",
          {attempts, *outcome, now, c.id, c.claimed_until}));
      return {};
    }
    // A gateway that refuses the message itself (a bad number, an unknown template) will
    // refuse it again: only an unavailable gateway is worth another try.
    const bool retry = outcome.error().kind == ErrorKind::unavailable && attempts < kMaxSmsAttempts;
    const std::string why =
        (outcome.error().code + ": " + outcome.error().message).substr(0, kMaxErrorText);
    if (retry) {
      ++pass.retrying;
      CUNHUO_TRY(tx.exec(
          "UPDATE sms_queue SET attempts = ?, next_attempt_at = ?, last_error = ? WHERE id = ? "
          "AND next_attempt_at = ?",
          {attempts, now + sms_retry_delay_ms(attempts), why, c.id, c.claimed_until}));
    } else {
      ++pass.parked;
      spdlog::warn("text message {} parked after {} attempts: {}", c.id, attempts, why);
      // A parked notification keeps its parameters for an operator to send again; a
      // one-time code has expired by then and is not kept.
      const bool forget = carries_one_time_code(c.message.template_code);
      CUNHUO_TRY(tx.exec(std::string("UPDATE sms_queue SET status = 'parked', attempts = ?, "
                                     "last_error = ?") +
                             (forget ? ", params = '{}'" : "") +
                             " WHERE id = ? AND next_attempt_at = ?",
                         {attempts, why, c.id, c.claimed_until}));
    }
    return {};
  });
}

Result<SmsPass> SmsDispatcher::run_once() {
  std::lock_guard lock(pass_mu_);
  SmsPass pass;
  for (const auto& c : CUNHUO_TRY(claim_due())) {
    // Too little of the claim left for one more send: the rest wait for their claims to end
    // and go in a later pass (here or elsewhere), never in two processes at once.
    if (clock_.now_ms() + kGatewayTimeoutMs >= c.claimed_until) break;
    auto outcome = sender_.send(c.message);  // no transaction open while the gateway answers
    CUNHUO_CHECK(record(c, outcome, pass));
  }
  return pass;
}

void SmsDispatcher::start() {
  std::lock_guard guard(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] {
    std::unique_lock lock(mu_);
    while (!stopping_) {
      lock.unlock();
      if (auto pass = run_once(); !pass.ok())
        spdlog::warn("sending text messages failed: {}", pass.error().message);
      lock.lock();
      cv_.wait_for(lock, std::chrono::milliseconds(kSmsPollMs),
                   [&] { return stopping_ || woken_; });
      woken_ = false;
    }
  });
}

void SmsDispatcher::wake() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

void SmsDispatcher::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace cunhuo::messaging
