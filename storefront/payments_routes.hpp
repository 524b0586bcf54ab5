// Payments over HTTP: paying a checkout, the provider's signed callback, refund claims,
// household statements and their verification, payout accounts and batches, and daily
// reconciliation. Also the outbox handlers that join payments and the marketplace (paid,
// completed, refunded, spoiled).
#pragma once

#include <chrono>

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "core/outbox/outbox.hpp"
#include "marketplace/orders.hpp"
#include "payments/intents.hpp"
#include "payments/provider.hpp"
#include "payments/settlement.hpp"
#include "payments/signing.hpp"
#include "storefront/auth.hpp"
#include "storefront/cursor.hpp"
#include "storefront/http.hpp"
#include "storefront/route_table.hpp"
#include "storefront/idempotency.hpp"

namespace cunhuo::storefront {

namespace web {
class PageTable;
}

struct PaymentsContext {
  db::Database& db;
  const Clock& clock;
  Auth& auth;
  Idempotency& idempotency;
  payments::PaymentProvider& provider;
  bool sandbox;  // the provider is the payment sandbox: its money is not real
  const payments::SigningKey& statement_key;
  payments::FeeRules fees;
  outbox::Dispatcher& dispatcher;
  std::string photo_folder;  // where refund claims' photos are kept, beside listing photos
  const web::PageTable* pages = nullptr;  // the frame of the printable statement
  const CursorSeal* cursors = nullptr;    // the App's seal (App::cursors()): paged lists
};

void add_payments_routes(RouteTable& table, PaymentsContext context);

// What paying a checkout asks for: its orders, lines, producer shares and campaigns, as
// payments keeps them. A checkout with an order no longer pending payment is a 409.
Result<payments::Payable> payable_of(db::Session& s, const marketplace::Checkout& checkout);

// Topic a logistics excursion confirmed as spoilage publishes: {"order_id", "bearer"}.

// paid → orders paid (or refunded when they were cancelled meanwhile); completed →
// settlement; refunded in full → order refunded; spoiled → refund.

}  // namespace cunhuo::storefront
