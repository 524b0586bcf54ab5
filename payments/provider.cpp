#include "payments/provider.hpp"

#include <spdlog/spdlog.h>

#include <charconv>

#include "payments/signing.hpp"

namespace cunhuo::payments {

std::string notification_message(const Notification& n) {
  return n.timestamp + "\n" + n.nonce + "\n" + n.body + "\n";
}

Status NotificationVerifier::verify(const Notification& n, std::int64_t now_ms) const {
  auto refuse = [&](std::string code, std::string message) {
    spdlog::warn("payment notification refused: {}", message);
    return make_error(ErrorKind::unauthorized, std::move(code), std::move(message), "signature");
  };
  auto key = keys_.find(n.serial);
  if (key == keys_.end())
    return refuse("unknown_key", "no provider key with serial '" + n.serial.substr(0, 32) + "'");
  std::int64_t seconds = 0;
  auto [end, ec] =
      std::from_chars(n.timestamp.data(), n.timestamp.data() + n.timestamp.size(), seconds);
  if (ec != std::errc{} || end != n.timestamp.data() + n.timestamp.size() || n.timestamp.empty())
    return refuse("bad_timestamp", "the timestamp is not a number of seconds");
  if (seconds > INT64_MAX / 2000 || seconds < 0 ||
      std::llabs(seconds * 1000 - now_ms) > kNotificationSkewMs)
    return refuse("stale", "the timestamp is more than 5 minutes from now");
  if (!signature_valid(key->second, notification_message(n), n.signature))
    return refuse("bad_signature", "the signature does not verify");
  return {};
}

namespace {

Error unavailable() {
  return make_error(ErrorKind::unavailable, std::string(kProviderUnavailable),
                    "no payment provider is configured (the sandbox is off)");
}

}  // namespace

Result<ProviderPayment> NoProvider::create_payment(const PaymentRequest&) { return unavailable(); }
Result<std::string> NoProvider::refund(std::int64_t, Money, const std::string&) {
  return unavailable();
}
Result<std::vector<BillLine>> NoProvider::bill(const std::string&) { return unavailable(); }
Result<Notification> NoProvider::open_notification(const Notification&) { return unavailable(); }

}  // namespace cunhuo::payments
