// Checking out and opening a payment, as the API (POST /api/v1/orders, POST
// /api/v1/checkouts/:id/payments) and the buyer's pages both do it: one path to the store.
#pragma once

#include <chrono>

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "marketplace/orders.hpp"
#include "payments/intents.hpp"
#include "payments/provider.hpp"
#include "storefront/auth.hpp"

namespace cunhuo::storefront {

// Places the cart's orders (stock reserved by conditional decrements, no oversell) and,
// for an organisation's buyer, charges them against its budget; in `tx`.
Result<marketplace::Checkout> check_out(db::Session& tx, const marketplace::CheckoutRequest& cart,
                                        const Clock& clock,
                                        std::chrono::milliseconds payment_window);

// Opens (or finds) the checkout's payment intent and hands it to the provider, outside
// any transaction; the caller records the provider's answer (attach_provider_payment)
// with its idempotent answer. Another buyer's checkout is not_found.
Result<payments::Intent> open_payment(db::Database& db, payments::PaymentProvider& provider,
                                      const Clock& clock, const Account& buyer,
                                      marketplace::CheckoutId checkout);

}  // namespace cunhuo::storefront
