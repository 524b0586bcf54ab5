#include "payments/provider.hpp"

namespace cunhuo::payments {

namespace {

Error unavailable() {
  return make_error(ErrorKind::unavailable, std::string(kProviderUnavailable),
                    "no payment provider is configured (the sandbox is off)");
}

}  // namespace

Result<ProviderPayment> NoProvider::create_payment(const PaymentRequest&) { return unavailable(); }
Result<ProviderRefund> NoProvider::refund(std::int64_t, Money, const std::string&) {
  return unavailable();
}
Result<ProviderRefund> NoProvider::query_refund_state(const std::string&) { return unavailable(); }

Result<CloseOutcome> PaymentProvider::close_payment(std::int64_t) { return unavailable(); }

Result<std::optional<ProviderPaid>> PaymentProvider::query_paid(std::int64_t) {
  return unavailable();
}

std::string_view to_string(CloseOutcome outcome) {
  return outcome == CloseOutcome::paid ? "paid" : "closed";
}

std::string_view to_string(RefundState state) {
  switch (state) {
    case RefundState::processing: return "processing";
    case RefundState::succeeded: return "succeeded";
    case RefundState::abnormal: return "abnormal";
    case RefundState::closed: return "closed";
  }
  return "processing";
}
Result<std::vector<BillLine>> NoProvider::bill(const std::string&) { return unavailable(); }
Result<Notification> NoProvider::open_notification(const Notification&) { return unavailable(); }

}  // namespace cunhuo::payments
