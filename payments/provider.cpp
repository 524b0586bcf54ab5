#include "payments/provider.hpp"

namespace cunhuo::payments {

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
