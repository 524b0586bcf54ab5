#include "messaging/sandbox.hpp"

namespace cunhuo::messaging {

Result<std::string> SandboxSms::send(const SmsMessage& message) {
  const std::string text = CUNHUO_TRY(render(message));
  const std::int64_t id = CUNHUO_TRY(db_.write([&](db::Session& tx) -> Result<std::int64_t> {
    CUNHUO_TRY(
        tx.exec("INSERT INTO sandbox_sms (phone, template_code, text, sent_at) VALUES (?, ?, ?, ?)",
                {message.phone, message.template_code, text, clock_.now_ms()}));
    return tx.last_insert_id();
  }));
  return "sandbox-" + std::to_string(id);
}

Result<std::vector<SandboxMessage>> SandboxSms::latest(const std::string& phone) {
  auto rows = CUNHUO_TRY(db_.read([&](db::Session& s) {
    return s.query(
        "SELECT id, phone, template_code, text, sent_at FROM sandbox_sms WHERE phone = ? "
        "ORDER BY id DESC LIMIT ?",
        {phone, static_cast<std::int64_t>(kMaxSandboxListed)});
  }));
  std::vector<SandboxMessage> out;
  for (const auto& r : rows)
    out.push_back(SandboxMessage{.id = r.i64(0),
                                 .phone = r.str(1),
                                 .template_code = r.str(2),
                                 .text = r.str(3),
                                 .sent_at_ms = r.i64(4)});
  return out;
}

}  // namespace cunhuo::messaging
