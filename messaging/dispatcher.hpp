// The background sender of queued text messages. A pass claims the due rows of sms_queue in
// a short transaction (moving their next attempt a lease ahead, so another process does not
// take them too), sends each OUTSIDE any transaction through the SmsSender, then records the
// outcome: sent (with the gateway's id), or a retry after an exponential back-off, or parked
// after kMaxSmsAttempts (or at once when the gateway refuses the message itself). A process
// that dies mid-send leaves its claim to expire: the message is sent again (at least once).
// A pass sends a claimed message only while its claim outlasts the longest send
// (kGatewayTimeoutMs), and records an outcome only while the row still carries its claim,
// so a slow gateway never lets another process claim and send the same text meanwhile.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "messaging/sms.hpp"

namespace cunhuo::messaging {

inline constexpr std::int64_t kSmsRetryBaseMs = 10'000;           // first retry after this
inline constexpr std::int64_t kSmsRetryCapMs = 30LL * 60 * 1000;  // back-off grows to this
inline constexpr std::int64_t kSmsClaimLeaseMs = 60'000;          // a claimed send's time to finish
inline constexpr int kSmsBatch = 50;                              // messages claimed per pass
inline constexpr std::int64_t kSmsPollMs = 1000;

// The wait before attempt `attempts + 1`, after `attempts` failed ones (>= 1).
std::int64_t sms_retry_delay_ms(int attempts);

struct SmsPass {
  int sent = 0, retrying = 0, parked = 0;
};

class SmsDispatcher {
 public:
  SmsDispatcher(db::Database& db, const Clock& clock, SmsSender& sender)
      : db_(db), clock_(clock), sender_(sender) {}
  ~SmsDispatcher() { stop(); }

  // One pass over the messages due now; what became of them. Passes in this process run one
  // at a time, so a test's pass returns after any pass the thread had begun.
  Result<SmsPass> run_once();
  void start();  // a pass every kSmsPollMs, or sooner when woken
  void stop();
  void wake();  // a message was queued: a pass now

 private:
  struct Claimed {
    std::int64_t id = 0;
    int attempts = 0;
    std::int64_t claimed_until = 0;  // the row's next_attempt_at while this pass holds it
    SmsMessage message;
  };
  Result<std::vector<Claimed>> claim_due();
  Status record(const Claimed& c, const Result<std::string>& outcome, SmsPass& pass);

  db::Database& db_;
  const Clock& clock_;
  SmsSender& sender_;
  std::mutex pass_mu_;  // one pass at a time
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false, woken_ = false;
  std::thread thread_;
};

}  // namespace cunhuo::messaging
