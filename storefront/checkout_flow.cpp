#include "storefront/checkout_flow.hpp"

#include "marketplace/certification.hpp"
#include "marketplace/organisations.hpp"
#include "storefront/payments_routes.hpp"
#include "storefront/route_support.hpp"

namespace cunhuo::storefront {
namespace {

namespace mk = cunhuo::marketplace;
namespace pay = cunhuo::payments;

// An organisation's buyer orders against its budget; certified produce counts toward
// a public unit's required share.
Status charge_organisation(db::Session& tx, std::int64_t buyer, const mk::Checkout& checkout) {
  auto org = CUNHUO_TRY(mk::organisation_of_buyer(tx, buyer));
  if (!org) return {};
  for (const auto& order : checkout.orders) {
    Money certified;
    for (const auto& line : order.lines)
      if (CUNHUO_TRY(mk::certificate_of(tx, line.product)))
        certified = CUNHUO_TRY(certified.plus(line.line_total));
    CUNHUO_CHECK(mk::charge_order(tx, *org, order.id.value, order.total, certified));
  }
  return {};
}

}  // namespace

Result<mk::Checkout> check_out(db::Session& tx, const mk::CheckoutRequest& cart, const Clock& clock,
                               std::chrono::milliseconds payment_window) {
  auto checkout = CUNHUO_TRY(mk::place_checkout(tx, cart, clock, payment_window));
  CUNHUO_CHECK(charge_organisation(tx, cart.buyer, checkout));
  return checkout;
}

Result<pay::Intent> open_payment(db::Database& db, pay::PaymentProvider& provider,
                                 const Clock& clock, const Account& buyer, mk::CheckoutId id) {
  if (!provider.configured())  // no intent is opened for a provider that is not there
    return make_error(ErrorKind::unavailable, std::string(pay::kProviderUnavailable),
                      "no payment provider is configured: paying is not possible yet");
  std::int64_t expires_at_ms = 0;
  auto intent = CUNHUO_TRY(db.write([&](db::Session& tx) -> Result<pay::Intent> {
    auto checkout = CUNHUO_TRY(mk::find_checkout(tx, id));
    if (!checkout || checkout->buyer != buyer.id) return no_such("checkout");
    expires_at_ms = checkout->expires_at_ms;
    return pay::open_intent(tx, CUNHUO_TRY(payable_of(tx, *checkout)), provider.name(), clock);
  }));
  if (intent.pay_url.empty()) {
    auto made = CUNHUO_TRY(provider.create_payment(
        pay::PaymentRequest{intent.id, intent.amount, intent.currency,
                            "Cunhuo checkout " + std::to_string(id.value), expires_at_ms}));
    intent.provider_ref = made.provider_ref;
    intent.pay_url = made.pay_url;
  }
  return intent;
}

}  // namespace cunhuo::storefront
