// The text message sandbox: a sender that sends nothing, and keeps each message's text so a
// demonstration (and a test) can read the code a phone "received" at GET /sim/sms. It exists
// only with `--sms sandbox` (unset: for a demonstration or a sample store), and, like the
// payment sandbox, only where the service is not reached from outside unless --demo
// (storefront/app.cpp check_sms_config).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "messaging/sms.hpp"

namespace cunhuo::messaging {

inline constexpr std::size_t kMaxSandboxListed = 20;  // messages GET /sim/sms shows

struct SandboxMessage {
  std::int64_t id = 0;
  std::string phone, template_code, text;
  std::int64_t sent_at_ms = 0;
};

class SandboxSms final : public SmsSender {
 public:
  SandboxSms(db::Database& db, const Clock& clock) : db_(db), clock_(clock) {}
  Result<std::string> send(const SmsMessage& message) override;
  // The latest messages to `phone`, newest first, at most kMaxSandboxListed.
  Result<std::vector<SandboxMessage>> latest(const std::string& phone);

 private:
  db::Database& db_;
  const Clock& clock_;
};

}  // namespace cunhuo::messaging
